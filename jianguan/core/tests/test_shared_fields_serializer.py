"""``SharedFieldsSerializer``: fields built once per class, validation and errors exactly as a plain serializer's."""

from __future__ import annotations

import threading

import pytest
from rest_framework import serializers

from jianguan.core.api.serializers import SharedFieldsSerializer


class Plain(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    kind = serializers.ChoiceField(choices=["a", "b"])
    when = serializers.DateField(required=False, allow_null=True)
    score = serializers.FloatField(required=False, min_value=0, max_value=1)
    email = serializers.EmailField(required=False, allow_blank=True)
    flag = serializers.BooleanField(required=False, default=False)

    def validate_name(self, value: str) -> str:
        if value == "bad":
            raise serializers.ValidationError("no bad names")
        return value.upper()


class Shared(SharedFieldsSerializer, Plain):
    pass


CASES = [
    {"name": "abc", "kind": "a"},
    {"name": "abc", "kind": "a", "when": "2026-12-02", "score": 0.5, "email": "x@example.com", "flag": "true"},
    {"name": "abcdefg", "kind": "c", "when": "yesterday", "score": 3, "email": "nope"},
    {"name": "bad", "kind": "b"},
    {},
    {"kind": ["a"], "name": None},
]


@pytest.mark.parametrize("data", CASES)
def test_same_answers_as_a_plain_serializer(data) -> None:
    plain, shared = Plain(data=data), Shared(data=data)
    assert plain.is_valid() == shared.is_valid()
    assert dict(plain.errors) == dict(shared.errors)
    if not plain.errors:
        assert dict(plain.validated_data) == dict(shared.validated_data)


def test_fields_are_built_once_and_instances_stay_independent() -> None:
    first, second = Shared(data={"name": "abc", "kind": "a"}), Shared(data={"name": "abcdefgh", "kind": "z"})
    assert first.fields is second.fields
    assert first.is_valid() and not second.is_valid()
    assert first.validated_data["name"] == "ABC" and set(second.errors) == {"name", "kind"}


def test_concurrent_validation_gives_each_request_its_own_result() -> None:
    results: dict[int, object] = {}

    def check(n: int) -> None:
        serializer = Shared(data={"name": f"n{n % 1000}", "kind": "ab"[n % 2]})
        results[n] = serializer.validated_data["kind"] if serializer.is_valid() else serializer.errors

    threads = [threading.Thread(target=check, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: "ab"[n % 2] for n in range(40)}


def test_only_plain_fields_can_be_shared() -> None:
    class Nested(SharedFieldsSerializer):
        inner = Plain()

    with pytest.raises(TypeError, match="only plain fields"):
        Nested(data={}).is_valid()

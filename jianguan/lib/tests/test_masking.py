"""Tests for :mod:`jianguan.lib.masking`."""

from __future__ import annotations

import pytest

from jianguan.lib.masking import mask_address, mask_id_number, mask_name, mask_phone, mask_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("张三", "张*"), ("欧阳娜娜", "欧***"), ("李", "李"), ("", ""), (None, ""), (" 王小明 ", "王**")],
)
def test_it_masks_names(value: str | None, expected: str) -> None:
    assert mask_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("32010219900101123X", "3201**********123X"), ("11010519491231002X", "1101**********002X"), (None, ""), ("", "")],
)
def test_it_masks_id_numbers(value: str | None, expected: str) -> None:
    assert mask_id_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("13812345678", "138****5678"), (" 13812345678 ", "138****5678"), (None, ""), ("", ""), ("1234567", "*******")],
)
def test_it_masks_phone_numbers(value: str | None, expected: str) -> None:
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("江苏省南京市鼓楼区中山路1号", "江苏省南京市****"),
        ("南京市", "南京市****"),
        (None, ""),
        ("", ""),
        ("   ", ""),
    ],
)
def test_it_masks_addresses(value: str | None, expected: str) -> None:
    assert mask_address(value) == expected


def test_it_masks_generic_text() -> None:
    assert mask_text("abcdefgh", 2, 3) == "ab***fgh"
    assert mask_text("abcdefgh", 0, 2) == "******gh"
    assert mask_text("abcdefgh", 3, 0) == "abc*****"
    assert mask_text(None, 1, 1) == ""
    assert mask_text("", 1, 1) == ""


def test_it_masks_everything_when_nothing_could_be_hidden() -> None:
    assert mask_text("abcd", 2, 2) == "****"
    assert mask_text("ab", 2, 2) == "**"


def test_it_refuses_negative_keep_counts() -> None:
    with pytest.raises(ValueError, match="negative"):
        mask_text("abc", -1, 0)

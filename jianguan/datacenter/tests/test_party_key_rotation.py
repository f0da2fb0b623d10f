"""A behaviour record's party ID number is encrypted with a blind index beside it; after a key rotation
``jianguan keys rotate`` re-encrypts the number and recomputes the index, so the record is found by ID number again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from jianguan.core.fields import blind_index
from jianguan.core.testing import keys
from jianguan.datacenter.models import AdministrativePenalty
from jianguan.datacenter.tests.conftest import ingest, make_source, write_csv
from jianguan.datacenter.tests.test_record_libraries import PENALTY_HEADER, _penalty
from jianguan.lib.validators import make_id_number

pytestmark = pytest.mark.django_db
field_keys = keys.field_keys  # the fixture


def test_a_penalty_is_found_by_the_party_id_number_after_the_rotation(
        field_keys, data_admin, tmp_path, django_capture_on_commit_callbacks) -> None:
    field_keys("k0")
    source = make_source(data_admin, code="nj-penalties", library="behaviours", options={"behaviour": "penalties"})
    person = make_id_number("32010619850101001")
    path = write_csv(tmp_path / "penalties.csv", PENALTY_HEADER,
                     [_penalty("CF2026002", person, party="张三", nature="自然人", cred="身份证")])
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message

    field_keys("k1", "k0")
    assert not AdministrativePenalty.objects.filter(party_id_index=blind_index(person)).exists()
    call_command("keys", "rotate", stdout=StringIO())
    field_keys("k1")  # the old key retired
    record = AdministrativePenalty.objects.get(party_id_index=blind_index(person))
    assert record.party_id_number == person

"""Sealed files (Tink streaming AEAD under keys derived from the field key ring): what goes in comes out, and a file
changed, cut short, moved to another place or under an unknown key does not open."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from jianguan.lib.crypto import CryptoError, FieldCipher
from jianguan.lib.filecrypt import MAGIC, FileCipher, is_sealed, sealed_key_id

SECRETS = {"k1": hashlib.sha256(b"one").digest(), "k2": hashlib.sha256(b"two").digest()}
AD = b"datacenter.batch:00000001:input"
PLAIN = (b"uscc,name,phone\n" + b"91320106000000001X,\xe5\x8d\x97\xe4\xba\xac,13800000001\n" * 100_000)  # ~4.5 MB


def cipher(active: str = "k1", *ids: str) -> FileCipher:
    keys = {k: SECRETS[k] for k in (active, *ids)}
    return FileCipher.from_field_cipher(FieldCipher(keys, active, algorithm="aes-256-gcm"))


@pytest.fixture
def sealed(tmp_path: Path) -> Path:
    source = tmp_path / "plain.csv"
    source.write_bytes(PLAIN)
    target = tmp_path / "input.csv.sealed"
    digest = cipher().encrypt_file(source, target, associated_data=AD)
    assert digest == hashlib.sha256(PLAIN).hexdigest()
    return target


def test_it_round_trips_a_file_larger_than_a_segment(sealed: Path, tmp_path: Path) -> None:
    assert sealed.read_bytes().startswith(MAGIC)
    assert b"13800000001" not in sealed.read_bytes()
    assert sealed.stat().st_mode & 0o777 == 0o600
    assert cipher().decrypt_bytes(sealed, associated_data=AD) == PLAIN
    out = tmp_path / "out.csv"
    assert cipher().decrypt_to_file(sealed, out, associated_data=AD) == len(PLAIN)
    assert out.read_bytes() == PLAIN and out.stat().st_mode & 0o777 == 0o600
    assert sealed_key_id(sealed) == "k1" and is_sealed(sealed)


def test_an_empty_file_round_trips(tmp_path: Path) -> None:
    target = tmp_path / "empty.sealed"
    cipher().encrypt_bytes(b"", target, associated_data=AD)
    assert cipher().decrypt_bytes(target, associated_data=AD) == b""


@pytest.mark.parametrize("damage", ["flip", "truncate", "truncate_segment", "append", "swap_segments", "key_id"])
def test_a_damaged_file_does_not_open(sealed: Path, tmp_path: Path, damage: str) -> None:
    data = bytearray(sealed.read_bytes())
    segment = 1 << 20
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    elif damage == "truncate":
        del data[-20:]
    elif damage == "truncate_segment":  # cut exactly after the first full segments
        del data[segment * 2:]
    elif damage == "append":
        data += data[-100:]
    elif damage == "swap_segments":
        start = 100
        first, second = data[start:start + segment], data[start + segment:start + 2 * segment]
        data[start:start + 2 * segment] = second + first
    else:
        data[len(MAGIC) + 3] = ord("2")  # header says k2 (which is in the ring)
    broken = tmp_path / "broken.sealed"
    broken.write_bytes(bytes(data))
    with pytest.raises(CryptoError):
        cipher("k1", "k2").decrypt_bytes(broken, associated_data=AD)
    out = tmp_path / "out.csv"
    with pytest.raises(CryptoError):
        cipher("k1", "k2").decrypt_to_file(broken, out, associated_data=AD)
    assert not out.exists()  # no partial plaintext left behind
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_file_moved_to_another_place_does_not_open(sealed: Path) -> None:
    with pytest.raises(CryptoError, match="failed authentication"):
        cipher().decrypt_bytes(sealed, associated_data=b"datacenter.batch:00000002:input")


def test_a_file_under_a_key_the_ring_lacks_does_not_open(sealed: Path) -> None:
    with pytest.raises(CryptoError, match="not in the key ring"):
        cipher("k2").decrypt_bytes(sealed, associated_data=AD)


def test_reencrypt_moves_a_file_to_the_active_key(sealed: Path) -> None:
    rotated = cipher("k2", "k1")
    assert rotated.decrypt_bytes(sealed, associated_data=AD) == PLAIN  # the old key still in the ring reads it
    assert rotated.reencrypt(sealed, associated_data=AD) is True
    assert sealed_key_id(sealed) == "k2"
    assert rotated.reencrypt(sealed, associated_data=AD) is False
    assert cipher("k2").decrypt_bytes(sealed, associated_data=AD) == PLAIN  # k1 may leave the ring now


def test_a_clear_file_is_not_taken_for_a_sealed_one(tmp_path: Path) -> None:
    clear = tmp_path / "input.csv"
    clear.write_bytes(PLAIN)
    assert sealed_key_id(clear) is None and not is_sealed(clear)
    with pytest.raises(CryptoError, match="not a sealed file"):
        cipher().decrypt_bytes(clear, associated_data=AD)


def test_file_keys_are_not_the_field_keys() -> None:
    field = FieldCipher(SECRETS, "k1", algorithm="aes-256-gcm")
    file_key = field.derive_key(b"jianguan-file-stream")
    assert len(file_key) == 32 and file_key != field._keys["k1"].aes and file_key != SECRETS["k1"]
    assert field.derive_key(b"jianguan-file-stream", key_id="k2") != file_key
    with pytest.raises(CryptoError):
        field.derive_key(b"jianguan-aes")


def test_streams_are_written_in_blocks(tmp_path: Path) -> None:
    seen: list[int] = []
    target = tmp_path / "big.sealed"
    data = os.urandom(3 * (1 << 20) + 7)
    size = cipher().encrypt_stream(io.BytesIO(data), target, associated_data=AD, on_block=lambda b: seen.append(len(b)))
    assert size == len(data) and max(seen) <= 1 << 20 and len(seen) == 4
    assert cipher().decrypt_bytes(target, associated_data=AD) == data

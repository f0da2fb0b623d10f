"""Tests for :mod:`jianguan.lib.crypto`."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from jianguan.lib.crypto import (
    ALGORITHM_AES_256_GCM,
    ALGORITHM_SM4_GCM,
    CryptoError,
    FieldCipher,
    digest,
    is_token,
    preferred_hash_algorithm,
    sm3_available,
    sm4_gcm_supported,
)

OLD_KEY = b"o" * 32
NEW_KEY = bytes(range(48))

needs_sm4 = pytest.mark.skipif(not sm4_gcm_supported(), reason="OpenSSL build has no SM4-GCM")
needs_sm3 = pytest.mark.skipif(not sm3_available(), reason="OpenSSL build has no SM3")

ALGORITHMS = [pytest.param(ALGORITHM_SM4_GCM, marks=needs_sm4), ALGORITHM_AES_256_GCM]


def _cipher(algorithm: str = "auto", active: str = "k1") -> FieldCipher:
    """A cipher with two keys, ``k1`` and ``k2``."""
    return FieldCipher({"k1": OLD_KEY, "k2": NEW_KEY}, active, algorithm)


def _flip_payload_byte(token: str, index: int) -> str:
    """Flip one bit in the decoded payload of ``token`` and re-encode it."""
    header, payload = token.rsplit("$", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[index] ^= 0x01
    return f"{header}${base64.urlsafe_b64encode(bytes(raw)).decode('ascii')}"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_round_trips_text(algorithm: str) -> None:
    cipher = _cipher(algorithm)
    for text in ["", "张三", "32010219900101123X", "a" * 1000, "江苏省南京市鼓楼区中山路1号 🏢"]:
        token = cipher.encrypt(text, associated_data=b"subject.id_number:1")
        assert token.isascii()
        assert token.startswith(f"v1${algorithm}$k1$")
        assert is_token(token)
        assert FieldCipher.is_token(token)
        assert cipher.decrypt(token, associated_data=b"subject.id_number:1") == text


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_uses_a_fresh_nonce_each_time(algorithm: str) -> None:
    cipher = _cipher(algorithm)
    assert cipher.encrypt("张三") != cipher.encrypt("张三")


def test_it_picks_sm4_gcm_automatically_when_supported() -> None:
    expected = ALGORITHM_SM4_GCM if sm4_gcm_supported() else ALGORITHM_AES_256_GCM
    assert _cipher().algorithm == expected


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("index", [0, 11, 12, -17, -1])  # nonce, first ciphertext byte, tag
def test_it_detects_tampering(algorithm: str, index: int) -> None:
    cipher = _cipher(algorithm)
    token = cipher.encrypt("13812345678")
    with pytest.raises(CryptoError):
        cipher.decrypt(_flip_payload_byte(token, index))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_fails_with_wrong_associated_data(algorithm: str) -> None:
    cipher = _cipher(algorithm)
    token = cipher.encrypt("13812345678", associated_data=b"complaint.phone:1")
    with pytest.raises(CryptoError):
        cipher.decrypt(token, associated_data=b"complaint.phone:2")
    with pytest.raises(CryptoError):
        cipher.decrypt(token)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_authenticates_the_header(algorithm: str) -> None:
    cipher = _cipher(algorithm)
    token = cipher.encrypt("13812345678")
    with pytest.raises(CryptoError):
        cipher.decrypt(token.replace("$k1$", "$k2$", 1))
    other = ALGORITHM_AES_256_GCM if algorithm == ALGORITHM_SM4_GCM else ALGORITHM_SM4_GCM
    with pytest.raises(CryptoError):
        cipher.decrypt(token.replace(f"${algorithm}$", f"${other}$", 1))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_decrypts_old_tokens_after_key_rotation(algorithm: str) -> None:
    before = _cipher(algorithm, active="k1")
    token = before.encrypt("张三")
    after = _cipher(algorithm, active="k2")
    assert after.decrypt(token) == "张三"
    assert after.encrypt("张三").startswith(f"v1${algorithm}$k2$")


@needs_sm4
def test_it_decrypts_tokens_of_either_algorithm() -> None:
    sm4_token = _cipher(ALGORITHM_SM4_GCM).encrypt("张三")
    aes_token = _cipher(ALGORITHM_AES_256_GCM).encrypt("李四")
    assert _cipher(ALGORITHM_AES_256_GCM).decrypt(sm4_token) == "张三"
    assert _cipher(ALGORITHM_SM4_GCM).decrypt(aes_token) == "李四"


def test_it_refuses_tokens_for_keys_no_longer_in_the_ring() -> None:
    token = _cipher(active="k1").encrypt("张三")
    with pytest.raises(CryptoError, match="unknown key id"):
        FieldCipher({"k2": NEW_KEY}, "k2").decrypt(token)


def test_it_does_not_decrypt_with_a_different_secret_under_the_same_key_id() -> None:
    token = FieldCipher({"k1": OLD_KEY}, "k1").encrypt("张三")
    with pytest.raises(CryptoError):
        FieldCipher({"k1": NEW_KEY}, "k1").decrypt(token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "张三",
        "v1$aes-256-gcm$k1$",
        "v2$aes-256-gcm$k1$AAAA",
        "v1$des$k1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1$aes-256-gcm$k1$AAAA",
        "v1$aes-256-gcm$k1$not base64!",
        "v1$aes-256-gcm$k$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_it_refuses_malformed_tokens(token: str) -> None:
    assert not is_token(token)
    with pytest.raises(CryptoError):
        _cipher().decrypt(token)


def test_it_recognises_only_strings_as_tokens() -> None:
    assert not is_token(None)
    assert not is_token(b"v1$aes-256-gcm$k1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")


@pytest.mark.parametrize(
    ("keys", "active", "algorithm", "message"),
    [
        ({}, "k1", "auto", "empty"),
        ({"k1": b"x" * 31}, "k1", "auto", "too short"),
        ({"k1": "x" * 32}, "k1", "auto", "must be bytes"),
        ({"k1": OLD_KEY}, "k2", "auto", "not in the key ring"),
        ({"k$1": OLD_KEY}, "k$1", "auto", "invalid key id"),
        ({"": OLD_KEY}, "", "auto", "invalid key id"),
        ({"k1": OLD_KEY}, "k1", "des", "unknown algorithm"),
    ],
)
def test_it_refuses_bad_configuration(keys: dict[str, bytes], active: str, algorithm: str, message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        FieldCipher(keys, active, algorithm)


def test_it_does_not_show_keys_in_repr() -> None:
    text = repr(_cipher(ALGORITHM_AES_256_GCM))
    assert "aes-256-gcm" in text
    assert "ooo" not in text


@settings(database=None, max_examples=50)
@given(st.text(), st.binary(max_size=64))
def test_it_round_trips_any_text(text: str, associated_data: bytes) -> None:
    cipher = _cipher()
    assert (
        cipher.decrypt(cipher.encrypt(text, associated_data=associated_data), associated_data=associated_data) == text
    )


# --------------------------------------------------------------------------------------------------------------------
# SM4-GCM known answer (RFC 8998 appendix A.1): checks that cryptography's SM4-GCM is the standard one


@needs_sm4
def test_it_matches_the_rfc_8998_sm4_gcm_vector() -> None:
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex("".join(block * 8 for block in ["AA", "BB", "CC", "DD", "EE", "FF", "EE", "AA"]))
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    assert ciphertext.hex().upper() == (
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    assert encryptor.tag.hex().upper() == "83DE3541E4C2B58177E065A9BF7B62EC"


# --------------------------------------------------------------------------------------------------------------------
# Blind index


def test_it_computes_deterministic_key_dependent_blind_indexes() -> None:
    cipher = _cipher(active="k1")
    first = cipher.blind_index("32010219900101123X")
    assert first == cipher.blind_index("32010219900101123X")
    assert first == _cipher(ALGORITHM_AES_256_GCM, active="k1").blind_index("32010219900101123X")
    assert first != cipher.blind_index("32010219900101124X")
    assert first != _cipher(active="k2").blind_index("32010219900101123X")
    assert first == _cipher(active="k2").blind_index("32010219900101123X", key_id="k1")
    int(first, 16)  # hex
    assert len(first) == 64


def test_it_uses_hmac_sm3_for_blind_indexes_when_available() -> None:
    expected = "hmac-sm3" if sm3_available() else "hmac-sha256"
    assert _cipher().blind_index_algorithm == expected


def test_it_keeps_blind_indexes_apart_from_plain_hmacs_of_the_secret() -> None:
    index = _cipher(active="k1").blind_index("13812345678")
    for name in ("sm3", "sha256"):
        if name == "sm3" and not sm3_available():
            continue
        assert index != hmac.new(OLD_KEY, b"13812345678", name).hexdigest()


def test_it_refuses_blind_indexes_for_unknown_keys() -> None:
    with pytest.raises(CryptoError, match="unknown key id"):
        _cipher().blind_index("x", key_id="k9")


# --------------------------------------------------------------------------------------------------------------------
# Hash-chain helpers


def test_it_prefers_sm3_when_available() -> None:
    expected = "sm3" if "sm3" in hashlib.algorithms_available and sm3_available() else "sha256"
    assert preferred_hash_algorithm() == expected


@needs_sm3
def test_it_matches_the_gbt_32905_sm3_vector() -> None:
    assert digest("sm3", b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert digest("SM3", b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_it_computes_sha256_digests() -> None:
    assert digest("sha256", b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "shake_128", "nope", ""])
def test_it_refuses_unknown_digest_algorithms(algorithm: str) -> None:
    with pytest.raises(CryptoError):
        digest(algorithm, b"abc")

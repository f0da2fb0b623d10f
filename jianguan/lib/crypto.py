"""Field-level encryption, blind indexes and hash-chain digests (no Django).

Tokens look like ``v1$<alg>$<key_id>$<payload>`` where ``<alg>`` is ``sm4-gcm`` or ``aes-256-gcm`` and
``<payload>`` is URL-safe base64 (with ``=`` padding) of ``nonce (12 bytes) | ciphertext | tag (16 bytes)``.
The header ``v1$<alg>$<key_id>`` and the caller's ``associated_data`` are both authenticated, so a token cannot be
moved to another key, algorithm or record (when the caller passes e.g. ``b"table.column:pk"``) without failing.

Keys in the key ring are arbitrary secrets of at least 32 bytes. Working keys are derived from each with
HKDF-SHA256 (no salt): 16 bytes with ``info=b"jianguan-sm4"`` for SM4, 32 bytes with ``info=b"jianguan-aes"`` for
AES-256, and 32 bytes with ``info=b"jianguan-blind-index"`` for blind indexes; :meth:`FieldCipher.derive_key` gives
other users (``jianguan.lib.filecrypt``) keys of their own under their own ``info``. Decryption picks the algorithm
and key named in the token, so rotating the active key keeps old tokens readable while the key stays in the ring.

SM4 (GB/T 32907) and SM3 (GB/T 32905) depend on the OpenSSL build; the helpers below probe for them once and fall
back to AES-256-GCM and SHA-256 (DOMAIN.md §8.2).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "ALGORITHM_AES_256_GCM",
    "ALGORITHM_SM4_GCM",
    "DIGEST_ALGORITHMS",
    "TOKEN_VERSION",
    "CryptoError",
    "FieldCipher",
    "digest",
    "is_token",
    "preferred_hash_algorithm",
    "sm3_available",
    "sm4_gcm_supported",
]

ALGORITHM_SM4_GCM = "sm4-gcm"
ALGORITHM_AES_256_GCM = "aes-256-gcm"
TOKEN_VERSION = "v1"  # noqa: S105 - a format version, not a secret

_ALGORITHMS = frozenset({ALGORITHM_SM4_GCM, ALGORITHM_AES_256_GCM})
_MIN_KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_TOKEN_RE = re.compile(
    r"v1\$(?P<alg>sm4-gcm|aes-256-gcm)\$(?P<key_id>[A-Za-z0-9_.\-]{1,64})\$(?P<payload>[A-Za-z0-9_\-]+={0,2})"
)

_INFO_SM4 = b"jianguan-sm4"
_INFO_AES = b"jianguan-aes"
_INFO_BLIND_INDEX = b"jianguan-blind-index"
_RESERVED_INFO = frozenset({_INFO_SM4, _INFO_AES, _INFO_BLIND_INDEX})

DIGEST_ALGORITHMS = frozenset({"sm3", "sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"})
"""Algorithm names :func:`digest` accepts (fixed-length, not broken; ``sm3`` only when OpenSSL provides it)."""


class CryptoError(Exception):
    """Encryption or decryption failed: bad key, unknown key id, unsupported algorithm, tampered or malformed token."""


# --------------------------------------------------------------------------------------------------------------------
# Capability probes


@functools.cache
def sm4_gcm_supported() -> bool:
    """True when the OpenSSL build behind ``cryptography`` can do SM4 in GCM mode (probed once per process)."""
    try:
        key = bytes(16)
        nonce = bytes(_NONCE_BYTES)
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        ciphertext = encryptor.update(b"probe") + encryptor.finalize()
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, encryptor.tag)).decryptor()
        return decryptor.update(ciphertext) + decryptor.finalize() == b"probe"
    except (UnsupportedAlgorithm, AttributeError, ValueError, InvalidTag):
        return False


@functools.cache
def sm3_available() -> bool:
    """True when ``hashlib`` lists SM3 and can actually compute it (a FIPS provider may list it but refuse it)."""
    if "sm3" not in hashlib.algorithms_available:
        return False
    try:
        hashlib.new("sm3", b"")
    except ValueError:
        return False
    return True


def preferred_hash_algorithm() -> str:
    """``"sm3"`` when SM3 is available, else ``"sha256"``.

    Store the name next to each digest so a hash chain stays verifiable on a machine with a different OpenSSL build.
    """
    return "sm3" if sm3_available() else "sha256"


def digest(algorithm: str, data: bytes) -> str:
    """Hex digest of ``data`` with ``algorithm`` (one of :data:`DIGEST_ALGORITHMS`); raises :class:`CryptoError`."""
    name = algorithm.lower()
    if name not in DIGEST_ALGORITHMS:
        raise CryptoError(f"unknown digest algorithm: {algorithm!r}")
    if name == "sm3" and not sm3_available():
        raise CryptoError("SM3 is not available in this OpenSSL build")
    try:
        return hashlib.new(name, data).hexdigest()
    except ValueError as exc:  # the OpenSSL build lacks an algorithm hashlib usually has
        raise CryptoError(f"digest algorithm {algorithm!r} is not available: {exc}") from exc


def is_token(value: object) -> bool:
    """True when ``value`` is a string shaped like a token produced by :meth:`FieldCipher.encrypt`.

    Only the shape is checked (version, algorithm, key id, base64 payload long enough for nonce and tag); whether it
    decrypts is not.
    """
    if not isinstance(value, str):
        return False
    match = _TOKEN_RE.fullmatch(value)
    if match is None:
        return False
    return _decode_payload(match.group("payload")) is not None


def token_key_id(value: object) -> str | None:
    """The key id a token (see :func:`is_token`) was made with; None for a value that is no token."""
    if not is_token(value):
        return None
    match = _TOKEN_RE.fullmatch(str(value))
    return match.group("key_id") if match else None


# --------------------------------------------------------------------------------------------------------------------
# Internals


def _hkdf(secret: bytes, length: int, info: bytes) -> bytes:
    """Derive ``length`` bytes from ``secret`` with HKDF-SHA256, no salt, the given ``info``."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def _decode_payload(payload: str) -> bytes | None:
    """Decode a URL-safe base64 payload; None when malformed or too short to hold a nonce and a tag."""
    try:
        raw = base64.b64decode(payload.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        return None
    return raw


def _header(algorithm: str, key_id: str) -> str:
    """The authenticated token header ``v1$<alg>$<key_id>``."""
    return f"{TOKEN_VERSION}${algorithm}${key_id}"


def _aad(header: str, associated_data: bytes) -> bytes:
    """Associated data actually authenticated: the header, a ``$`` separator and the caller's data."""
    return header.encode("ascii") + b"$" + associated_data


class _DerivedKeys:
    """The working keys derived from one key-ring secret."""

    __slots__ = ("aes", "blind_index", "secret", "sm4")

    def __init__(self, secret: bytes) -> None:
        """Derive the SM4, AES and blind-index keys from ``secret`` (kept for :meth:`FieldCipher.derive_key`)."""
        self.secret = secret
        self.sm4 = _hkdf(secret, 16, _INFO_SM4)
        self.aes = _hkdf(secret, 32, _INFO_AES)
        self.blind_index = _hkdf(secret, 32, _INFO_BLIND_INDEX)


# --------------------------------------------------------------------------------------------------------------------
# FieldCipher


class FieldCipher:
    """Encrypts and decrypts text fields with a key ring; also computes blind indexes for equality lookups.

    ``keys`` maps key ids (1–64 characters from ``A–Z a–z 0–9 _ . -``) to secrets of at least 32 bytes;
    ``active_key_id`` names the key used for new tokens and blind indexes. ``algorithm`` is ``"sm4-gcm"``,
    ``"aes-256-gcm"`` or ``"auto"`` (SM4-GCM when the OpenSSL build supports it, else AES-256-GCM). Instances are
    immutable and safe to share between threads.
    """

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str, algorithm: str = "auto") -> None:
        """Validate the key ring, derive working keys and resolve ``algorithm``; raises :class:`CryptoError`."""
        if not keys:
            raise CryptoError("the key ring is empty")
        derived: dict[str, _DerivedKeys] = {}
        for key_id, secret in keys.items():
            if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
                raise CryptoError(f"invalid key id {key_id!r}: use 1-64 characters from A-Z a-z 0-9 _ . -")
            if not isinstance(secret, bytes | bytearray):
                raise CryptoError(f"key {key_id!r} must be bytes")
            if len(secret) < _MIN_KEY_BYTES:
                raise CryptoError(f"key {key_id!r} is too short: at least {_MIN_KEY_BYTES} bytes are required")
            derived[key_id] = _DerivedKeys(bytes(secret))
        if active_key_id not in derived:
            raise CryptoError(f"active key id {active_key_id!r} is not in the key ring")

        if algorithm == "auto":
            resolved = ALGORITHM_SM4_GCM if sm4_gcm_supported() else ALGORITHM_AES_256_GCM
        elif algorithm in _ALGORITHMS:
            resolved = algorithm
        else:
            raise CryptoError(f"unknown algorithm {algorithm!r}: use 'auto', 'sm4-gcm' or 'aes-256-gcm'")
        if resolved == ALGORITHM_SM4_GCM and not sm4_gcm_supported():
            raise CryptoError("SM4-GCM is not supported by this OpenSSL build")

        self._keys = derived
        self._active_key_id = active_key_id
        self._algorithm = resolved
        self._blind_index_digest = "sm3" if sm3_available() else "sha256"

    def __repr__(self) -> str:
        """Describe the cipher without revealing any key material."""
        return (
            f"FieldCipher(algorithm={self._algorithm!r}, active_key_id={self._active_key_id!r}, "
            f"key_ids={sorted(self._keys)!r})"
        )

    @property
    def algorithm(self) -> str:
        """The algorithm used for new tokens (``"sm4-gcm"`` or ``"aes-256-gcm"``)."""
        return self._algorithm

    @property
    def active_key_id(self) -> str:
        """The key id used for new tokens and blind indexes."""
        return self._active_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        """All key ids in the ring (those that can decrypt)."""
        return frozenset(self._keys)

    @property
    def blind_index_algorithm(self) -> str:
        """``"hmac-sm3"`` or ``"hmac-sha256"``: store it with the indexes, they differ between the two."""
        return f"hmac-{self._blind_index_digest}"

    is_token = staticmethod(is_token)

    def encrypt(self, plaintext: str, *, associated_data: bytes = b"") -> str:
        """Encrypt ``plaintext`` (UTF-8) with the active key and a random 12-byte nonce; return an ASCII token."""
        header = _header(self._algorithm, self._active_key_id)
        keys = self._keys[self._active_key_id]
        nonce = os.urandom(_NONCE_BYTES)
        aad = _aad(header, associated_data)
        data = plaintext.encode("utf-8")
        if self._algorithm == ALGORITHM_SM4_GCM:
            encryptor = Cipher(algorithms.SM4(keys.sm4), modes.GCM(nonce)).encryptor()
            encryptor.authenticate_additional_data(aad)
            sealed = encryptor.update(data) + encryptor.finalize() + encryptor.tag
        else:
            sealed = AESGCM(keys.aes).encrypt(nonce, data, aad)
        payload = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{header}${payload}"

    def decrypt(self, token: str, *, associated_data: bytes = b"") -> str:
        """Decrypt a token made by :meth:`encrypt` with any key in the ring; raises :class:`CryptoError` on failure."""
        match = _TOKEN_RE.fullmatch(token) if isinstance(token, str) else None
        if match is None:
            raise CryptoError("not an encrypted token")
        algorithm, key_id = match.group("alg"), match.group("key_id")
        raw = _decode_payload(match.group("payload"))
        if raw is None:
            raise CryptoError("malformed token payload")
        keys = self._keys.get(key_id)
        if keys is None:
            raise CryptoError(f"unknown key id {key_id!r}")
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        aad = _aad(_header(algorithm, key_id), associated_data)
        try:
            if algorithm == ALGORITHM_SM4_GCM:
                if not sm4_gcm_supported():
                    raise CryptoError("SM4-GCM is not supported by this OpenSSL build")
                ciphertext, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
                decryptor = Cipher(algorithms.SM4(keys.sm4), modes.GCM(nonce, tag)).decryptor()
                decryptor.authenticate_additional_data(aad)
                data = decryptor.update(ciphertext) + decryptor.finalize()
            else:
                data = AESGCM(keys.aes).decrypt(nonce, sealed, aad)
        except InvalidTag as exc:
            raise CryptoError("token failed authentication (tampered, wrong key or wrong associated data)") from exc
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:  # pragma: no cover - only reachable with a forged but authentic token
            raise CryptoError("decrypted data is not UTF-8") from exc

    def derive_key(self, info: bytes, *, key_id: str | None = None, length: int = 32) -> bytes:
        """Key material for another purpose than fields (e.g. whole files), derived from a ring key with
        HKDF-SHA256 (no salt) and the caller's own ``info`` label, so it is independent of the field and blind-index
        keys. ``key_id`` defaults to the active key; raises :class:`CryptoError` for an unknown key id or a label
        the cipher uses itself."""
        if not info or info in _RESERVED_INFO:
            raise CryptoError(f"the HKDF info label {info!r} is empty or reserved for the field cipher")
        chosen = self._active_key_id if key_id is None else key_id
        keys = self._keys.get(chosen)
        if keys is None:
            raise CryptoError(f"unknown key id {chosen!r}")
        return _hkdf(keys.secret, length, info)

    def blind_index(self, value: str, *, key_id: str | None = None) -> str:
        """Keyed hex HMAC (HMAC-SM3 when available, else HMAC-SHA256) of ``value`` for equality lookups.

        Uses a key derived separately from the encryption keys. ``key_id`` defaults to the active key; pass an old
        key id to compute the index a record was stored with while re-indexing after a rotation. The value is
        hashed exactly as given: normalise it first (for example with a ``validate_*`` function).
        """
        chosen = self._active_key_id if key_id is None else key_id
        keys = self._keys.get(chosen)
        if keys is None:
            raise CryptoError(f"unknown key id {chosen!r}")
        return hmac.new(keys.blind_index, value.encode("utf-8"), self._blind_index_digest).hexdigest()

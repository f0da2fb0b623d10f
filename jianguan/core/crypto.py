"""Django glue for ``jianguan.lib.crypto``: the process-wide field cipher built from settings, and the file cipher
(``jianguan.lib.filecrypt``) whose keys are derived from the same key ring."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from jianguan.lib.crypto import FieldCipher
from jianguan.lib.filecrypt import FileCipher


def parse_keys(spec: str) -> tuple[dict[str, bytes], str]:
    keys: dict[str, bytes] = {}
    active = ""
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id:
            raise ImproperlyConfigured("JIANGUAN_FIELD_KEYS must look like id:base64key[,id2:base64key]")
        try:
            keys[key_id] = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ImproperlyConfigured(f"JIANGUAN_FIELD_KEYS: key {key_id!r} is not valid base64") from None
        active = active or key_id
    return keys, active


@lru_cache(maxsize=1)
def field_cipher() -> FieldCipher:
    """The cipher for personal data at rest (SM4-GCM where OpenSSL offers it, else AES-256-GCM)."""
    spec = settings.FIELD_ENCRYPTION_KEYS
    if spec:
        keys, active = parse_keys(spec)
    else:
        # Embedded mode: a key derived from SECRET_KEY so the demo works with no configuration.
        derived = hashlib.sha256(b"jianguan-field-key:" + settings.SECRET_KEY.encode()).digest()
        keys, active = {"k0": derived}, "k0"
    return FieldCipher(keys, active, algorithm=settings.FIELD_ENCRYPTION_ALGORITHM)


def file_cipher() -> FileCipher:
    """The cipher for whole files at rest (the data centre's batch store): Tink streaming AEAD under keys derived
    from the field key ring (same key ids, its own HKDF label), following :func:`field_cipher` when its cache is
    dropped (a key rotation in tests, a settings change)."""
    return _file_cipher_for(field_cipher())


@lru_cache(maxsize=4)
def _file_cipher_for(cipher: FieldCipher) -> FileCipher:
    return FileCipher.from_field_cipher(cipher)

"""A fixture to change the field-key ring in a test (``JIANGUAN_FIELD_KEYS``), as an operator rotating keys does.

``k0`` is the embedded-mode key (derived from ``SECRET_KEY``, what tokens are under when no keys are configured);
any other id gets a key derived from its name. ``field_keys("k1", "k0")`` makes ``k1`` active with ``k0`` still in
the ring; the cached cipher is dropped each time and after the test.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jianguan.core.crypto import field_cipher


def key_secret(key_id: str, secret_key: str) -> bytes:
    if key_id == "k0":
        return hashlib.sha256(b"jianguan-field-key:" + secret_key.encode()).digest()
    return hashlib.sha256(f"test field key {key_id}".encode()).digest()


@pytest.fixture
def field_keys(settings: Any) -> Iterator[Callable[..., None]]:
    """Call with key ids, the active one first, to make them the ring."""

    def use(*key_ids: str) -> None:
        settings.FIELD_ENCRYPTION_KEYS = ",".join(
            f"{k}:{base64.b64encode(key_secret(k, settings.SECRET_KEY)).decode()}" for k in key_ids)
        field_cipher.cache_clear()
        assert field_cipher().active_key_id == key_ids[0]

    field_cipher.cache_clear()
    yield use
    field_cipher.cache_clear()

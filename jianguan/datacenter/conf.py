"""Settings of the data centre, read from the environment (``JIANGUAN_*``) with safe defaults.

``JIANGUAN_PIPELINE_ENGINE``      ``duckdb`` (default) or ``spark``
``JIANGUAN_DATACENTER_STORE``     where delivered files and their prepared copies are kept (default
                                  ``$JIANGUAN_VAR_DIR/datacenter``; a shared volume when several workers run)
``JIANGUAN_DATACENTER_ALLOW_PRIVATE_URLS``  ``True`` lets pulls reach private addresses (tests, intranets)
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from jianguan.datacenter.pipeline.engines import EngineConfigError, configured_engine_name


def engine_name() -> str:
    try:
        return configured_engine_name()
    except EngineConfigError as exc:
        raise ImproperlyConfigured(str(exc)) from None


def store_dir() -> Path:
    configured = os.environ.get("JIANGUAN_DATACENTER_STORE")
    path = Path(configured) if configured else Path(settings.VAR_DIR) / "datacenter"
    path.mkdir(parents=True, exist_ok=True)
    return path


def batch_dir(batch_id: int) -> Path:
    path = store_dir() / "batches" / f"{batch_id:08d}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def phone_pepper(key_id: str | None = None) -> str:
    """The secret in the keyed hash of phones on master records (``core.Subject.phone_index``), derived from the
    platform's blind-index key: the same phone gives the same key in every batch, and nobody without the key can
    test a number against it. ``key_id`` names a key of the ring other than the active one (the pepper before a
    rotation, for ``jianguan datacenter rekey-phones``)."""
    from jianguan.core.crypto import field_cipher

    return field_cipher().blind_index("datacenter:subject-phone", key_id=key_id)


def fingerprint_key(key_id: str | None = None) -> str:
    """The secret of the rows' fingerprints (``runner.fingerprint``: quarantined rows and links, to recognise a
    row delivered again), derived from the platform's blind-index key like :func:`phone_pepper` but under a label of
    its own, so it is not the phones' key. ``key_id`` names a key of the ring other than the active one."""
    from jianguan.core.crypto import field_cipher

    return field_cipher().blind_index("datacenter:row-fingerprint", key_id=key_id)


def fingerprint_keys() -> tuple[str, ...]:
    """The fingerprint secret under every key of the ring, the active one first: a row's fingerprint is stored
    under the first and recognised under any, so rows fingerprinted before the active key changed still match until
    ``jianguan keys rotate`` has recomputed them (``personal.refingerprint_rows``)."""
    from jianguan.core.crypto import field_cipher

    cipher = field_cipher()
    others = sorted(cipher.key_ids - {cipher.active_key_id})
    return tuple(fingerprint_key(key_id) for key_id in (cipher.active_key_id, *others))

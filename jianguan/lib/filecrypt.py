"""Whole-file authenticated encryption at rest, streamed (no Django): Google Tink's streaming AEAD.

A sealed file is a short header of ours followed by a Tink AES-GCM-HKDF streaming ciphertext::

    b"JGSF"  version (1 byte, 1)  key id length n (1 byte)  key id (n ASCII bytes)  Tink ciphertext …

Tink (``AES256_GCM_HKDF_1MB``-shaped parameters: AES-256-GCM, HKDF-SHA256, 1 MiB ciphertext segments) derives a
key of its own for each file from the key material, a random 32-byte salt and the associated data, and seals the
file in segments whose nonces carry a segment counter and a last-segment flag: a changed byte, a segment dropped,
reordered or appended, and a file cut short all fail authentication (Tink's "nOAE" online authenticated encryption,
https://developers.google.com/tink/streaming-aead/aes_gcm_hkdf_streaming). The associated data Tink gets is our
header, a ``$`` and the caller's associated data (e.g. ``b"datacenter.batch:00000012:input"``), so neither the key
id in the header nor the file's place (batch, role) can be changed or swapped with another file's without failing.

Keys: one 32-byte key per key id of the platform's field key ring, each derived from the ring's secret with
HKDF-SHA256 under ``info=b"jianguan-file-stream"`` (:meth:`FileCipher.from_field_cipher`, via
:meth:`jianguan.lib.crypto.FieldCipher.derive_key`), never the field or blind-index keys themselves. New files are
sealed under the active key; a file is opened with the key its header names, so after a rotation old files stay
readable while their key is in the ring, and :meth:`FileCipher.reencrypt` moves one to the active key.

Memory stays bounded: files are read and written in 1 MiB blocks. Writes go to a temporary file of mode 0600 beside
the target, renamed over it only once complete. Any failure raises :class:`jianguan.lib.crypto.CryptoError`; a
decryption that fails part-way may already have written some plaintext to the caller's stream, so the caller must
discard what it got (:meth:`FileCipher.decrypt_to_file` removes its output itself).
"""

from __future__ import annotations

import functools
import hashlib
import os
import queue
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Protocol

from jianguan.lib.crypto import CryptoError, FieldCipher

__all__ = [
    "BLOCK",
    "FILE_KEY_INFO",
    "MAGIC",
    "FileCipher",
    "is_sealed",
    "sealed_key_id",
]

MAGIC = b"JGSF"
VERSION = 1
FILE_KEY_INFO = b"jianguan-file-stream"
BLOCK = 1 << 20
_SEGMENT = 1 << 20
_KEY_BYTES = 32
_TYPE_URL = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@functools.cache
def _tink() -> Any:
    """Tink's streaming AEAD, registered once (imported lazily: it loads a native library)."""
    from tink import streaming_aead

    streaming_aead.register()
    return streaming_aead


def _primitive(key: bytes) -> Any:
    """A Tink ``StreamingAead`` over one AES-GCM-HKDF streaming key with the given key material."""
    import tink
    from tink import secret_key_access
    from tink.proto import aes_gcm_hkdf_streaming_pb2, common_pb2, tink_pb2

    streaming_aead = _tink()
    params = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
        ciphertext_segment_size=_SEGMENT, derived_key_size=_KEY_BYTES, hkdf_hash_type=common_pb2.SHA256)
    proto_key = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(version=0, params=params, key_value=key)
    keyset = tink_pb2.Keyset(primary_key_id=1, key=[tink_pb2.Keyset.Key(
        key_data=tink_pb2.KeyData(type_url=_TYPE_URL, value=proto_key.SerializeToString(),
                                  key_material_type=tink_pb2.KeyData.SYMMETRIC),
        status=tink_pb2.ENABLED, key_id=1, output_prefix_type=tink_pb2.RAW)])
    handle = tink.proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN)
    return handle.primitive(streaming_aead.StreamingAead)


def _header(key_id: str) -> bytes:
    raw = key_id.encode("ascii")
    return MAGIC + bytes([VERSION, len(raw)]) + raw


def _read_header(fh: IO[bytes]) -> str | None:
    """The key id of a sealed file positioned at its start (left after the header); None when it is not one."""
    start = fh.read(len(MAGIC) + 2)
    if len(start) < len(MAGIC) + 2 or start[:len(MAGIC)] != MAGIC:
        return None
    if start[len(MAGIC)] != VERSION:
        raise CryptoError(f"sealed file of unknown version {start[len(MAGIC)]}")
    raw = fh.read(start[len(MAGIC) + 1])
    try:
        key_id = raw.decode("ascii")
    except UnicodeDecodeError:
        raise CryptoError("sealed file header is damaged") from None
    if not key_id or len(raw) != start[len(MAGIC) + 1]:
        raise CryptoError("sealed file header is damaged")
    return key_id


def sealed_key_id(path: Path) -> str | None:
    """The key id a sealed file is under; None for a file that is not sealed (e.g. stored before encryption)."""
    with path.open("rb") as fh:
        return _read_header(fh)


def is_sealed(path: Path) -> bool:
    """True when the file starts with a sealed file's header (its authenticity is not checked)."""
    try:
        return sealed_key_id(path) is not None
    except CryptoError:
        return True


def _private_temp(target: Path) -> tuple[Path, IO[bytes]]:
    """A new file of mode 0600 beside ``target``, opened for writing."""
    path = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return path, os.fdopen(fd, "wb")


class FileCipher:
    """Seals and opens files with a key ring (see the module docstring). ``keys`` maps key ids to 32-byte key
    material, ``active_key_id`` names the key new files are sealed under."""

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise CryptoError(f"active key id {active_key_id!r} is not in the key ring")
        for key_id, key in keys.items():
            if not key_id.isascii() or not 1 <= len(key_id) <= 64 or len(key) != _KEY_BYTES:
                raise CryptoError(f"file key {key_id!r}: the id must be 1-64 ASCII characters, the key 32 bytes")
        self._keys = dict(keys)
        self._active_key_id = active_key_id
        self._primitives: dict[str, Any] = {}

    @classmethod
    def from_field_cipher(cls, cipher: FieldCipher) -> FileCipher:
        """The file keys of the platform's field key ring (``info=b"jianguan-file-stream"``), same key ids."""
        keys = {key_id: cipher.derive_key(FILE_KEY_INFO, key_id=key_id) for key_id in cipher.key_ids}
        return cls(keys, cipher.active_key_id)

    def __repr__(self) -> str:
        return f"FileCipher(active_key_id={self._active_key_id!r}, key_ids={sorted(self._keys)!r})"

    @property
    def active_key_id(self) -> str:
        return self._active_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def _aead(self, key_id: str) -> Any:
        if key_id not in self._keys:
            raise CryptoError(f"sealed file is under key id {key_id!r}, which is not in the key ring")
        if key_id not in self._primitives:
            self._primitives[key_id] = _primitive(self._keys[key_id])
        return self._primitives[key_id]

    # --- sealing ------------------------------------------------------------------------------------------------

    def encrypt_stream(self, source: Readable, target: Path, *, associated_data: bytes,
                       on_block: Callable[[bytes], None] | None = None) -> int:
        """Seal what ``source`` yields into ``target`` (replaced atomically) under the active key; ``on_block`` sees
        each plaintext block (e.g. to hash the content in the same pass). Returns the plaintext size."""
        from tink import TinkError

        header = _header(self._active_key_id)
        aead = self._aead(self._active_key_id)
        temp, out = _private_temp(target)
        size = 0
        try:
            with out:
                out.write(header)
                with aead.new_encrypting_stream(_Unclosed(out), header + b"$" + associated_data) as stream:
                    for block in iter(lambda: source.read(BLOCK), b""):
                        if on_block is not None:
                            on_block(block)
                        stream.write(block)
                        size += len(block)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except TinkError as exc:
            temp.unlink(missing_ok=True)
            raise CryptoError(f"sealing {target.name} failed: {exc}") from exc
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return size

    def encrypt_file(self, source: Path, target: Path, *, associated_data: bytes) -> str:
        """Seal the file ``source`` into ``target``; returns the SHA-256 (hex) of the plaintext, computed in the
        same pass — on a thread of its own, beside the encryption (both release the GIL: a 189 MB file is sealed
        and hashed in 0.31 s instead of 0.39-0.54 s)."""
        digest = hashlib.sha256()
        blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=8)

        def consume() -> None:
            while (block := blocks.get()) is not None:
                digest.update(block)

        hasher = threading.Thread(target=consume, name="seal-hash", daemon=True)
        hasher.start()
        try:
            with source.open("rb") as fh:
                self.encrypt_stream(fh, target, associated_data=associated_data, on_block=blocks.put)
        finally:
            blocks.put(None)
            hasher.join()
        return digest.hexdigest()

    def encrypt_bytes(self, data: bytes, target: Path, *, associated_data: bytes) -> None:
        import io

        self.encrypt_stream(io.BytesIO(data), target, associated_data=associated_data)

    # --- opening ------------------------------------------------------------------------------------------------

    def decrypt_stream(self, path: Path, out: IO[bytes], *, associated_data: bytes) -> int:
        """Write the plaintext of the sealed file ``path`` to ``out`` block by block; returns its size. On a
        :class:`CryptoError` part of the plaintext may have been written: discard ``out``."""
        from tink import TinkError

        size = 0
        with path.open("rb") as fh:
            key_id = _read_header(fh)
            if key_id is None:
                raise CryptoError(f"{path.name} is not a sealed file")
            header = _header(key_id)
            aead = self._aead(key_id)
            try:
                with aead.new_decrypting_stream(fh, header + b"$" + associated_data) as stream:
                    while True:
                        block = stream.read(BLOCK)
                        if not block:
                            break
                        out.write(block)
                        size += len(block)
            except TinkError as exc:
                raise CryptoError(f"{path.name} failed authentication (damaged, cut short, tampered with, or "
                                  "not the file this place holds)") from exc
        return size

    def decrypt_bytes(self, path: Path, *, associated_data: bytes) -> bytes:
        """The whole plaintext of a sealed file, in memory (for small files such as a batch's raw copy)."""
        import io

        buffer = io.BytesIO()
        self.decrypt_stream(path, buffer, associated_data=associated_data)
        return buffer.getvalue()

    def decrypt_to_file(self, path: Path, target: Path, *, associated_data: bytes) -> int:
        """Decrypt the sealed file ``path`` into a new private file ``target`` (mode 0600; removed again when
        decryption fails, so no partial plaintext is left)."""
        temp, out = _private_temp(target)
        try:
            with out:
                size = self.decrypt_stream(path, out, associated_data=associated_data)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return size

    def reencrypt(self, path: Path, *, associated_data: bytes) -> bool:
        """Seal the file again under the active key (streamed: the plaintext never touches the disk); False when it
        is under the active key already."""
        key_id = sealed_key_id(path)
        if key_id is None:
            raise CryptoError(f"{path.name} is not a sealed file")
        if key_id == self._active_key_id:
            return False
        with _DecryptedReader(self, path, associated_data) as plain:
            self.encrypt_stream(plain, path, associated_data=associated_data)
        return True


class _Unclosed:
    """A writable file whose ``close`` Tink may call without closing it (the caller closes it after fsync)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh

    def write(self, data: bytes) -> int:
        return self._fh.write(data)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        self._fh.flush()

    @property
    def closed(self) -> bool:
        return False


class _DecryptedReader:
    """A readable stream of a sealed file's plaintext (Tink's decrypting stream, errors as ``CryptoError``)."""

    def __init__(self, cipher: FileCipher, path: Path, associated_data: bytes) -> None:
        self._fh = path.open("rb")
        key_id = _read_header(self._fh)
        if key_id is None:
            self._fh.close()
            raise CryptoError(f"{path.name} is not a sealed file")
        header = _header(key_id)
        self._name = path.name
        self._stream = cipher._aead(key_id).new_decrypting_stream(self._fh, header + b"$" + associated_data)

    def read(self, size: int = -1, /) -> bytes:
        from tink import TinkError

        try:
            return bytes(self._stream.read(size) or b"")
        except TinkError as exc:
            raise CryptoError(f"{self._name} failed authentication (damaged, cut short or tampered with)") from exc

    def __enter__(self) -> _DecryptedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()
        self._fh.close()

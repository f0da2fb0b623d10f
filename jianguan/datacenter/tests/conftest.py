"""Fixtures of the data centre's tests: a province data administrator, sources, and files to deliver."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from jianguan.core.testing.personas import MARKET, make_org, make_user
from jianguan.datacenter import services
from jianguan.datacenter.models import Source
from jianguan.lib.validators import make_uscc


@pytest.fixture(autouse=True)
def _batch_store(tmp_path, monkeypatch):
    """Delivered files go to a per-test store."""
    monkeypatch.setenv("JIANGUAN_DATACENTER_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("JIANGUAN_PIPELINE_ENGINE", raising=False)


@pytest.fixture
def data_admin(db):
    """Data administrator at the province (sees every region and department)."""
    return make_user("province_data_admin", "320000", MARKET, ["data_admin"], full_name="省数据管理员")


def make_source(actor: Any, code: str = "samr-registry", region: str = "320000", **kw: Any) -> Source:
    data: dict[str, Any] = {
        "code": code, "name": kw.pop("name", "市场主体登记系统"), "kind": "department", "library": "entities",
        "channel": "file", "file_format": "csv",
    }
    data.update(kw)
    return services.create_source(actor=actor, owner=make_org(region), **data)


@pytest.fixture
def source(data_admin):
    return make_source(data_admin)


def uscc(region: str, n: int, prefix: str = "91") -> str:
    return make_uscc(f"{prefix}{region}{n:09d}")


def write_csv(path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def ingest(source: Source, actor: Any, path: Path, capture: Any, **kw: Any):
    """Submit a file and run its job at once (embedded mode); returns the refreshed batch."""
    with capture(execute=True):
        batch = services.submit_file(source, actor=actor, path=path, file_name=kw.pop("file_name", path.name), **kw)
    batch.refresh_from_db()
    return batch


def raw_copy_codecs(batch_id: int) -> set[str]:
    """The compression codecs of the columns of a batch's sealed raw copy (decrypted in memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jianguan.core.crypto import file_cipher
    from jianguan.datacenter import selectors, store

    data = file_cipher().decrypt_bytes(selectors.raw_copy_path(batch_id),
                                       associated_data=store.associated_data(batch_id, "raw"))
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    return {meta.row_group(g).column(c).compression for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)}

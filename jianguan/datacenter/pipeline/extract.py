"""Extract: bring a delivered file into the engine as text columns with file row numbers.

CSV is read by the engine itself (DuckDB ``read_csv`` or Spark's CSV reader). Its encoding is detected first: UTF-8
(with or without BOM) is read as is; GBK/GB18030 and UTF-16 are transcoded to UTF-8 once, in a streaming pass.
XLSX (first sheet) and JSON Lines are converted to Parquet with every value as text, so both engines see exactly the
same strings; Parquet is read directly. Row numbers count the header as row 1, as a spreadsheet does.
"""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from jianguan.datacenter.pipeline.engines import Engine
from jianguan.datacenter.pipeline.fields import FIELD_NAMES, auto_mapping

SAMPLE_BYTES = 1 << 20
#: A column carrying the row numbers of an earlier delivery (re-run corrections keep their original rows).
ROW_NO_COLUMN = "__row_no"


class ExtractError(ValueError):
    """The file cannot be read at all (the message is Chinese, for the batch page)."""


@dataclass
class Prepared:
    path: Path
    format: str  # csv or parquet after preparation
    encoding: str = "utf-8"
    original_format: str = ""
    steps: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_encoding(path: Path) -> str:
    """``utf-8``, ``utf-8-sig``, ``utf-16`` or ``gb18030``, judged from the first megabyte."""
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
    except UnicodeDecodeError:
        raise ExtractError("无法识别文件编码（应为UTF-8、GBK/GB18030或UTF-16）。") from None
    return "gb18030"


def transcode_to_utf8(path: Path, encoding: str, target: Path) -> None:
    try:
        with path.open("r", encoding=encoding, newline="") as src, target.open("w", encoding="utf-8",
                                                                                newline="") as dst:
            for block in iter(lambda: src.read(1 << 20), ""):
                dst.write(block)
    except UnicodeDecodeError as exc:
        raise ExtractError(f"文件编码为{encoding}，但第{exc.start}字节附近有无法解码的内容。") from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _write_text_parquet(headers: list[str], rows: list[list[str | None]], target: Path | BinaryIO) -> None:
    names = _unique_headers(headers)
    columns = {name: [row[i] if i < len(row) else None for row in rows] for i, name in enumerate(names)}
    table = pa.table({name: pa.array(values, type=pa.string()) for name, values in columns.items()})
    pq.write_table(table, target)


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        name = (h or "").strip().lstrip("\ufeff") or f"column{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def records_to_parquet(records: list[dict[str, Any]], target: Path | BinaryIO) -> None:
    """JSON objects (pushed or pulled records) to a text-only Parquet file (or a binary stream, e.g. a buffer to be
    encrypted); keys in first-seen order."""
    headers: list[str] = []
    seen: set[str] = set()
    for record in records:
        for key in record:
            if key not in seen:
                seen.add(key)
                headers.append(key)
    rows = [[_text(record.get(h)) for h in headers] for record in records]
    if not headers:
        headers = list(FIELD_NAMES)
    _write_text_parquet(headers, rows, target)


def prepare(path: Path, file_format: str, work_dir: Path) -> Prepared:
    """Make the file readable by either engine: UTF-8 CSV or text-only Parquet."""
    work_dir.mkdir(parents=True, exist_ok=True)
    if file_format == "csv":
        encoding = detect_encoding(path)
        if encoding in ("utf-8", "utf-8-sig"):
            return Prepared(path, "csv", encoding, "csv")
        target = work_dir / "transcoded.csv"
        transcode_to_utf8(path, encoding, target)
        return Prepared(target, "csv", encoding, "csv", ["encoding"])
    if file_format == "xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds for a damaged file
            raise ExtractError(f"无法读取Excel文件：{exc}") from None
        sheet = workbook.worksheets[0]
        rows_iter = sheet.iter_rows(values_only=True)
        header_row = next(rows_iter, None) or ()
        headers = [_text(h) or "" for h in header_row]
        rows = []
        for row in rows_iter:
            values = [_text(v) for v in row]
            rows.append(values)
        while rows and all(v in (None, "") for v in rows[-1]):
            rows.pop()
        workbook.close()
        target = work_dir / "sheet.parquet"
        _write_text_parquet(headers, rows, target)
        return Prepared(target, "parquet", "", "xlsx")
    if file_format == "jsonl":
        records = []
        encoding = detect_encoding(path)
        with path.open("r", encoding="utf-8-sig" if encoding.startswith("utf-8") else encoding) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ExtractError(f"第{number}行不是有效的JSON：{exc.msg}") from None
                if not isinstance(value, dict):
                    raise ExtractError(f"第{number}行应为JSON对象。")
                records.append(value)
        target = work_dir / "lines.parquet"
        records_to_parquet(records, target)
        return Prepared(target, "parquet", encoding, "jsonl")
    if file_format == "parquet":
        return Prepared(path, "parquet", "", "parquet")
    raise ExtractError(f"不支持的文件格式：{file_format}")


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def load_source_table(engine: Engine, prepared: Prepared, table: str = "dc_src") -> list[str]:
    """Create ``table(row_no, <source columns as text>)``; returns the source headers."""
    if engine.name == "duckdb":
        con = engine.con  # type: ignore[attr-defined]
        q = engine.dialect.ident
        path = _sql_path(prepared.path)
        if prepared.format == "csv":
            # The dialect is sniffed from the first rows (DuckDB's default sample); a file whose later rows do not
            # fit what the sample suggested is read again with the whole file as the sample, and a file with line
            # breaks inside quoted values (an address on two lines), which the parallel reader cannot split when
            # short rows are padded, is read once more by a single thread.
            options = "header = true, all_varchar = true, null_padding = true"
            readers = [f"read_csv({path}, {options})", f"read_csv({path}, {options}, sample_size = -1)",
                       f"read_csv({path}, {options}, sample_size = -1, parallel = false)"]
        else:
            readers = [f"read_parquet({path})"]
        error: Exception | None = None
        for reader in readers:
            try:
                # One read straight into a table (every value is text); the row numbers are the table's own row
                # ids, which follow the file because insertion order is preserved.
                con.execute(f"CREATE OR REPLACE TABLE {table}__read AS SELECT * FROM {reader}")
                break
            except Exception as exc:  # DuckDB raises several kinds for a malformed file
                error = exc
        else:
            assert error is not None
            raise ExtractError(f"无法解析文件：{str(error).splitlines()[0][:200]}") from None
        columns = [c[0] for c in con.execute(f"DESCRIBE {table}__read").fetchall()]
        data = [c for c in columns if c != ROW_NO_COLUMN]
        select = ", ".join(f"CAST({q(c)} AS VARCHAR) AS {q(c)}" for c in data)
        row_no = f"CAST({q(ROW_NO_COLUMN)} AS BIGINT)" if ROW_NO_COLUMN in columns else "rowid + 2"
        engine.create_view(table, f"SELECT {row_no} AS row_no, {select} FROM {table}__read")
        return data
    spark = engine.spark  # type: ignore[attr-defined]
    if prepared.format == "csv":
        df = (spark.read.option("header", "true").option("multiLine", "true").option("encoding", "UTF-8")
              .option("escape", '"').csv(str(prepared.path)))
    else:
        df = spark.read.parquet(str(prepared.path))
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    columns = [c for c in df.columns if c != ROW_NO_COLUMN]
    q = engine.dialect.ident
    if ROW_NO_COLUMN in df.columns:
        df.select(F.col(q(ROW_NO_COLUMN)).cast("bigint").alias("row_no"),
                  *[F.col(q(c)).cast("string").alias(c) for c in columns]).createOrReplaceTempView("__dc_src_view")
        engine.create_table(table, "SELECT * FROM __dc_src_view")
        return columns
    df = df.select(*[F.col(q(c)).cast("string").alias(c) for c in columns])
    indexed = df.rdd.zipWithIndex().map(lambda pair: (pair[1] + 2, *pair[0]))
    schema = T.StructType([T.StructField("row_no", T.LongType(), False)]
                          + [T.StructField(c, T.StringType(), True) for c in columns])
    spark.createDataFrame(indexed, schema).createOrReplaceTempView("__dc_src_view")
    engine.create_table(table, "SELECT * FROM __dc_src_view")
    return columns


def map_to_canonical(engine: Engine, headers: list[str], mapping: dict[str, str] | None,
                     source_table: str = "dc_src", table: str = "dc_raw") -> dict[str, str]:
    """Create ``table(row_no, <canonical fields>)``; returns the mapping used (canonical → source column)."""
    used = dict(mapping) if mapping else auto_mapping(headers)
    missing = [col for col in used.values() if col not in headers]
    if missing:
        raise ExtractError("字段映射引用了文件中不存在的列：" + "、".join(missing))
    select = ["row_no"]
    for f in FIELD_NAMES:
        if f in used:
            select.append(f"{engine.dialect.ident(used[f])} AS {f}")
        else:
            select.append(f"CAST(NULL AS STRING) AS {f}")
    if engine.name == "duckdb":  # a view: the clean step and the raw copy read the source table directly
        engine.create_view(table, f"SELECT {', '.join(select)} FROM {source_table}")
    else:
        engine.create_table(table, f"SELECT {', '.join(select)} FROM {source_table}")
    return used

"""Dynamic collection (动态采集): scheduled, incremental pulls from a source's paged HTTP API or SQL database.

A pull asks only for what changed since the source's watermark (the largest watermark value seen in its last
loaded batch), collects every page, and hands the records to the pipeline as one batch of kind "pull". The
watermark advances only when that batch has loaded, so a failed pull is repeated from the same point.

HTTP source options::

    {"url": "https://…/entities", "records_key": "results", "page_param": "page", "size_param": "page_size",
     "page_size": 500, "watermark_param": "updated_since", "watermark_field": "updated_at",
     "headers": {"Authorization": "Bearer …"}, "timeout": 30, "max_pages": 1000}

SQL source options (the query is run read-only; ``:watermark`` is replaced by a bound parameter)::

    {"dsn_env": "JIANGUAN_SOURCE_TAX_DSN" | "dsn": "sqlite:////data/tax.db",
     "query": "SELECT … FROM entities WHERE updated_at > :watermark ORDER BY updated_at",
     "watermark_field": "updated_at", "max_rows": 1000000}

``JIANGUAN_DATACENTER_ALLOWED_HOSTS`` (comma-separated host names; empty = any) limits where pulls may connect.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import urllib.parse
import urllib.request
from typing import Any

from django.db.models import Q
from django.utils import timezone

from jianguan.core.errors import DomainError
from jianguan.datacenter.choices import BatchKind, BatchStatus, Channel
from jianguan.datacenter.models import Batch, Source

logger = logging.getLogger(__name__)
MAX_PAGES = 1000


class PullError(DomainError):
    pass


def _check_host(url: str) -> None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise PullError("pull.url", "接口地址须为 http(s) 地址。")
    allowed = [h.strip().lower() for h in os.environ.get("JIANGUAN_DATACENTER_ALLOWED_HOSTS", "").split(",")
               if h.strip()]
    if allowed and parsed.hostname.lower() not in allowed:
        raise PullError("pull.host", f"不允许连接主机 {parsed.hostname}（见 JIANGUAN_DATACENTER_ALLOWED_HOSTS）。")


def _watermark_of(records: list[dict[str, Any]], field: str, start: str) -> str:
    values = [str(r[field]) for r in records if r.get(field) not in (None, "")]
    return max([start, *values]) if values else start


def fetch_http(options: dict[str, Any], watermark: str) -> list[dict[str, Any]]:
    """Every page of a paged JSON API, from ``watermark`` on. A page is a list of objects, or an object holding
    the list under ``records_key``; paging stops at an empty or short page."""
    url = options.get("url", "")
    _check_host(url)
    size = int(options.get("page_size", 500))
    page_param = options.get("page_param", "page")
    size_param = options.get("size_param", "page_size")
    key = options.get("records_key", "results")
    headers = {"Accept": "application/json", **options.get("headers", {})}
    records: list[dict[str, Any]] = []
    for page in range(1, int(options.get("max_pages", MAX_PAGES)) + 1):
        query: dict[str, Any] = {page_param: page, size_param: size}
        if watermark and options.get("watermark_param"):
            query[options["watermark_param"]] = watermark
        separator = "&" if urllib.parse.urlparse(url).query else "?"
        # The scheme was checked above (http/https only).
        request = urllib.request.Request(f"{url}{separator}{urllib.parse.urlencode(query)}",  # noqa: S310
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=float(options.get("timeout", 30))) as response:  # noqa: S310
                body = json.loads(response.read().decode(response.headers.get_content_charset() or "utf-8"))
        except (OSError, ValueError) as exc:
            raise PullError("pull.http", f"接口请求失败（第{page}页）：{exc}") from None
        items = body.get(key, []) if isinstance(body, dict) else body
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise PullError("pull.format", f"接口第{page}页的返回格式不正确（应为对象列表）。")
        records.extend(items)
        if len(items) < size:
            break
    return records


def fetch_sql(options: dict[str, Any], watermark: str) -> list[dict[str, Any]]:
    """Rows of the source's query from ``watermark`` on, read-only (SQLite or PostgreSQL)."""
    dsn = os.environ.get(options["dsn_env"], "") if options.get("dsn_env") else options.get("dsn", "")
    query = options.get("query", "")
    if not dsn or not query:
        raise PullError("pull.sql_config", "数据库数据源须配置连接（dsn 或 dsn_env）和查询语句（query）。")
    if not query.lstrip().lower().startswith(("select", "with")):
        raise PullError("pull.sql_query", "查询语句须为 SELECT。")
    limit = int(options.get("max_rows", 1_000_000))
    parsed = urllib.parse.urlparse(dsn)
    try:
        if parsed.scheme == "sqlite":
            path = dsn.split("sqlite:///", 1)[1]
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                conn.row_factory = sqlite3.Row
                rows = conn.execute(query, {"watermark": watermark}).fetchmany(limit)
                return [dict(r) for r in rows]
        if parsed.scheme in ("postgres", "postgresql"):
            import psycopg
            from psycopg.rows import dict_row

            _check_host(f"http://{parsed.hostname}")
            with psycopg.connect(dsn, row_factory=dict_row) as conn:
                conn.read_only = True
                with conn.cursor() as cur:
                    cur.execute(query.replace(":watermark", "%(watermark)s"), {"watermark": watermark})
                    return [dict(r) for r in cur.fetchmany(limit)]
    except (sqlite3.Error, OSError) as exc:
        raise PullError("pull.sql", f"数据库查询失败：{exc}") from None
    except Exception as exc:
        if type(exc).__module__.startswith("psycopg"):
            raise PullError("pull.sql", f"数据库查询失败：{exc}") from None
        raise
    raise PullError("pull.sql_dsn", "仅支持 sqlite:/// 或 postgres:// 连接。")


def pull_source(source: Source, *, actor: Any = None, run_now: bool = False) -> Batch | None:
    """Pull what changed since the watermark into a new batch (None when nothing changed)."""
    from jianguan.datacenter import services

    actor = actor or services.SystemActor()
    if source.channel not in (Channel.HTTP_API, Channel.SQL):
        raise PullError("pull.channel", "该数据源不是动态采集方式。")
    services.check_ingest_allowed(actor, source)
    options = dict(source.options or {})
    start = source.watermark
    records = fetch_http(options, start) if source.channel == Channel.HTTP_API else fetch_sql(options, start)
    if not records:
        return None
    field = options.get("watermark_field", "")
    end = _watermark_of(records, field, start) if field else start
    return services.submit_records(source, actor=actor, records=records, kind=BatchKind.PULL,
                                   watermark_from=start, watermark_to=end, run_now=run_now)


def due_sources(now: dt.datetime | None = None) -> list[Source]:
    now = now or timezone.now()
    return list(Source.objects.filter(
        enabled=True, channel__in=(Channel.HTTP_API, Channel.SQL), schedule_minutes__isnull=False,
    ).filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now)).order_by("code"))


def run_due_pulls(*, dry_run: bool = False, only: str | None = None, now: dt.datetime | None = None) -> list[str]:
    """Pull every source whose schedule is due (or just ``only``); returns one line per source."""
    now = now or timezone.now()
    sources = list(Source.objects.filter(code=only)) if only else due_sources(now)
    lines = []
    for source in sources:
        if dry_run:
            lines.append(f"{source.code}: would pull from watermark {source.watermark or '(start)'}")
            continue
        if not only:
            # Claim the run (compare-and-swap on next_run_at), so two schedulers never pull the same source twice.
            claimed = Source.objects.filter(pk=source.pk, next_run_at=source.next_run_at).update(
                next_run_at=now + dt.timedelta(minutes=source.schedule_minutes or 60))
            if claimed != 1:
                continue
        if Batch.objects.filter(source=source, kind=BatchKind.PULL,
                                status__in=(BatchStatus.PENDING, BatchStatus.RUNNING)).exists():
            lines.append(f"{source.code}: previous pull still running, skipped")
            continue
        try:
            batch = pull_source(source)
        except DomainError as exc:
            logger.warning("pull of %s failed: %s", source.code, exc.message)
            lines.append(f"{source.code}: failed — {exc.message}")
            continue
        lines.append(f"{source.code}: nothing new" if batch is None else
                     f"{source.code}: batch #{batch.pk} ({batch.get_status_display()})")
    return lines

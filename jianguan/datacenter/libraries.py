"""Ingestion of the record libraries (执法人员, 监管行为, 信用, 互联网及第三方, 监管知识): their documented schemas and
one loader for all of them.

Each library is a :class:`LibrarySpec`: the target model, its natural key, and its columns with the Chinese headers
recognised, whether they are required, and how they are checked (14-digit item code, credit code or ID number,
region code, dates, amounts, yes/no, lists) plus cross-field rules (e.g. DOMAIN.md §2: reported after inspected;
filed < closed < reported). A delivery is read by the same extract step as the entity library; rows that fail are
quarantined with field and reason; the others are inserted or updated on the key, each stamped with its batch and
row, through the operational database's bulk path: on PostgreSQL COPY into a staging table and one
``INSERT … ON CONFLICT`` (:func:`jianguan.core.bulkload.copy_upsert`), with every value prepared by its model field
as the ORM prepares it (encrypted fields as tokens); SQLite, which has no COPY, keeps ``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from jianguan.core import bulkload
from jianguan.core.fields import blind_index
from jianguan.core.models import EnforcementOfficer, Organization, Region, Subject
from jianguan.datacenter.choices import CreditKind, KnowledgeKind, KnowledgeStatus, Library, PartyNature
from jianguan.datacenter.models import (
    AdministrativeCoercion,
    AdministrativeInspection,
    AdministrativeLicense,
    AdministrativePenalty,
    CreditRecord,
    InternetRecord,
    KnowledgeDocument,
)
from jianguan.datacenter.pipeline.fields import normalise_header
from jianguan.lib import validators as v

Problem = tuple[str, str, str]  # field, code, Chinese message


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    # text, item_code, party_code, uscc, id_number, region, date, datetime, decimal, bool, list, int, choice,
    # mobile, org
    kind: str = "text"
    required: bool = False
    max_length: int | None = None
    synonyms: tuple[str, ...] = ()
    choices: dict[str, str] = field(default_factory=dict)
    #: the value of a blank cell (None: the kind's own — ``False`` for yes/no, ``[]`` for lists, else empty)
    blank: Any = None


@dataclass(frozen=True)
class LibrarySpec:
    library: str
    name: str
    model: type[models.Model]
    key: str
    columns: tuple[Column, ...]
    rules: tuple[Callable[[dict[str, Any]], list[Problem]], ...] = ()

    def mapping(self, headers: list[str], configured: dict[str, str] | None) -> dict[str, str]:
        if configured:
            return dict(configured)
        by_norm = {normalise_header(h): h for h in headers}
        out = {}
        for column in self.columns:
            for candidate in (column.name, column.label, *column.synonyms):
                header = by_norm.get(normalise_header(candidate))
                if header is not None:
                    out[column.name] = header
                    break
        return out


_TRUE = {"是", "1", "TRUE", "Y", "YES", "有"}
_FALSE = {"否", "0", "FALSE", "N", "NO", "无", ""}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
PARTY_NATURES = {"法人": PartyNature.LEGAL_PERSON, "法人及非法人组织": PartyNature.LEGAL_PERSON,
                 "非法人组织": PartyNature.OTHER_ORGANISATION, "其他组织": PartyNature.OTHER_ORGANISATION,
                 "个体工商户": PartyNature.INDIVIDUAL_BUSINESS, "自然人": PartyNature.NATURAL_PERSON,
                 **{c.value: c.value for c in PartyNature}}


def _parse_date(text: str, with_time: bool) -> dt.date | dt.datetime | None:
    match = _DATE.match(text.strip())
    if not match:
        return None
    y, m, d, hh, mm, ss = match.groups()
    try:
        if with_time:
            moment = dt.datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
            return timezone.make_aware(moment)
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


def convert(column: Column, raw: str) -> tuple[Any, Problem | None]:
    """The value of one cell, or a problem (field, code, message)."""
    text = v.to_half_width(raw).strip()
    label = column.label
    if not text:
        if column.required:
            return None, (column.name, f"{column.name}.missing", f"{label}不能为空")
        if column.blank is not None:
            return column.blank, None
        return (False if column.kind == "bool" else [] if column.kind == "list" else None), None
    if column.max_length and len(text) > column.max_length:
        return None, (column.name, f"{column.name}.too_long", f"{label}超过{column.max_length}个字符")
    try:
        if column.kind == "item_code":
            return v.validate_catalog_code(text, length=14), None
        if column.kind == "uscc":
            return v.validate_uscc(text), None
        if column.kind == "id_number":
            return v.validate_id_number(text), None
        if column.kind == "mobile":
            return v.validate_mobile(text), None
        if column.kind == "party_code":
            if v.is_valid_uscc(text):
                return ("uscc", v.validate_uscc(text)), None
            if v.is_valid_id_number(text):
                return ("id", v.validate_id_number(text)), None
            raise v.ValidationFailure("party_code.format", "应为有效的统一社会信用代码或居民身份证号码")
        if column.kind == "region":
            code = v.validate_region_code(text)
            return code, None
    except v.ValidationFailure as exc:
        return None, (column.name, exc.code, f"{label}：{exc.message}")
    if column.kind in ("date", "datetime"):
        value = _parse_date(text, column.kind == "datetime")
        if value is None:
            return None, (column.name, f"{column.name}.invalid", f"{label}无法识别为日期")
        return value, None
    if column.kind == "decimal":
        try:
            return Decimal(text.replace(",", "").removesuffix("元")), None
        except InvalidOperation:
            return None, (column.name, f"{column.name}.invalid", f"{label}无法识别为金额")
    if column.kind == "int":
        if not re.fullmatch(r"-?\d+", text):
            return None, (column.name, f"{column.name}.invalid", f"{label}应为整数")
        return int(text), None
    if column.kind == "bool":
        if text.upper() in _TRUE:
            return True, None
        if text.upper() in _FALSE:
            return False, None
        return None, (column.name, f"{column.name}.invalid", f"{label}应为“是”或“否”")
    if column.kind == "list":
        return [p.strip() for p in re.split(r"[,，;；、|]", text) if p.strip()], None
    if column.kind == "choice":
        choice = column.choices.get(text) or column.choices.get(text.lower())
        if choice is None:
            return None, (column.name, f"{column.name}.unknown", f"{label}取值“{text}”无法识别")
        return choice, None
    return text, None


def _order(*pairs: tuple[str, str, str]) -> Callable[[dict[str, Any]], list[Problem]]:
    """Cross-field rule: each (earlier, later) pair of dates/times must be in order when both are present."""

    def rule(row: dict[str, Any]) -> list[Problem]:
        out = []
        for earlier, later, message in pairs:
            a, b = row.get(earlier), row.get(later)
            if a is None or b is None:
                continue
            a_dt = a if isinstance(a, dt.datetime) else timezone.make_aware(dt.datetime.combine(a, dt.time.min))
            b_dt = b if isinstance(b, dt.datetime) else timezone.make_aware(dt.datetime.combine(b, dt.time.max))
            if a_dt > b_dt:
                out.append((later, f"{later}.order", message))
        return out

    return rule


_BEHAVIOUR_COMMON = (
    Column("agency_name", "实施机构", required=True, max_length=100),
    Column("agency_code", "实施机构编码", max_length=20),
    Column("entrusted_name", "受委托部门", max_length=100),
    Column("entrusted_code", "受委托部门编码", max_length=20),
    Column("object_type", "监管对象类型", max_length=20),
    Column("object_name", "监管对象", max_length=200),
    Column("party_name", "行政相对人名称", required=True, max_length=200),
    Column("party_nature", "行政相对人性质", "choice", True, choices=PARTY_NATURES),
    Column("credential_type", "证件类型", required=True, max_length=20),
    Column("party_code", "行政相对人编码", "party_code", True),
    Column("registered_address", "注册地址", max_length=400),
    Column("business_address", "经营地址", max_length=400),
    Column("region", "行政区划代码", "region", True),
    Column("reported_at", "报送时间", "datetime"),
    Column("reporter", "报送人员", max_length=50),
)


def _common(kind: str) -> tuple[Column, ...]:
    """The DOMAIN.md §2 fields every behaviour shares; ``kind`` is 检查, 处罚, 强制 or 许可 (the number and name
    columns are called 检查行为编号, 处罚行为编号 …)."""
    return (
        Column("item_code", "监管事项目录编码", "item_code", True, synonyms=("事项编码", "监管事项编码")),
        Column("implementation_code", "检查实施清单编码", max_length=800, synonyms=("实施清单编码",)),
        Column("behaviour_no", f"{kind}行为编号", required=True, max_length=50, synonyms=("行为编号",)),
        Column("behaviour_name", f"{kind}行为名称", required=True, max_length=500, synonyms=("行为名称",)),
        *_BEHAVIOUR_COMMON,
    )

INSPECTIONS = LibrarySpec(Library.BEHAVIOURS, "inspections", AdministrativeInspection, "behaviour_no", (
    *_common("检查"),
    Column("plan_id", "双随机一公开计划id", max_length=50, synonyms=("抽查计划编号",)),
    Column("inspection_form", "检查形式", required=True, max_length=20),
    Column("inspection_category", "检查类别", required=True, max_length=20),
    Column("inspection_manner", "检查方式", max_length=20),
    Column("inspection_result", "检查结果", required=True, max_length=20),
    Column("inspected_at", "检查时间", "datetime", True),
    Column("inspectors", "检查人员", "list", True),
    Column("certificate_nos", "执法证号", "list"),
), rules=(_order(("inspected_at", "reported_at", "报送时间应晚于检查时间")),))

PENALTIES = LibrarySpec(Library.BEHAVIOURS, "penalties", AdministrativePenalty, "behaviour_no", (
    *_common("处罚"),
    Column("case_source", "案件来源", max_length=20),
    Column("inspection_no", "检查行为编号", required=True, max_length=50),
    Column("facts", "违法事实"),
    Column("basis", "处罚依据"),
    Column("procedure", "处罚程序", max_length=10),
    Column("hearing", "是否听证", "bool"),
    Column("filed_at", "处罚立案时间", "datetime"),
    Column("criminal", "是否涉刑案件", "bool"),
    Column("major", "是否重大案件", "bool"),
    Column("legal_review", "是否法制审核", "bool"),
    Column("legal_review_on", "法制审核日期", "date"),
    Column("legal_review_opinion", "法制审核意见"),
    Column("collective", "是否集体讨论", "bool"),
    Column("collective_on", "集体讨论日期", "date"),
    Column("collective_conclusion", "集体讨论结论"),
    Column("decision_no", "处罚文书号", required=True, max_length=100),
    Column("decided_on", "作出行政处罚决定日期", "date", True, synonyms=("处罚决定日期",)),
    Column("penalty_kind", "处罚种类", required=True, max_length=50),
    Column("fine_amount", "罚款金额", "decimal"),
    Column("penalty_result", "处罚结果"),
    Column("reconsideration", "行政复议或行政诉讼", max_length=20, synonyms=("行政复议", "行政诉讼")),
    Column("execution_manner", "执行方式", max_length=50),
    Column("execution_result", "执行结果", max_length=200),
    Column("fine_paid", "实缴罚款金额", "decimal"),
    Column("no_penalty", "不予行政处罚", "bool"),
    Column("closed_on", "结案日期", "date"),
    Column("other_handling", "其他处理情况"),
    Column("transferred_at", "移送时间", "datetime"),
), rules=(_order(("filed_at", "closed_on", "结案日期应晚于立案时间"),
                 ("closed_on", "reported_at", "报送时间应晚于结案日期"),
                 ("filed_at", "reported_at", "报送时间应晚于立案时间")),))

COERCIONS = LibrarySpec(Library.BEHAVIOURS, "coercions", AdministrativeCoercion, "behaviour_no", (
    *_common("强制"),
    Column("inspection_no", "检查行为编号", required=True, max_length=50),
    Column("matter_source", "事项来源", max_length=20),
    Column("measure", "强制措施", required=True, max_length=50),
    Column("decided_on", "决定日期", "date", True),
    Column("lifted_on", "解除日期", "date"),
    Column("coercion_result", "执行结果"),
), rules=(_order(("decided_on", "lifted_on", "解除日期应晚于决定日期"),
                 ("decided_on", "reported_at", "报送时间应晚于决定日期")),))

LICENSES = LibrarySpec(Library.BEHAVIOURS, "licenses", AdministrativeLicense, "behaviour_no", (
    *_common("许可"),
    Column("license_no", "许可证书编号", max_length=100),
    Column("license_kind", "许可类别", max_length=50),
    Column("content", "许可内容"),
    Column("decided_on", "许可决定日期", "date", True),
    Column("valid_from", "有效期自", "date"),
    Column("valid_to", "有效期至", "date"),
), rules=(_order(("valid_from", "valid_to", "有效期止应晚于有效期起"),
                 ("decided_on", "reported_at", "报送时间应晚于许可决定日期")),))

CREDIT = LibrarySpec(Library.CREDIT, "credit", CreditRecord, "record_no", (
    Column("record_no", "记录编号", required=True, max_length=60),
    Column("kind", "信用信息类别", "choice", True, choices={
        "经营异常名录": CreditKind.ABNORMAL_LIST, "严重违法失信名单": CreditKind.SERIOUS_LIST,
        "行政处罚公示": CreditKind.PENALTY_PUBLICATION, "信用承诺": CreditKind.COMMITMENT,
        "信用风险分类": CreditKind.RISK_CLASS, "联合激励": CreditKind.REWARD, "信用修复": CreditKind.REPAIR,
        **{c.value: c.value for c in CreditKind}}),
    Column("uscc", "统一社会信用代码", "uscc", True),
    Column("party_name", "主体名称", required=True, max_length=200, synonyms=("企业名称", "名称")),
    Column("reason", "事由", synonyms=("列入原因", "原因")),
    Column("authority", "决定机关", required=True, max_length=100, synonyms=("作出决定机关",)),
    Column("decided_on", "决定日期", "date", True, synonyms=("列入日期",)),
    Column("valid_until", "有效期至", "date"),
    Column("removed_on", "移出日期", "date"),
    Column("risk_class", "风险等级", "choice", choices={"A": "A", "B": "B", "C": "C", "D": "D"}),
    Column("region", "行政区划代码", "region", True),
), rules=(_order(("decided_on", "removed_on", "移出日期应晚于决定日期")),))

INTERNET = LibrarySpec(Library.INTERNET, "internet", InternetRecord, "record_no", (
    Column("record_no", "记录编号", required=True, max_length=100),
    Column("provider", "信息来源", required=True, max_length=100),
    Column("url", "网址", max_length=500),
    Column("title", "标题", required=True, max_length=300),
    Column("content", "内容"),
    Column("published_at", "发布时间", "datetime", True),
    Column("uscc", "统一社会信用代码", "uscc"),
    Column("party_name", "涉及主体", max_length=200),
    Column("sentiment", "情感倾向", "choice", choices={"正面": "1", "中性": "0", "负面": "-1", "1": "1", "0": "0",
                                                   "-1": "-1"}),
    Column("keywords", "关键词", "list"),
    Column("region", "行政区划代码", "region", True),
))

KNOWLEDGE = LibrarySpec(Library.KNOWLEDGE, "knowledge", KnowledgeDocument, "doc_no", (
    Column("doc_no", "文号", required=True, max_length=100, synonyms=("编号",)),
    Column("kind", "类别", "choice", True, choices={
        "法律": KnowledgeKind.LAW, "行政法规": KnowledgeKind.REGULATION, "部门规章": KnowledgeKind.RULE,
        "规范性文件": KnowledgeKind.NORMATIVE, "标准": KnowledgeKind.STANDARD, "典型案例": KnowledgeKind.CASE,
        **{c.value: c.value for c in KnowledgeKind}}),
    Column("title", "标题", required=True, max_length=300),
    Column("issuer", "发布机关", max_length=200),
    Column("issued_on", "发布日期", "date"),
    Column("effective_on", "施行日期", "date"),
    Column("status", "效力状态", "choice", choices={
        "现行有效": KnowledgeStatus.EFFECTIVE, "已修改": KnowledgeStatus.AMENDED, "已废止": KnowledgeStatus.REPEALED,
        **{c.value: c.value for c in KnowledgeStatus}}, blank=KnowledgeStatus.EFFECTIVE.value),  # the model's default
    Column("body", "正文", required=True),
))

OFFICERS = LibrarySpec(Library.OFFICERS, "officers", EnforcementOfficer, "certificate_no", (
    Column("certificate_no", "执法证号", required=True, max_length=30),
    Column("name", "姓名", required=True, max_length=50),
    Column("id_number", "身份证号码", "id_number", True, synonyms=("身份证号",)),
    Column("organization", "所属部门编码", "org", True, synonyms=("部门编码",)),
    Column("fields", "执法领域", "list"),
    Column("phone", "手机号码", "mobile", synonyms=("联系电话",)),
    Column("active", "在岗", "bool", blank=True),  # an officer listed without a status is on duty
))

SPECS: dict[str, LibrarySpec] = {s.name: s for s in (INSPECTIONS, PENALTIES, COERCIONS, LICENSES, CREDIT,
                                                      INTERNET, KNOWLEDGE, OFFICERS)}


def spec_for(source_library: str, options: dict[str, Any]) -> LibrarySpec:
    """The schema a source delivers: its library, and for the behaviour library the kind named in its options."""
    if source_library == Library.BEHAVIOURS:
        return SPECS[options.get("behaviour", "inspections")]
    specs = {Library.CREDIT: CREDIT, Library.INTERNET: INTERNET, Library.KNOWLEDGE: KNOWLEDGE,
             Library.OFFICERS: OFFICERS}
    return specs[Library(source_library)]


# --- loading ----------------------------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    rows: int = 0
    written: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, int] = field(default_factory=dict)


def validate_rows(spec: LibrarySpec, rows: list[dict[str, Any]], mapping: dict[str, str],
                  scope_prefix: str) -> tuple[list[dict[str, Any]], LoadResult]:
    """Convert and check every row; returns the good rows (with ``__row_no``) and the result so far."""
    result = LoadResult(rows=len(rows))
    regions = set(Region.objects.filter(active=True).values_list("code", flat=True))
    organizations = dict(Organization.objects.values_list("code", "id"))
    good = []
    seen: set[Any] = set()
    for row in rows:
        values: dict[str, Any] = {"__row_no": row["row_no"]}
        problems: list[Problem] = []
        record = {c.name: row.get(mapping[c.name]) for c in spec.columns if c.name in mapping}
        for column in spec.columns:
            raw = record.get(column.name) or ""
            if str(raw).strip():
                result.present[column.name] = result.present.get(column.name, 0) + 1
            value, problem = convert(column, str(raw))
            if problem is None and column.kind == "region" and value is not None and value not in regions:
                problem = (column.name, "region.unknown_code", "行政区划代码不存在或已撤销")
            if problem is None and column.kind == "region" and value is not None and \
                    not value.startswith(scope_prefix):
                problem = (column.name, "region.out_of_scope", "行政区划超出数据源所属地区")
            if problem is None and column.kind == "org":
                value = organizations.get(str(raw).strip())
                if value is None:
                    problem = (column.name, f"{column.name}.unknown", "部门编码不存在")
            if problem is not None:
                problems.append(problem)
                result.invalid[column.name] = result.invalid.get(column.name, 0) + 1
            values[column.name] = value
        if not problems:
            for rule in spec.rules:
                problems.extend(rule(values))
        key = values.get(spec.key)
        if not problems and key in seen:
            problems.append((spec.key, f"{spec.key}.duplicate", "编号在批次内重复"))
        if problems:
            result.quarantine.append({
                "row_no": row["row_no"],
                "record": {k: str(v) for k, v in record.items() if v not in (None, "")},
                "errors": [{"field": f, "label": next((c.label for c in spec.columns if c.name == f), f),
                            "code": code, "message": message, "value": str(record.get(f) or "")}
                           for f, code, message in problems],
            })
            for _f, code, _m in problems:
                result.problems[code] = result.problems.get(code, 0) + 1
            continue
        seen.add(key)
        good.append(values)
    return good, result


def _objects(spec: LibrarySpec, rows: list[dict[str, Any]], batch: Any) -> tuple[list[Any], set[str]]:
    """The rows as unsaved model instances, and the names of the fields the rows set (the others keep their
    defaults)."""
    model = spec.model
    model_fields = {f.name for f in model._meta.get_fields() if getattr(f, "concrete", False)}
    usccs = {r.get("uscc") or (r["party_code"][1] if r.get("party_code") and r["party_code"][0] == "uscc" else None)
             for r in rows}
    subjects = dict(Subject.objects.filter(uscc__in=[u for u in usccs if u]).values_list("uscc", "id"))
    org_by_uscc = dict(Organization.objects.exclude(uscc=None).values_list("uscc", "id"))
    objs: list[Any] = []
    provided: set[str] = set()
    for row in rows:
        data: dict[str, Any] = {}
        for name, value in row.items():
            if name == "__row_no":
                continue
            if name == "party_code" and value is not None:
                kind, code = value
                data["party_uscc"] = code if kind == "uscc" else ""
                data["party_id_number"] = code if kind == "id" else ""
                data["party_id_index"] = blind_index(code) if kind == "id" else ""
                if kind == "uscc":
                    data["subject_id"] = subjects.get(code)
            elif name == "region":
                data["region_id"] = value
            elif name == "organization" and spec is OFFICERS:
                data["organization_id"] = value
            elif name == "sentiment" and value is not None:
                data["sentiment"] = int(value)
            elif name in model_fields:
                data[name] = value if value is not None or not _is_text(model, name) else ""
        if "uscc" in row and row.get("uscc") and "subject" in model_fields:
            data["subject_id"] = subjects.get(row["uscc"])
        if "agency_code" in row and "organization" in model_fields:
            data["organization_id"] = org_by_uscc.get(row.get("agency_code") or "")
        if spec is OFFICERS:
            data["id_number_index"] = blind_index(data["id_number"])
            data["active"] = row.get("active") is not False
            data["fields"] = row.get("fields") or []
            data["phone"] = data.get("phone") or ""
        elif "batch" in model_fields:
            data["batch_id"] = batch.pk
            data["row_no"] = row["__row_no"]
        objs.append(model(**data))
        provided.update(data)
    if spec is OFFICERS:
        regions = dict(Organization.objects.filter(pk__in={o.organization_id for o in objs}).values_list("id",
                                                                                                        "region_id"))
        for obj in objs:
            obj.region_id = regions[obj.organization_id]
        provided.add("region_id")
    return objs, provided


def _as_stored(model_field: Any, value: Any) -> Any:
    """A delivered value as the database will keep it: a decimal at the field's places, rounded half away from
    zero (as PostgreSQL and the bulk path round it)."""
    if isinstance(model_field, models.DecimalField) and isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(-model_field.decimal_places), rounding=ROUND_HALF_UP)
    return value


#: Fields that say which delivery a record came from, not what it says: a row delivered again unchanged keeps them.
_DELIVERY_FIELDS = frozenset({"batch_id", "row_no"})


def _without_unchanged(spec: LibrarySpec, objs: list[Any], provided: set[str]) -> tuple[list[Any], int]:
    """The rows that add or change a record, and how many only repeat one: a row whose every field the delivery sets
    equals the stored record's (compared as Python values, so encrypted fields as their plaintext) is left out of
    the write, so delivering the same rows again changes nothing — not even which batch the record cites."""
    model = spec.model
    by_name = {name: f for f in model._meta.concrete_fields for name in (f.name, f.attname)}
    compared = sorted({by_name[name] for name in provided if by_name[name].attname not in _DELIVERY_FIELDS},
                      key=lambda f: f.attname)
    keys = [getattr(obj, spec.key) for obj in objs]
    stored: dict[Any, Any] = {}
    for i in range(0, len(keys), 500):  # SQLite before 3.32 takes at most 999 parameters a statement
        stored.update((getattr(r, spec.key), r)
                      for r in model._default_manager.filter(**{f"{spec.key}__in": keys[i : i + 500]}))
    if not stored:
        return objs, 0
    changed = [obj for obj in objs
               if (old := stored.get(getattr(obj, spec.key))) is None
               or any(_as_stored(f, getattr(obj, f.attname)) != getattr(old, f.attname) for f in compared)]
    return changed, len(objs) - len(changed)


def _is_text(model: type[models.Model], name: str) -> bool:
    try:
        f = model._meta.get_field(name)
    except Exception:
        return False
    return isinstance(f, models.CharField | models.TextField) and not f.null


def write(spec: LibrarySpec, rows: list[dict[str, Any]], batch: Any, result: LoadResult) -> LoadResult:
    """Insert or update the good rows on the spec's key (an update keeps the record's id and ``created_at``), in
    the caller's transaction: on PostgreSQL through its bulk path (COPY into a staging table, then one
    ``INSERT … ON CONFLICT``, see :func:`jianguan.core.bulkload.copy_upsert`), on SQLite through ``bulk_create``.
    Both store each value as the model's field prepares it; the keys are unique within the rows
    (:func:`validate_rows` quarantines a repeated one)."""
    model = spec.model
    objs, provided = _objects(spec, rows, batch)
    objs, result.unchanged = _without_unchanged(spec, objs, provided)
    keys = [getattr(o, spec.key) for o in objs]
    key = next(f for f in model._meta.concrete_fields if f.name == spec.key)
    update_fields = [f for f in model._meta.concrete_fields
                     if not f.primary_key and f.name not in (spec.key, "created_at")]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            columns, table = bulkload.instances_table(model, objs)
            created, updated = bulkload.copy_upsert(model._meta.db_table, columns, table, key=key.column,
                                                    update_columns=[f.column for f in update_fields])
            bulkload.analyze_after_commit(model._meta.db_table, created + updated)
        else:
            existing = {k for i in range(0, len(keys), 500)  # at most 999 parameters a statement before 3.32
                        for k in model._default_manager.filter(**{f"{spec.key}__in": keys[i : i + 500]})
                        .values_list(spec.key, flat=True)}
            model._default_manager.bulk_create(objs, batch_size=1000, update_conflicts=True,
                                               unique_fields=[spec.key],
                                               update_fields=[f.attname for f in update_fields])
            created, updated = len(objs) - len(existing), len(existing)
        if spec is KNOWLEDGE:
            from jianguan.datacenter import knowledge

            knowledge.reindex(KnowledgeDocument.objects.filter(doc_no__in=keys))
    result.written = len(objs) + result.unchanged
    result.updated = updated
    result.created = created
    return result


def quality(spec: LibrarySpec, mapping: dict[str, str], result: LoadResult) -> dict[str, Any]:
    total = result.rows or 1
    fields: dict[str, dict[str, float | None]] = {}
    completeness: list[float] = []
    for column in spec.columns:
        if column.name not in mapping:
            continue
        present = result.present.get(column.name, 0)
        completeness.append(present / total)
        invalid = result.invalid.get(column.name, 0)
        fields[column.name] = {
            "completeness": round(present / total, 4),
            "validity": round((present - invalid) / present, 4) if present else None,
            "uniqueness": None, "consistency": None, "timeliness": None,
        }
    order_problems = sum(n for code, n in result.problems.items() if code.endswith(".order"))
    duplicates = sum(n for code, n in result.problems.items() if code.endswith(".duplicate"))
    overall = {
        "completeness": round(sum(completeness) / len(completeness), 4) if completeness else None,
        "validity": round((result.rows - len(result.quarantine)) / total, 4),
        "uniqueness": round(1 - duplicates / total, 4),
        "consistency": round(1 - order_problems / total, 4),
        "timeliness": None,
    }
    return {"rows": result.rows, "overall": overall, "fields": fields, "problems": result.problems}

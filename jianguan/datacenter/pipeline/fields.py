"""The entity library's canonical fields, the headers recognised for them, step codes and problem messages.

Everything here is data shared by both engines (DuckDB and Spark) and by the pages, so that a problem code or a step
code means the same thing wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # Chinese label shown to data managers
    max_length: int | None = None


ENTITY_FIELDS: tuple[Field, ...] = (
    Field("record_id", "源记录标识", 100),
    Field("uscc", "统一社会信用代码", 18),
    Field("name", "名称", 200),
    Field("subject_type", "主体类型"),
    Field("legal_representative", "法定代表人/负责人", 50),
    Field("address", "住所/经营场所", 300),
    Field("region", "行政区划"),
    Field("industry", "行业"),
    Field("registered_capital", "注册资本"),
    Field("established_on", "成立日期"),
    Field("status", "登记状态"),
    Field("phone", "联系电话"),
    Field("updated_at", "数据更新时间"),
)
FIELD_NAMES = tuple(f.name for f in ENTITY_FIELDS)
FIELD_LABELS = {f.name: f.label for f in ENTITY_FIELDS}
#: Labels of the fields lineage and conflicts name: the canonical ones and the phone's keyed hash on master records.
LINEAGE_LABELS = {**FIELD_LABELS, "phone_index": "联系电话（匹配键）"}

#: Master-record columns of ``core.Subject`` filled from the canonical fields (region → region_id, industry →
#: industry_id); lineage and conflicts use these names.
MASTER_FIELDS = (
    "uscc",
    "name",
    "subject_type",
    "legal_representative",
    "address",
    "region",
    "industry",
    "registered_capital",
    "established_on",
    "status",
)

#: Headers recognised without a field mapping (compared after removing spaces and upper-casing).
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "record_id": ("RECORD_ID", "ID", "记录ID", "记录标识", "源记录标识", "主键", "序号ID"),
    "uscc": ("USCC", "CREDIT_CODE", "统一社会信用代码", "信用代码", "社会信用代码", "统一代码"),
    "name": ("NAME", "ENTITY_NAME", "名称", "企业名称", "主体名称", "单位名称", "市场主体名称", "字号名称"),
    "subject_type": ("SUBJECT_TYPE", "TYPE", "主体类型", "市场主体类型", "类型", "企业类型"),
    "legal_representative": (
        "LEGAL_REP", "LEGAL_REPRESENTATIVE", "法定代表人", "法人代表", "负责人", "经营者", "法定代表人/负责人",
    ),
    "address": ("ADDRESS", "住所", "地址", "经营场所", "注册地址", "经营地址", "住所/经营场所"),
    "region": ("REGION", "REGION_CODE", "行政区划", "行政区划代码", "所属区域", "所在地区", "区划"),
    "industry": ("INDUSTRY", "INDUSTRY_CODE", "行业", "行业代码", "国民经济行业", "所属行业"),
    "registered_capital": ("REGISTERED_CAPITAL", "CAPITAL", "注册资本", "注册资金", "出资额"),
    "established_on": ("ESTABLISHED_ON", "ESTABLISHED", "成立日期", "注册日期", "登记日期", "设立日期"),
    "status": ("STATUS", "登记状态", "经营状态", "状态"),
    "phone": ("PHONE", "TEL", "联系电话", "电话", "手机", "联系方式"),
    "updated_at": ("UPDATED_AT", "UPDATE_TIME", "数据更新时间", "更新时间", "更新日期"),
}

DEFAULT_NULL_MARKERS = (
    "NULL", "NONE", "NIL", "N/A", "NA", "#N/A", "-", "--", "---", "—", "——", "/", "\\", "无", "空", "暂无", "不详",
    "未知", "无数据", "(空)", "(NULL)",
)

#: Step codes recorded in lineage for each value, with the Chinese label shown in the lineage view.
STEP_LABELS: dict[str, str] = {
    "extract": "抽取",
    "encoding": "编码转换为UTF-8",
    "width": "全角转半角",
    "space": "去除多余空白",
    "null": "空值标记置空",
    "case": "统一大小写",
    "date": "日期标准化",
    "money": "金额换算为万元",
    "region_code": "行政区划代码校验",
    "region_name": "行政区划名称转代码",
    "region_address": "由地址推断行政区划",
    "region_uscc": "由信用代码推断行政区划",
    "address_completed": "补全省市县前缀",
    "industry_code": "行业代码标准化",
    "industry_name": "行业名称转代码",
    "type_map": "主体类型映射",
    "type_uscc": "由信用代码推断主体类型",
    "type_name": "由名称推断主体类型",
    "status_map": "登记状态映射",
    "phone": "电话号码标准化",
    "dedup": "批内去重",
    "survivor": "多源取值（优先级）",
    "fill": "补充空缺值",
    "correction": "人工更正后重跑",
    "manual": "人工处理",
    "code_adopted": "关联匹配后取得信用代码",
}

#: Problem codes: (severity, Chinese message). "error" quarantines the row; "warning" is counted in quality only.
PROBLEMS: dict[str, tuple[str, str]] = {
    "uscc.length": ("error", "统一社会信用代码应为18位"),
    "uscc.charset": ("error", "统一社会信用代码只能包含数字和大写字母（不含I、O、S、V、Z）"),
    "uscc.department": ("error", "统一社会信用代码第1位（登记管理部门码）无效"),
    "uscc.region": ("error", "统一社会信用代码第3至8位应为6位数字的行政区划代码"),
    "uscc.checksum": ("error", "统一社会信用代码校验位错误"),
    "uscc.type_mismatch": ("warning", "统一社会信用代码的机构类别与主体类型不一致"),
    "uscc.region_mismatch": ("warning", "统一社会信用代码的登记机关地区与所在行政区划不一致"),
    "name.missing": ("error", "名称不能为空"),
    "name.too_long": ("error", "名称超过200个字符"),
    "legal_representative.too_long": ("error", "法定代表人超过50个字符"),
    "address.too_long": ("error", "住所超过300个字符"),
    "address.region_mismatch": ("warning", "住所中的地区与行政区划不一致"),
    "region.unresolved": ("error", "无法确定行政区划（代码、名称、住所和信用代码均无法识别）"),
    "region.unknown_code": ("error", "行政区划代码不存在或已撤销"),
    "region.out_of_scope": ("error", "行政区划超出数据源所属地区"),
    "industry.unknown": ("error", "行业代码或名称不在《国民经济行业分类》中"),
    "registered_capital.invalid": ("error", "注册资本无法识别为金额"),
    "registered_capital.currency": ("error", "注册资本币种不是人民币，无法换算"),
    "registered_capital.negative": ("error", "注册资本不能为负数"),
    "established_on.invalid": ("error", "成立日期无法识别"),
    "established_on.future": ("error", "成立日期晚于当前日期"),
    "status.unknown": ("error", "登记状态无法识别（应为存续、吊销、注销或迁出）"),
    "subject_type.unknown": ("error", "主体类型无法识别（应为企业、个体工商户、农民专业合作社或其他组织）"),
    "phone.invalid": ("warning", "联系电话格式不正确，已忽略"),
    "updated_at.invalid": ("warning", "数据更新时间无法识别"),
    "record_id.duplicate": ("warning", "源记录标识在批次内重复"),
    "row.empty": ("error", "整行为空"),
    "subject.out_of_scope": ("error", "该信用代码对应的监管对象不在数据源所属地区范围内"),
}


# Steps and problems travel through the engines as bit masks (bit i = the i-th code below); lineage stores the
# masks. Append new codes at the end: the positions are part of the stored data.
STEP_CODES = tuple(STEP_LABELS)
STEP_BITS = {code: 1 << i for i, code in enumerate(STEP_CODES)}
PROBLEM_CODES = tuple(PROBLEMS)
PROBLEM_BITS = {code: 1 << i for i, code in enumerate(PROBLEM_CODES)}


def step_mask(*codes: str) -> int:
    mask = 0
    for code in codes:
        mask |= STEP_BITS[code]
    return mask


def decode_steps(mask: int | str | None) -> list[str]:
    """Step codes of a lineage mask (older string values are split on commas)."""
    if mask is None or mask == "":
        return []
    if isinstance(mask, str):
        return [c for c in mask.split(",") if c]
    return [code for code, bit in STEP_BITS.items() if mask & bit]


#: The fields a lineage record can name, in the order of its compact ``field_steps`` text (append new ones at the
#: end: the positions are part of the stored data).
LINEAGE_FIELDS = (
    "name", "subject_type", "legal_representative", "address", "region", "industry", "registered_capital",
    "established_on", "status", "uscc", "phone_index",
)
_LINEAGE_POSITION = {f: i for i, f in enumerate(LINEAGE_FIELDS)}


def encode_field_steps(fields: dict[str, int]) -> str:
    """``{"name": 1, "region": 257}`` → ``"1,,,,257"``: the step mask of each field at its position in
    :data:`LINEAGE_FIELDS`, empty for a field the record does not set, trailing empties dropped."""
    slots = [""] * len(LINEAGE_FIELDS)
    for name, mask in fields.items():
        if name not in _LINEAGE_POSITION:
            raise ValueError(f"not a lineage field: {name}")
        slots[_LINEAGE_POSITION[name]] = str(int(mask))
    return ",".join(slots).rstrip(",")


def decode_field_steps(text: str | None) -> dict[str, int]:
    """The inverse of :func:`encode_field_steps` (fields in :data:`LINEAGE_FIELDS` order)."""
    if not text:
        return {}
    return {LINEAGE_FIELDS[i]: int(mask) for i, mask in enumerate(text.split(",")) if mask != ""}


def decode_problems(mask: int | None) -> list[str]:
    if not mask:
        return []
    return [code for code, bit in PROBLEM_BITS.items() if mask & bit]


def field_problem_mask(field: str, severity: str | None = None) -> int:
    """Bits of the problems that concern ``field`` (optionally of one severity)."""
    mask = 0
    for code, bit in PROBLEM_BITS.items():
        if code.split(".")[0] == field and (severity is None or PROBLEMS[code][0] == severity):
            mask |= bit
    return mask


def severity_mask(severity: str) -> int:
    mask = 0
    for code, bit in PROBLEM_BITS.items():
        if PROBLEMS[code][0] == severity:
            mask |= bit
    return mask


def problem_message(code: str) -> str:
    return PROBLEMS.get(code, ("error", code))[1]


def problem_severity(code: str) -> str:
    return PROBLEMS.get(code, ("error", code))[0]


def normalise_header(header: str) -> str:
    from jianguan.lib.validators import to_half_width

    return to_half_width(header or "").replace(" ", "").replace("\ufeff", "").upper()


def auto_mapping(headers: list[str]) -> dict[str, str]:
    """Canonical field → source header for the headers that match a known synonym (first match wins)."""
    by_norm = {normalise_header(h): h for h in headers}
    mapping: dict[str, str] = {}
    for field, synonyms in HEADER_SYNONYMS.items():
        for candidate in (field.upper(), *(normalise_header(s) for s in synonyms)):
            if candidate in by_norm:
                mapping[field] = by_norm[candidate]
                break
    return mapping

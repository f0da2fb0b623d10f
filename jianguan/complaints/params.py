"""Time limits and thresholds of the complaints module, as versioned, effective-dated parameters.

Defaults and their sources: DOMAIN.md §5. They are configurable defaults, never constants: a ticket stores the
parameter name and version its clock was computed from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jianguan.complaints.choices import ComplaintKind
from jianguan.core.params import ParameterDefinition, ParameterReading, reading, register_parameter

ORDER20 = "市场监督管理投诉举报处理暂行办法（总局令第20号，2022年修正）"
GUOBAN53 = "国办发〔2020〕53号；GB/T 33358-2016"

#: Handling limit per ticket type (working days), counted from registration (受理).
KIND_LIMITS = {
    ComplaintKind.COMPLAINT: "complaints.limit.complaint_days",
    ComplaintKind.REPORT: "complaints.limit.report_verify_days",
    ComplaintKind.CONSULTATION: "complaints.limit.consultation_days",
    ComplaintKind.SUGGESTION: "complaints.limit.suggestion_days",
    ComplaintKind.HELP: "complaints.limit.help_days",
}
CATEGORY_OVERRIDES = "complaints.limit.category_overrides"
ACCEPT_DECISION = "complaints.limit.complaint_accept_days"
REPORT_EXTENSION_MAX = "complaints.limit.report_extension_days"
REPORTER_NOTICE = "complaints.limit.report_notice_days"
REMINDER_FRACTION = "complaints.reminder.fraction"
SUPERVISION_REPLY = "complaints.supervision.reply_days"
DUPLICATE_WINDOW = "complaints.duplicate.window_days"
DUPLICATE_THRESHOLD = "complaints.duplicate.threshold"
DUPLICATE_MAX = "complaints.duplicate.max_proposals"
EXTENSION_MAX = "complaints.limit.extension_max_days"

DEFINITIONS = (
    ParameterDefinition(
        "complaints.limit.complaint_days", "投诉办理时限", int, 15, unit="工作日", minimum=1, maximum=90,
        source=GUOBAN53,
        description="12345 投诉类工单自受理次日起的办理时限（DOMAIN.md §5.1 推荐默认 15 个工作日）。",
    ),
    ParameterDefinition(
        "complaints.limit.report_verify_days", "举报核查时限", int, 15, unit="工作日", minimum=1, maximum=90,
        source=ORDER20 + " 第三十一条",
        description="举报线索自收到之日起 15 个工作日内核查并决定是否立案，特殊情况可延长 15 个工作日。",
    ),
    ParameterDefinition(
        "complaints.limit.consultation_days", "咨询办理时限", int, 3, unit="工作日", minimum=0, maximum=30,
        source=GUOBAN53, description="咨询类工单：能即时答复的当场答复，否则 3 个工作日内答复。",
    ),
    ParameterDefinition(
        "complaints.limit.suggestion_days", "建议办理时限", int, 15, unit="工作日", minimum=1, maximum=90,
        source=GUOBAN53, description="建议类工单的办理时限。",
    ),
    ParameterDefinition(
        "complaints.limit.help_days", "求助办理时限", int, 3, unit="工作日", minimum=0, maximum=30,
        source=GUOBAN53, description="求助类工单的办理时限（紧急求助应当日处置）。",
    ),
    ParameterDefinition(
        CATEGORY_OVERRIDES, "分类时限例外", str, "{}", unit="JSON",
        source="省12345平台派单目录",
        description='按分类覆盖时限，例如 {"0104": {"complaint": 5}}（分类编码→类型→工作日）。',
    ),
    ParameterDefinition(
        ACCEPT_DECISION, "投诉受理决定时限", int, 7, unit="工作日", minimum=1, maximum=30,
        source=ORDER20 + " 第十八条", description="市场监管部门自收到投诉之日起 7 个工作日内作出受理或不予受理的决定。",
    ),
    ParameterDefinition(
        REPORT_EXTENSION_MAX, "举报核查可延长", int, 15, unit="工作日", minimum=0, maximum=60,
        source=ORDER20 + " 第三十一条", description="举报核查时限经批准可延长的最多工作日数。",
    ),
    ParameterDefinition(
        EXTENSION_MAX, "其他工单可延长", int, 15, unit="工作日", minimum=0, maximum=60,
        source=GUOBAN53, description="投诉、咨询等工单延期申请累计最多工作日数（须在期限届满前申请并经批准）。",
    ),
    ParameterDefinition(
        REPORTER_NOTICE, "告知实名举报人时限", int, 5, unit="工作日", minimum=1, maximum=30,
        source=ORDER20 + " 第三十二条", description="对实名举报人，自作出是否立案决定之日起 5 个工作日内告知。",
    ),
    ParameterDefinition(
        REMINDER_FRACTION, "催办提醒点", float, 0.8, unit="比例", minimum=0.1, maximum=1.0,
        source="DOMAIN.md §5.1", description="时限经过该比例时发出催办提醒（默认 80%），超期时自动督办。",
    ),
    ParameterDefinition(
        SUPERVISION_REPLY, "督办回复时限", int, 3, unit="工作日", minimum=1, maximum=15,
        source=GUOBAN53, description="人工督办未另行指定时，承办部门回复督办的时限。",
    ),
    ParameterDefinition(
        DUPLICATE_WINDOW, "并单比对窗口", int, 30, unit="天", minimum=1, maximum=365,
        source="国办发〔2020〕53号（并单）", description="在多少天内的工单中查找重复或关联工单。",
    ),
    ParameterDefinition(
        DUPLICATE_THRESHOLD, "并单建议阈值", float, 0.55, unit="相似度", minimum=0.1, maximum=1.0,
        source="本系统约定", description="文本相似度与同一主体、地址加分后的综合分达到该值即提出并单建议。",
    ),
    ParameterDefinition(
        DUPLICATE_MAX, "并单建议上限", int, 5, unit="件", minimum=1, maximum=50,
        source="本系统约定", description="每件工单最多提出的并单建议数（取综合分最高者），避免同类诉求集中时建议泛滥。",
    ),
)


def register() -> None:
    for definition in DEFINITIONS:
        register_parameter(definition)


@dataclass(frozen=True)
class Limit:
    """The time limit a clock uses, with the setting (and version) it came from."""

    days: int
    param: str
    version: int


def handling_limit(kind: str, category_code: str | None, *, at: Any = None) -> Limit:
    """The limit for a ticket type, overridden per category (or its parent) where the override setting says so."""
    if category_code:
        overrides = reading(CATEGORY_OVERRIDES, at=at)
        try:
            table = json.loads(overrides.value or "{}")
        except ValueError:
            table = {}
        for code in (category_code, category_code[:2]):
            entry = table.get(code) if isinstance(table, dict) else None
            if isinstance(entry, dict) and isinstance(entry.get(kind), int):
                return Limit(int(entry[kind]), CATEGORY_OVERRIDES, overrides.version)
    base: ParameterReading = reading(KIND_LIMITS[ComplaintKind(kind)], at=at)
    return Limit(int(base.value), base.name, base.version)

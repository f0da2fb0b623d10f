"""Ticket factories: tickets go through the real intake service (so they are what the channels produce), then
optionally through the workflow to a wanted state."""

from __future__ import annotations

from typing import Any

from jianguan.complaints import services
from jianguan.complaints.choices import Channel, ComplaintStatus
from jianguan.complaints.models import Category, Complaint
from jianguan.core.testing.personas import make_org, make_user

DEFAULT_TEXT = "该店后厨卫生条件很差，餐具未消毒，吃完后腹泻，要求查处并退款。"


def intake_record(**kw: Any) -> services.IntakeRecord:
    data: dict[str, Any] = {
        "kind": "complaint",
        "title": "饭店卫生差",
        "content": DEFAULT_TEXT,
        "region_code": "320106",
        "place_address": "南京市鼓楼区中山路100号",
        "subject_name": "南京某某餐饮管理有限公司",
        "reporter_name": "张三",
        "reporter_phone": "13912345678",
        "reporter_id_number": "11010519491231002X",
        "reporter_address": "南京市鼓楼区宁海路1号",
    }
    data.update(kw)
    return services.IntakeRecord(**data)


def _centre(region: str) -> Any:
    from jianguan.core.models import User

    username = f"factory_centre_{region}"
    user = User.objects.filter(username=username).first()
    return user or make_user(username, region, "011", ["hotline_dispatcher", "complaint_supervisor"])


def _handler(org: Any) -> Any:
    from jianguan.core.models import User

    username = f"factory_handler_{org.code}"
    user = User.objects.filter(username=username).first()
    return user or make_user(username, org.region_id, org.kind_id, ["complaint_handler"])


def make_ticket(status: str = ComplaintStatus.RECEIVED, *, category: str = "0101", region: str = "320106",
                channel: str = Channel.HOTLINE, **kw: Any) -> Complaint:
    """A ticket at ``region`` moved to ``status`` (registered → dispatched to the county 市场监管 → handling …)."""
    kw.setdefault("region_code", region)
    result = services.receive_complaint(intake_record(**kw), actor=None, channel=channel)
    ticket = result.complaints[0]
    if status == ComplaintStatus.RECEIVED:
        return ticket
    centre = _centre("320000")
    cat = Category.objects.get(code=category)
    if status == ComplaintStatus.INVALID:
        return services.reject_intake(ticket, actor=centre, ground="no_content")
    services.accept_complaint(ticket, actor=centre, category=cat)
    if status == ComplaintStatus.REGISTERED:
        return ticket
    org = make_org(region, cat.department_kind_id or "001")
    services.dispatch_complaint(ticket, actor=centre, lead_org=org, co_orgs=[])
    if status == ComplaintStatus.DISPATCHED:
        return ticket
    handler = _handler(org)
    services.sign_for_complaint(ticket, actor=handler)
    if status == ComplaintStatus.HANDLING:
        return ticket
    services.decide_complaint(ticket, actor=handler, accepted=True, note="受理")
    services.reply_complaint(ticket, actor=handler, reply="经核查情况属实，已责令整改并调解退款。", result="已整改")
    if status == ComplaintStatus.REPLIED:
        return ticket
    services.close_complaint(ticket, actor=centre)
    if status == ComplaintStatus.CLOSED:
        return ticket
    services.rate_complaint(ticket, actor=centre, rating="satisfied")
    return ticket

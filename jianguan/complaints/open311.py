"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), so that existing Open311 clients work unchanged.

* ``/open311/discovery.{xml,json}`` — service discovery;
* ``/open311/v2/services.{fmt}``, ``/open311/v2/services/{service_code}.{fmt}`` — the leaves of the category tree,
  each with a definition (attributes: the ticket type, the entity concerned, anonymity);
* ``/open311/v2/requests.{fmt}`` (GET list, POST create), ``/open311/v2/requests/{id}.{fmt}``,
  ``/open311/v2/tokens/{token}.{fmt}``;
* ``/open311/v2/servicerequestupdates.{fmt}`` (GET and POST) — FixMyStreet's extension for request updates.

``api_key`` is a platform API token (``jg_…``) of a machine account with ``complaints.add_complaint`` (POST) — the
token's ``add`` scope; ``view`` for reading confidential tickets. ``jurisdiction_id`` is the province (``320000``)
or one of its 13 cities (``320100`` …). Our workflow states map onto Open311's ``open``/``closed`` (and onto
FixMyStreet's richer update statuses). Reports (举报) are confidential: only a key whose account may view them sees
them; nobody sees who filed anything.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from jianguan.complaints import services
from jianguan.complaints.choices import (
    COMPLAINT_AND_REPORT,
    Channel,
    ComplaintKind,
    ComplaintStatus,
    Step,
)
from jianguan.complaints.models import Category, Complaint, ComplaintEvent
from jianguan.core import audit
from jianguan.core.errors import DomainError
from jianguan.core.middleware import client_ip
from jianguan.core.models import ApiToken
from jianguan.core.services import authenticate_token

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00+08:00"
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
PLURALS = {
    "discovery": None, "endpoints": "endpoint", "formats": "format", "services": "service",
    "attributes": "attribute", "values": "value", "service_requests": "request",
    "service_request_updates": "request_update", "errors": "error",
}
OPEN = {ComplaintStatus.RECEIVED, ComplaintStatus.REGISTERED, ComplaintStatus.DISPATCHED, ComplaintStatus.HANDLING,
        ComplaintStatus.REPLIED}
PUBLIC_KINDS = (ComplaintKind.COMPLAINT, ComplaintKind.CONSULTATION, ComplaintKind.SUGGESTION, ComplaintKind.HELP)
KIND_NAMES = {
    ComplaintKind.COMPLAINT: "投诉", ComplaintKind.REPORT: "举报", ComplaintKind.CONSULTATION: "咨询",
    ComplaintKind.SUGGESTION: "建议", ComplaintKind.HELP: "求助", COMPLAINT_AND_REPORT: "投诉并举报（拆分办理）",
}
# FixMyStreet update statuses per timeline step.
FMS_STATUS: dict[str, str] = {
    Step.RECEIVED: "OPEN", Step.REGISTERED: "OPEN", Step.SPLIT: "OPEN", Step.REOPENED: "OPEN",
    Step.DISPATCHED: "INVESTIGATING", Step.REASSIGNED: "INVESTIGATING", Step.ACCEPTED: "INVESTIGATING",
    Step.DECIDED: "IN_PROGRESS", Step.PROGRESS: "IN_PROGRESS", Step.EXTENSION_DECIDED: "IN_PROGRESS",
    Step.REPLIED: "ACTION_SCHEDULED", Step.CLOSED: "CLOSED", Step.RATED: "CLOSED",
    Step.MERGED: "DUPLICATE", Step.REJECTED: "NOT_COUNCILS_RESPONSIBILITY",
}
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- rendering -----------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_xml(key, child))
    elif isinstance(value, list):
        child_tag = PLURALS.get(tag) or "item"
        for child in value:
            element.append(_xml(child_tag, child))
    else:
        element.text = _text(value)
    return element


def render(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(_xml(root, data), encoding="unicode")
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
    response["Cache-Control"] = "no-store"
    return response


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(fmt, "errors", [{"code": status, "description": description}], status=status)


def _w3c(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def scrub(text: str) -> str:
    """Phone and ID numbers typed into a description never leave through Open311."""
    text = _PHONE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text or "")
    return _ID.sub(lambda m: m.group(0)[:4] + "**********" + m.group(0)[-4:], text)


View = Callable[..., HttpResponse]


def open311_view(methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Format check, error rendering per spec, no CSRF (machine clients, no cookies)."""

    def decorator(view: View) -> View:
        def wrapped(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            try:
                _check_jurisdiction(request)
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return error(fmt, exc.status, exc.description)
            except DomainError as exc:
                fields = "；".join(f"{k}: {'，'.join(v)}" for k, v in exc.fields.items())
                return error(fmt, 400, f"{exc.message}{'（' + fields + '）' if fields else ''}")

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return csrf_exempt(require_http_methods(list(methods))(wrapped))

    return decorator


def _param(request: HttpRequest, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()


def jurisdictions() -> set[str]:
    from jianguan.core.models import Region

    return {"320000", *Region.objects.filter(level="city", active=True).values_list("code", flat=True)}


def _check_jurisdiction(request: HttpRequest) -> str:
    value = _param(request, "jurisdiction_id")
    if value and value not in jurisdictions():
        raise Open311Error(404, f"jurisdiction_id {value} not found / 未找到该辖区")
    return value or "320000"


def _token(request: HttpRequest, scope: str, *, required: bool) -> ApiToken | None:
    key = _param(request, "api_key")
    if not key:
        if required:
            raise Open311Error(403, "api_key is required / 需要 api_key")
        return None
    token = authenticate_token(key)
    if token is None or scope not in (token.scopes or []):
        raise Open311Error(403, "api_key is invalid or lacks this scope / api_key 无效或权限不足")
    return token


# --- discovery and services ------------------------------------------------------------------------------------------


@open311_view()
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    url = request.build_absolute_uri(reverse("open311:root"))
    data = {
        "changeset": CHANGESET,
        "contact": "江苏省12345政务服务便民热线 / Jiangsu 12345 government service hotline",
        "key_service": "api_key：由所在设区市12345热线中心为接入系统签发平台接口令牌（机器账号，add 权限）",
        "endpoints": [{"specification": SPEC, "url": url, "changeset": CHANGESET, "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    }
    return render(fmt, "discovery", data)


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(category.keywords.split()),
        "group": category.parent.name if category.parent else "",
    }


@open311_view()
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    leaves = Category.objects.filter(active=True, parent__isnull=False).select_related("parent").order_by("code")
    return render(fmt, "services", [_service(c) for c in leaves])


def _attributes() -> list[dict[str, Any]]:
    return [
        {"variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "默认为举报", "order": 1, "description": "诉求类型 / type of request",
         "values": [{"key": k, "name": v} for k, v in KIND_NAMES.items()]},
        {"variable": True, "code": "subject_name", "datatype": "string", "required": False,
         "datatype_description": None, "order": 2, "description": "被反映的经营者或单位名称 / business concerned",
         "values": []},
        {"variable": True, "code": "subject_uscc", "datatype": "string", "required": False,
         "datatype_description": "18 位统一社会信用代码", "order": 3,
         "description": "统一社会信用代码 / its unified social credit code", "values": []},
        {"variable": True, "code": "anonymous", "datatype": "singlevaluelist", "required": False,
         "datatype_description": None, "order": 4, "description": "匿名举报 / anonymous (reports only)",
         "values": [{"key": "false", "name": "否"}, {"key": "true", "name": "是"}]},
    ]


@open311_view()
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = Category.objects.filter(code=code, active=True, parent__isnull=False).first()
    if category is None:
        raise Open311Error(404, f"service_code {code} not found / 未找到该服务")
    return render(fmt, "service_definition", {"service_code": category.code, "attributes": _attributes()})


# --- requests --------------------------------------------------------------------------------------------------------


def _float(request: HttpRequest, name: str) -> float | None:
    value = _param(request, name)
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise Open311Error(400, f"{name} is not a number / {name} 不是数字") from None


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    token = _token(request, "add", required=True)
    assert token is not None
    user = token.user
    if not user.has_perm("complaints.add_complaint"):
        raise Open311Error(403, "this api_key may not create requests / 该 api_key 无权提交诉求")
    code = _param(request, "service_code")
    if not code:
        raise Open311Error(400, "service_code was not provided / 缺少 service_code")
    category = Category.objects.filter(code=code, active=True, parent__isnull=False).first()
    if category is None:
        raise Open311Error(404, f"service_code {code} not found / 未找到该服务")
    lat, lon = _float(request, "lat"), _float(request, "long")
    address = _param(request, "address_string") or _param(request, "address_id")
    if (lat is None or lon is None) and not address:
        raise Open311Error(400, "a location is required: lat & long, address_string or address_id / 需要位置")
    description = _param(request, "description")
    if not description:
        raise Open311Error(400, "description is required / 需要问题描述")
    kind = _param(request, "attribute[kind]") or ComplaintKind.REPORT
    name = " ".join(p for p in (_param(request, "last_name"), _param(request, "first_name")) if p)
    jurisdiction = _check_jurisdiction(request)
    record = services.IntakeRecord(
        kind=kind, content=description, place_address=address, latitude=lat, longitude=lon,
        category_code=category.code, subject_name=_param(request, "attribute[subject_name]"),
        subject_uscc=_param(request, "attribute[subject_uscc]"),
        anonymous=_param(request, "attribute[anonymous]").lower() == "true",
        reporter_name=name, reporter_phone=_param(request, "phone"), reporter_email=_param(request, "email"),
        external_id=_param(request, "device_id")[:64], default_region=jurisdiction,
    )
    with audit.audit_context(user, ip=client_ip(request), request_id=getattr(request, "request_id", "")):
        result = services.receive_complaint(record, actor=user, channel=Channel.OPEN311,
                                            idempotency_key=request.headers.get("Idempotency-Key"))
    items = [{"service_request_id": c.ticket_no, "token": None,
              "service_notice": f"查询码 / verification code: {result.tracking_code}" if result.tracking_code else "",
              "account_id": _param(request, "account_id") or None} for c in result.complaints]
    return render(fmt, "service_requests", items, status=201 if result.created else 200)


def _visible(request: HttpRequest) -> Any:
    """Tickets an Open311 reader may see: the non-confidential kinds, plus what a viewing key's account may see."""
    token = _token(request, "view", required=False)
    public = Complaint.objects.filter(kind__in=PUBLIC_KINDS).exclude(status=ComplaintStatus.INVALID)
    if token is not None and token.user.has_perm("complaints.view_complaint"):
        return Complaint.objects.filter(Q(pk__in=public.values("pk")) |
                                        Q(pk__in=Complaint.objects.visible_to(token.user, "view").values("pk")))
    return public


def _status_notes(complaint: Complaint, last_public: dict[int, str]) -> str:
    return scrub(last_public.get(complaint.pk, ""))[:500]


def _request_item(c: Complaint, notes: dict[int, str]) -> dict[str, Any]:
    return {
        "service_request_id": c.ticket_no,
        "status": "open" if c.status in OPEN else "closed",
        "status_notes": _status_notes(c, notes),
        "service_name": c.category.name if c.category else "",
        "service_code": c.category.code if c.category else "",
        "description": scrub(c.content),
        "agency_responsible": c.handling_org.name if c.handling_org else "",
        "service_notice": "",
        "requested_datetime": _w3c(c.submitted_at),
        "updated_datetime": _w3c(c.updated_at),
        "expected_datetime": _w3c(c.due_at),
        "address": c.place_address,
        "address_id": "",
        "zipcode": "",
        "lat": float(c.latitude) if c.latitude is not None else None,
        "long": float(c.longitude) if c.longitude is not None else None,
        "media_url": "",
    }


def _notes(ids: list[int]) -> dict[int, str]:
    notes: dict[int, str] = {}
    for complaint_id, note in (ComplaintEvent.objects.filter(complaint_id__in=ids, public=True)
                               .exclude(note="").order_by("at", "id").values_list("complaint_id", "note")):
        notes[complaint_id] = note
    return notes


def _date(request: HttpRequest, name: str) -> dt.datetime | None:
    value = _param(request, name)
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise Open311Error(400, f"{name} must be a w3 datetime / {name} 格式应为 W3C 日期时间")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _list(request: HttpRequest, fmt: str) -> HttpResponse:
    queryset = _visible(request).select_related("category", "handling_org")
    jurisdiction = _check_jurisdiction(request)
    if jurisdiction != "320000":
        queryset = queryset.filter(region__code__startswith=jurisdiction[:4])
    ids = [i for i in _param(request, "service_request_id").split(",") if i.strip()]
    if ids:
        queryset = queryset.filter(ticket_no__in=[i.strip() for i in ids])
    else:
        end = _date(request, "end_date") or timezone.now()
        start = _date(request, "start_date") or end - dt.timedelta(days=90)
        queryset = queryset.filter(submitted_at__gte=start, submitted_at__lte=end)
        codes = [c.strip() for c in _param(request, "service_code").split(",") if c.strip()]
        if codes:
            queryset = queryset.filter(category__code__in=codes)
        statuses = {s.strip() for s in _param(request, "status").split(",") if s.strip()}
        if statuses == {"open"}:
            queryset = queryset.filter(status__in=OPEN)
        elif statuses == {"closed"}:
            queryset = queryset.exclude(status__in=OPEN)
    rows = list(queryset.order_by("-submitted_at")[:1000])
    notes = _notes([c.pk for c in rows])
    return render(fmt, "service_requests", [_request_item(c, notes) for c in rows])


@open311_view(("GET", "POST"))
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    return _list(request, fmt)


@open311_view()
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    complaint = _visible(request).select_related("category", "handling_org").filter(ticket_no=request_id).first()
    if complaint is None:
        raise Open311Error(404, f"service_request_id {request_id} not found / 未找到该诉求")
    return render(fmt, "service_requests", [_request_item(complaint, _notes([complaint.pk]))])


@open311_view()
def token_detail(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """Requests are created synchronously, so a "token" is the service_request_id itself."""
    if not Complaint.objects.filter(ticket_no=token).exists():
        raise Open311Error(404, f"token {token} not found / 未找到该令牌")
    return render(fmt, "service_requests", [{"service_request_id": token, "token": token}])


# --- FixMyStreet: service request updates --------------------------------------------------------------------------


def _updates(request: HttpRequest, fmt: str) -> HttpResponse:
    visible = _visible(request)
    jurisdiction = _check_jurisdiction(request)
    if jurisdiction != "320000":
        visible = visible.filter(region__code__startswith=jurisdiction[:4])
    end = _date(request, "end_date") or timezone.now()
    start = _date(request, "start_date") or end - dt.timedelta(days=1)
    events = (ComplaintEvent.objects.filter(public=True, at__gte=start, at__lte=end,
                                            complaint_id__in=visible.values("pk"))
              .select_related("complaint").order_by("at", "id")[:1000])
    items = []
    for event in events:
        status = FMS_STATUS.get(event.step) or ("OPEN" if event.complaint.status in OPEN else "CLOSED")
        items.append({
            "update_id": str(event.pk), "service_request_id": event.complaint.ticket_no, "status": status,
            "updated_datetime": _w3c(event.at), "description": scrub(event.note), "media_url": "",
            "external_status_code": event.step,
        })
    return render(fmt, "service_request_updates", items)


def _post_update(request: HttpRequest, fmt: str) -> HttpResponse:
    token = _token(request, "add", required=True)
    assert token is not None
    request_id = _param(request, "service_request_id")
    complaint = Complaint.objects.filter(ticket_no=request_id).first()
    if complaint is None:
        raise Open311Error(404, f"service_request_id {request_id} not found / 未找到该诉求")
    if not token.user.has_perm("complaints.add_complaint"):
        raise Open311Error(403, "this api_key may not post updates / 该 api_key 无权补充诉求")
    with audit.audit_context(token.user, ip=client_ip(request), request_id=getattr(request, "request_id", "")):
        event = services.add_public_update(complaint, description=_param(request, "description"))
    return render(fmt, "service_request_updates", [{"update_id": str(event.pk)}], status=201)


@open311_view(("GET", "POST"))
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_update(request, fmt)
    return _updates(request, fmt)

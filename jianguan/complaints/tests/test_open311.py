"""Open311 GeoReport v2 as an existing client uses it, over real HTTP (live server + httpx): discovery, services,
service definitions, create/list/get requests, tokens, FixMyStreet request updates; XML and JSON; errors per spec."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import httpx
import pytest

from jianguan.complaints import services
from jianguan.complaints.choices import ComplaintStatus
from jianguan.complaints.models import Complaint, Reporter
from jianguan.complaints.tests.factories import make_ticket
from jianguan.core.testing.personas import make_token, make_user


def xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - the answer of our own test server


pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=f"{live_server.url}/open311/", timeout=10) as client:
        yield client


@pytest.fixture
def api_key(db):
    machine = make_user("fms_client", "320000", "011", ["api_client"], is_machine=True)
    return make_token(machine, ["add"])


def test_a_client_discovers_the_endpoint_in_json_and_xml(http) -> None:
    body = http.get("discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and "application/json" in endpoint["formats"]
    root = xml(http.get("discovery.xml").content)
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_it_lists_services_and_their_definitions(http) -> None:
    services_json = http.get("v2/services.json", params={"jurisdiction_id": "320000"}).json()
    food = next(s for s in services_json if s["service_code"] == "0101")
    assert food == {"service_code": "0101", "service_name": "餐饮服务", "description": food["description"],
                    "metadata": True, "type": "realtime", "keywords": food["keywords"], "group": "食品安全"}
    listing = xml(http.get("v2/services.xml").content)
    assert listing.tag == "services" and listing.find("service/metadata").text == "true"
    definition = http.get("v2/services/0101.json").json()
    assert definition["service_code"] == "0101"
    kind = next(a for a in definition["attributes"] if a["code"] == "kind")
    assert kind["datatype"] == "singlevaluelist" and {v["key"] for v in kind["values"]} >= {"complaint", "report"}
    definition_xml = xml(http.get("v2/services/0101.xml").content)
    assert definition_xml.tag == "service_definition" and definition_xml.find("attributes/attribute/code") is not None


def test_errors_follow_the_spec(http) -> None:
    response = http.get("v2/services/9999.json")
    assert response.status_code == 404 and response.json()[0]["code"] == 404
    response = http.get("v2/services.xml", params={"jurisdiction_id": "110000"})
    assert response.status_code == 404
    assert xml(response.content).find("error/code").text == "404"
    response = http.post("v2/requests.json", data={"service_code": "0101", "description": "x", "lat": "32"})
    assert response.status_code == 403 and "api_key" in response.json()[0]["description"]


def test_a_client_submits_a_request_and_reads_it_back(http, api_key) -> None:
    response = http.post("v2/requests.json", data={
        "api_key": api_key, "jurisdiction_id": "320100", "service_code": "0602", "lat": "32.0603", "long": "118.7969",
        "address_string": "南京市鼓楼区中山路某路口", "description": "路口有流动摊贩占道经营，电话13912345678可联系",
        "first_name": "三", "last_name": "张", "phone": "13912345678", "attribute[kind]": "report",
    })
    assert response.status_code == 201, response.text
    created = response.json()[0]
    ticket = Complaint.objects.get(ticket_no=created["service_request_id"])
    assert ticket.channel == "open311" and ticket.region_id == "320106" and ticket.category.code == "0602"
    assert Reporter.objects.get(complaint=ticket).name == "张 三"
    # Reports are confidential: not listed without a viewing key.
    assert http.get(f"v2/requests/{ticket.ticket_no}.json").status_code == 404

    complaint = make_ticket(ComplaintStatus.HANDLING, region="320106", category="0101")
    one = http.get(f"v2/requests/{complaint.ticket_no}.json").json()[0]
    assert one["status"] == "open" and one["service_code"] == "0101"
    assert one["agency_responsible"] == "南京市鼓楼区市场监督管理局"
    text = str(one)
    assert "13912345678" not in text and "张三" not in text and "11010519491231002X" not in text
    listed = xml(http.get("v2/requests.xml", params={"status": "open"}).content)
    assert listed.tag == "service_requests"
    assert complaint.ticket_no in [r.find("service_request_id").text for r in listed.findall("request")]
    assert http.get("v2/requests.json", params={"service_request_id": complaint.ticket_no,
                                                "jurisdiction_id": "320500"}).json() == []
    assert http.get(f"v2/tokens/{complaint.ticket_no}.json").json()[0]["service_request_id"] == complaint.ticket_no


def test_a_viewing_key_sees_confidential_reports_of_its_scope(http) -> None:
    viewer = make_user("fms_viewer", "320100", "011", ["hotline_dispatcher"], is_machine=True)
    key = make_token(viewer, ["view"])
    report = make_ticket(ComplaintStatus.REGISTERED, kind="report", region="320106", reporter_name="",
                         reporter_phone="", anonymous=True)
    assert http.get(f"v2/requests/{report.ticket_no}.json", params={"api_key": key}).status_code == 200


def test_closed_tickets_map_to_closed_and_updates_flow_both_ways(http, api_key) -> None:
    done = make_ticket(ComplaintStatus.EVALUATED, region="320106")
    item = http.get(f"v2/requests/{done.ticket_no}.xml")
    assert xml(item.content).find("request/status").text == "closed"
    updates = http.get("v2/servicerequestupdates.json").json()
    mine = [u for u in updates if u["service_request_id"] == done.ticket_no]
    assert {"OPEN", "INVESTIGATING", "ACTION_SCHEDULED", "CLOSED"} <= {u["status"] for u in mine}
    ongoing = make_ticket(ComplaintStatus.HANDLING, region="320106")
    response = http.post("v2/servicerequestupdates.xml", data={
        "api_key": api_key, "service_request_id": ongoing.ticket_no, "description": "补充：今天又发现同样问题",
        "status": "OPEN", "update_id": "fms-1",
    })
    assert response.status_code == 201
    update_id = xml(response.content).find("request_update/update_id").text
    assert ongoing.events.get(pk=int(update_id)).note == "补充：今天又发现同样问题"


def test_an_idempotent_retry_does_not_duplicate(http, api_key) -> None:
    data = {"api_key": api_key, "service_code": "0101", "address_string": "南京市鼓楼区某饭店",
            "description": "饭店卫生差，后厨有老鼠", "attribute[kind]": "report"}
    first = http.post("v2/requests.json", data=data, headers={"Idempotency-Key": "fms-42"})
    second = http.post("v2/requests.json", data=data, headers={"Idempotency-Key": "fms-42"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()[0]["service_request_id"] == second.json()[0]["service_request_id"]
    assert Complaint.objects.count() == 1
    assert services.track_complaint(first.json()[0]["service_request_id"], "WRONG000") is None

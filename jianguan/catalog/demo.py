"""Demo catalogue: 300+ main items with sub-items across 13 departments, real law names, implementation lists for
the demo places, a national catalogue with mappings, items in every workflow state, and demo logins for the two
catalogue roles. Deterministic for a given seed.

The published catalogue is written through the bulk path (one audit event for the load, like the kernel's demo);
the drafts, submissions, revisions and the abolition go through the services, so they carry their own history.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from jianguan.catalog import services
from jianguan.catalog.choices import HistoryAction, ImplementationLevel, ItemState, VersionStatus
from jianguan.catalog.demo_data import (
    COERCION_TEXT,
    DEPARTMENTS,
    HANDLING_UNITS,
    INSPECT_TEXT,
    PENALTY_TEXT,
    Law,
    Topic,
)
from jianguan.catalog.models import (
    PROVINCE_CODE,
    BasisCitation,
    CodeSequence,
    ImplementationItem,
    ItemEvent,
    ItemVersion,
    LegalBasis,
    NationalItem,
    NationalMapping,
    SupervisionItem,
)
from jianguan.core import audit
from jianguan.core.models import DepartmentKind, Organization, Region, Role, User
from jianguan.lib.validators import make_uscc

DEMO_PLACES = ("320000", "320100", "320106", "320115", "320500", "320508", "320583")
PUBLISHED_AT = dt.datetime(2019, 4, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 苏政办发〔2019〕21号: end of April
CATALOGUE_ACCOUNTS = (  # (username, region, department kind, role, full name)
    ("js_cateditor", "320000", "001", "catalog_editor", "省市场监管局目录编辑员"),
    ("js_catreviewer", "320000", "011", "catalog_reviewer", "省政务办目录审核员"),
    ("nj_cateditor", "320100", "001", "catalog_editor", "南京市场监管目录编辑员"),
    ("gl_cateditor", "320106", "001", "catalog_editor", "鼓楼市场监管目录编辑员"),
    ("jn_cateditor", "320115", "001", "catalog_editor", "江宁市场监管目录编辑员"),
    ("sz_cateditor", "320500", "001", "catalog_editor", "苏州市场监管目录编辑员"),
    ("gs_cateditor", "320508", "001", "catalog_editor", "姑苏市场监管目录编辑员"),
    ("ks_cateditor", "320583", "001", "catalog_editor", "昆山市场监管目录编辑员"),
)
NATIONAL_DEPARTMENTS = {
    "001": "市场监管总局", "002": "生态环境部", "003": "住房城乡建设部", "004": "交通运输部", "005": "农业农村部",
    "006": "文化和旅游部", "007": "国家卫生健康委", "008": "应急管理部", "009": "公安部", "010": "自然资源部",
    "013": "国家发展改革委", "018": "水利部", "020": "国家药监局",
}
NATIONAL_METHODS = {"01": "行政检查", "02": "行政处罚", "03": "行政强制", "04": "其他"}
INSPECT_MEASURES = "现场检查；查阅、复制有关合同、票据、账簿和其他资料；询问有关人员；抽样检验；调取视频监控和电子数据"
INSPECT_PROCESS = ("制定年度检查计划→“双随机”抽取检查对象和执法人员→出示执法证件实施现场检查→制作现场检查笔录→"
                   "发现问题依法责令改正或立案查处→检查结果录入系统并公示")
INSPECT_RESULT = ("检查结果记入监管对象信用记录，并通过国家企业信用信息公示系统等渠道向社会公开；"
                  "发现违法行为的依法处理。")
PENALTY_MEASURES = ("警告、通报批评；罚款、没收违法所得、没收非法财物；暂扣许可证件、降低资质等级、吊销许可证件；"
                    "责令停产停业")
PENALTY_PROCESS = "立案→调查取证→法制审核→告知拟作出的处罚及陈述、申辩、听证权利→作出处罚决定→送达→执行→结案归档"
PENALTY_RESULT = "作出行政处罚决定书，依法公示行政处罚信息；当事人不服的，可依法申请行政复议或者提起行政诉讼。"
COERCION_PROCESS = ("报经行政机关负责人批准→通知当事人到场→出示执法证件→告知采取强制措施的理由、依据及当事人权利→"
                    "制作现场笔录和清单→送达决定书→在法定期限内作出处理决定")
FOOD_INSPECTION_TEXT = "县级以上人民政府食品安全监督管理部门履行食品安全监督管理职责，有权进行现场检查。"
COERCION_RESULT = "查清事实后依法作出没收、销毁或者解除强制措施的决定。"


def _tz_date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _levels(text: str) -> list[str]:
    return [lv for lv in ("province", "city", "county") if lv in text.split(",")]


def _agency_uscc(region: str, kind: str) -> str:
    from jianguan.core.demo import org_code_check

    body = f"MB{int(kind):03d}000"
    return make_uscc(f"11{region}{body}{org_code_check(body)}")


class _Plan:
    """Main items to write: (department, method, name, leaf content or None, [(sub name, content)])."""

    def __init__(self) -> None:
        self.mains: list[tuple[str, str, str, dict[str, Any] | None, list[tuple[str, dict[str, Any]]]]] = []
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, dept: str, method: str, name: str, content: dict[str, Any] | None,
            subs: list[tuple[str, dict[str, Any]]]) -> None:
        if (dept, method, name) in self._seen:
            return
        self._seen.add((dept, method, name))
        self.mains.append((dept, method, name, content, subs))


def _content(target: str, law: Law, article: str, text: str, *, measures: str, process: str, result: str,
             levels: str) -> dict[str, Any]:
    return {"targets": target, "law": law.name, "article": article, "text": text, "measures": measures,
            "process": process, "result": result, "levels": _levels(levels)}


def _plan_catalogue() -> _Plan:
    plan = _Plan()
    for dept, spec in DEPARTMENTS.items():
        laws: tuple[Law, ...] = spec["laws"]  # type: ignore[assignment]
        topics: tuple[Topic, ...] = spec["topics"]  # type: ignore[assignment]
        kind_name = DepartmentKind.objects.get(code=dept).name
        for topic in topics:
            law = laws[topic.law]
            body = f"县级以上{kind_name.removesuffix('局').removesuffix('委员会')}主管部门"
            inspect = _content(topic.target, law, topic.inspect,
                               INSPECT_TEXT.format(body=body, target=topic.target, law=f"《{law.name}》"),
                               measures=INSPECT_MEASURES, process=INSPECT_PROCESS, result=INSPECT_RESULT,
                               levels=topic.levels)
            aspects = [a for a in topic.aspects if a]
            name = f"对{topic.target}的监督检查"
            if aspects:
                plan.add(dept, "01", name, None, [(a if a.startswith("对") else f"对{topic.target}的{a}", inspect)
                                                  for a in aspects])
            else:
                plan.add(dept, "01", name, inspect, [])
            for violation, article in topic.violations:
                penalty = _content(topic.target, law, article, PENALTY_TEXT.format(violation=violation),
                                   measures=PENALTY_MEASURES, process=PENALTY_PROCESS, result=PENALTY_RESULT,
                                   levels=topic.levels)
                plan.add(dept, "02", f"对{violation}的行政处罚", penalty, [])
            if topic.coercion is not None:
                measure, article = topic.coercion
                coercion = _content(topic.target, law, article, COERCION_TEXT.format(measure=measure),
                                    measures=measure, process=COERCION_PROCESS, result=COERCION_RESULT,
                                    levels=topic.levels)
                plan.add(dept, "03", measure, coercion, [])
            if any("许可" in v for v, _a in topic.violations):
                plan.add(dept, "04", f"{topic.target}许可事项事中事后监管", _content(
                    topic.target, law, topic.inspect,
                    INSPECT_TEXT.format(body=body, target=topic.target, law=f"《{law.name}》"),
                    measures="核查许可条件保持情况；检查是否超越许可范围经营；对告知承诺事项开展核查",
                    process=INSPECT_PROCESS, result=INSPECT_RESULT, levels=topic.levels), [])
    return plan


def _ensure_provincial_departments() -> dict[str, Organization]:
    orgs = {}
    province = Region.objects.get(code=PROVINCE_CODE)
    for dept in DEPARTMENTS:
        kind = DepartmentKind.objects.get(code=dept)
        org, _created = Organization.objects.get_or_create(
            region=province, kind=kind, defaults={"code": f"{PROVINCE_CODE}{dept}", "name": kind.province_name})
        orgs[dept] = org
    return orgs


def _write_bases() -> dict[str, LegalBasis]:
    wanted: dict[str, Law] = {}
    for spec in DEPARTMENTS.values():
        for law in spec["laws"]:  # type: ignore[attr-defined]
            wanted.setdefault(law.name, law)
    existing = {b.name: b for b in LegalBasis.objects.filter(name__in=wanted)}
    LegalBasis.objects.bulk_create([
        LegalBasis(name=law.name, level=law.level, issuing_body=law.body, document_number=law.number,
                   effective_on=_tz_date(law.effective), amended_on=_tz_date(law.amended),
                   status="in_force", created_at=PUBLISHED_AT)
        for name, law in wanted.items() if name not in existing
    ])
    return {b.name: b for b in LegalBasis.objects.filter(name__in=wanted)}


def _write_catalogue(plan: _Plan, orgs: dict[str, Organization], bases: dict[str, LegalBasis]) -> dict[str, int]:
    """Bulk path: items, published versions, citations and history for the whole plan."""
    serials: dict[tuple[str, str], int] = defaultdict(int)
    mains: list[SupervisionItem] = []
    leaf_content: dict[str, dict[str, Any]] = {}
    main_names: dict[str, str] = {}
    subs_of: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for dept, method, name, content, subs in plan.mains:
        serials[(dept, method)] += 1
        main_code = f"32{dept}{method}{serials[(dept, method)]:04d}"
        code = f"{main_code}000"
        mains.append(SupervisionItem(code=code, main_code=main_code, department_kind_id=dept, method=method,
                                     region_id=PROVINCE_CODE, organization=orgs[dept], name=name,
                                     state=ItemState.PUBLISHED, created_at=PUBLISHED_AT))
        main_names[code] = name
        if content is not None:
            leaf_content[code] = content
        subs_of[code] = [(f"{main_code}{i:03d}", sub_name, sub_content)
                         for i, (sub_name, sub_content) in enumerate(subs, start=1)]
    SupervisionItem.objects.bulk_create(mains, batch_size=500)
    by_code = {i.code: i for i in SupervisionItem.objects.filter(code__in=[m.code for m in mains])}
    sub_rows = []
    for main_code, sub_specs in subs_of.items():
        main = by_code[main_code]
        for code, sub_name, sub_content in sub_specs:
            sub_rows.append(SupervisionItem(code=code, main_code=code[:11], main=main,
                                            department_kind_id=main.department_kind_id,
                                            method=main.method, region_id=PROVINCE_CODE,
                                            organization_id=main.organization_id, name=sub_name,
                                            state=ItemState.PUBLISHED, created_at=PUBLISHED_AT))
            leaf_content[code] = sub_content
    SupervisionItem.objects.bulk_create(sub_rows, batch_size=500)
    items = list(SupervisionItem.objects.filter(state=ItemState.PUBLISHED, current_version__isnull=True))
    versions = []
    for item in items:
        content = leaf_content.get(item.code)
        version = ItemVersion(item=item, number=1, status=VersionStatus.PUBLISHED, name=item.name,
                              created_at=PUBLISHED_AT, updated_at=PUBLISHED_AT, submitted_at=PUBLISHED_AT,
                              reviewed_at=PUBLISHED_AT, published_at=PUBLISHED_AT,
                              change_reason="2019年目录清单首次发布")
        if content is not None:
            version.measures, version.targets = content["measures"], content["targets"]
            version.process, version.result = content["process"], content["result"]
            version.level_province = "province" in content["levels"]
            version.level_city = "city" in content["levels"]
            version.level_county = "county" in content["levels"]
            version.search_text = "\n".join((item.name, content["measures"], content["targets"], content["process"],
                                             content["result"],
                                             f"《{content['law']}》{content['article']}{content['text']}"))
        else:
            version.search_text = item.name
        versions.append(version)
    ItemVersion.objects.bulk_create(versions, batch_size=500)
    version_of = {v.item_id: v for v in ItemVersion.objects.filter(item__in=items)}
    citations, history = [], []
    for item in items:
        version = version_of[item.pk]
        content = leaf_content.get(item.code)
        if content is not None:
            citations.append(BasisCitation(version=version, basis=bases[content["law"]], position=0,
                                           article=content["article"], text=content["text"]))
        history.append(ItemEvent(item=item, version=version, action=HistoryAction.IMPORTED, actor_name="system:demo",
                                 at=PUBLISHED_AT, comment="2019年监管事项目录清单首次编制"))
        history.append(ItemEvent(item=item, version=version, action=HistoryAction.PUBLISHED,
                                 actor_name="system:demo", at=PUBLISHED_AT, comment="统一发布"))
        item.current_version = version
        item.latest_version = version
    BasisCitation.objects.bulk_create(citations, batch_size=1000)
    ItemEvent.objects.bulk_create(history, batch_size=1000)
    SupervisionItem.objects.bulk_update(items, ["current_version", "latest_version"], batch_size=500)
    sequences = [CodeSequence(prefix=f"32{dept}{method}", last_serial=n) for (dept, method), n in serials.items()]
    sequences += [CodeSequence(prefix=code[:11], last_serial=len(subs)) for code, subs in subs_of.items() if subs]
    CodeSequence.objects.bulk_create(sequences)
    return {"mains": len(mains), "subs": len(sub_rows), "departments": len({m.department_kind_id for m in mains})}


def _area_code(region: str) -> str:
    return "0512" if region.startswith("3205") else "025"


def _write_implementations(rng: random.Random) -> int:
    leaves = list(SupervisionItem.objects.published().leaves().select_related("current_version"))
    places = {r.code: r for r in Region.objects.filter(code__in=DEMO_PLACES)}
    orgs = list(Organization.objects.filter(region_id__in=DEMO_PLACES, kind_id__in=list(DEPARTMENTS))
                .select_related("region", "kind"))
    for org in orgs:
        if not org.uscc:
            org.uscc = _agency_uscc(org.region_id, org.kind_id)
    Organization.objects.bulk_update(orgs, ["uscc"])
    digit = {"province": ImplementationLevel.PROVINCE, "city": ImplementationLevel.CITY,
             "county": ImplementationLevel.COUNTY}
    rows = []
    roads = ("中山路", "北京东路", "江东中路", "干将西路", "人民路", "前进西路", "长江路")
    for org in orgs:
        region = places[org.region_id]
        level = region.level
        for item in leaves:
            assert item.current_version is not None
            if item.department_kind_id != org.kind_id or level not in item.current_version.levels:
                continue
            rows.append(ImplementationItem(
                code=f"{org.uscc}{digit[level]}{item.code}", item=item, region_id=org.region_id, organization=org,
                level=digit[level], handling_unit=HANDLING_UNITS.get(org.kind_id, ""),
                contact_phone=f"{_area_code(org.region_id)}-{8000_0000 + rng.randrange(1000_0000):08d}",
                place=f"{region.full_name}{roads[rng.randrange(len(roads))]}{rng.randrange(1, 300)}号{org.name}",
                notes="按照“双随机、一公开”要求实施，抽查比例和频次按年度抽查计划执行。" if item.method == "01" else "",
                created_at=PUBLISHED_AT,
            ))
    ImplementationItem.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _write_national(rng: random.Random) -> tuple[int, int]:
    mains = list(SupervisionItem.objects.filter(main__isnull=True).order_by("code"))
    nationals, pairs = [], []
    serial: dict[str, int] = defaultdict(int)
    for item in mains:
        if rng.random() < 0.12:
            continue  # a local item without a national counterpart (set by local regulations)
        key = f"{item.department_kind_id}{item.method}"
        serial[key] += 1
        code = f"1{key}{serial[key]:06d}"
        nationals.append(NationalItem(code=code, name=item.name,
                                      department=NATIONAL_DEPARTMENTS[item.department_kind_id],
                                      method=NATIONAL_METHODS.get(item.method, "其他"), edition="2019年版"))
        pairs.append((item, code))
    for dept, ministry in NATIONAL_DEPARTMENTS.items():
        serial[f"{dept}01"] += 1
        nationals.append(NationalItem(code=f"1{dept}01{serial[f'{dept}01']:06d}", name=f"{ministry}直接实施的监督检查",
                                      department=ministry, method="行政检查", edition="2019年版"))
    NationalItem.objects.bulk_create(nationals)
    national_by_code = {n.code: n for n in NationalItem.objects.all()}
    NationalMapping.objects.bulk_create([
        NationalMapping(item=item, national_item=national_by_code[code], note="2019年目录对接", created_at=PUBLISHED_AT)
        for item, code in pairs])
    return len(nationals), len(pairs)


def _write_users() -> list[User]:
    roles = {r.code: r for r in Role.objects.filter(code__in=("catalog_editor", "catalog_reviewer"))}
    password = make_password(_demo_password())
    users = []
    for username, region, kind, role, full_name in CATALOGUE_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            org = Organization.objects.filter(region_id=region, kind_id=kind).first()
            user = User(username=username, full_name=full_name, region_id=region, organization=org,
                        password_changed_at=timezone.now())
            user.password = password
            user.save()
            user.roles.set([roles[role]])
        users.append(user)
    return users


def _demo_password() -> str:
    from jianguan.core.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def _workflow_examples(editor: User, reviewer: User, rng: random.Random) -> dict[str, int]:
    """Items in every state, through the services (so each has its own history and audit trail)."""
    market = list(SupervisionItem.objects.published().leaves().filter(department_kind_id="001", method="01")
                  .select_related("current_version").order_by("code"))
    picked = rng.sample(market, 6)
    counts = {"draft": 0, "submitted": 0, "approved": 0, "rejected": 0}
    for index, item in enumerate(picked):
        version = services.start_revision(item, actor=editor, reason="《中华人民共和国食品安全法》修正后同步修订")
        content = services.content_of(version)
        revised = services.ItemContent(content.name, content.measures + "；根据信用风险分类结果确定检查比例和频次",
                                       content.targets, content.process, content.result, content.levels,
                                       content.citations)
        version = services.update_draft(version, actor=editor, reason="补充信用风险分类监管要求", content=revised)
        if index >= 2:
            version = services.submit_version(version, actor=editor, comment="请审核")
        if index == 4:
            version = services.approve_version(version, actor=reviewer, comment="同意，待发布")
        if index == 5:
            version = services.reject_version(version, actor=reviewer, comment="请补充检查频次的具体依据")
        counts[version.status] = counts.get(version.status, 0) + 1
    food = LegalBasis.objects.get(name="中华人民共和国食品安全法")
    kind = DepartmentKind.objects.get(code="001")
    draft = services.create_item(actor=editor, department_kind=kind, method="01", reason="新增网络食品交易监管事项",
                                 content=services.ItemContent(name="对网络食品交易第三方平台提供者的监督检查"))
    for name in ("对入网食品经营者审查登记情况的检查", "对平台食品安全管理制度落实情况的检查"):
        sub = services.create_sub_item(draft, actor=editor, content=services.ItemContent(
            name=name, measures=INSPECT_MEASURES, targets="网络食品交易第三方平台提供者", process=INSPECT_PROCESS,
            result=INSPECT_RESULT, levels=("province", "city"),
            citations=(services.CitationData(food, "第一百一十条", "", FOOD_INSPECTION_TEXT),)))
        assert sub.latest_version is not None
        services.submit_version(sub.latest_version, actor=editor)
    assert draft.latest_version is not None
    services.submit_version(draft.latest_version, actor=editor, comment="新增事项，请审核")
    counts["submitted"] += 3
    gone = rng.choice([i for i in market if i not in picked])
    services.abolish_item(gone, actor=reviewer, reason="该检查事项已并入其他事项", abolished_on=dt.date(2024, 1, 1))
    return counts


def build_catalog(rng: random.Random) -> str:
    """The demo step registered by ``CatalogConfig.ready()``; returns the one-line summary."""
    if SupervisionItem.objects.exists():
        return "catalogue already loaded"
    orgs = _ensure_provincial_departments()
    bases = _write_bases()
    counts = _write_catalogue(_plan_catalogue(), orgs, bases)
    implementations = _write_implementations(rng)
    national, mapped = _write_national(rng)
    users = {u.username: u for u in _write_users()}
    states = _workflow_examples(users["js_cateditor"], users["js_catreviewer"], rng)
    audit.record_event("catalog.demo.loaded", object_type="catalog.supervisionitem", details={
        **counts, "implementations": implementations, "national_items": national, "mappings": mapped, **states})
    logins = ", ".join(u for u, *_rest in CATALOGUE_ACCOUNTS)
    return (f"{counts['mains']} main items and {counts['subs']} sub-items across {counts['departments']} departments, "
            f"{implementations} implementation lists, {national} national items ({mapped} mapped), "
            f"{states['draft']} drafts, {states['submitted']} submitted, {states['approved']} approved, "
            f"{states['rejected']} returned; logins {logins} (demo password)")

"""Demo data for 投诉举报: about 20,000 work orders over the last two years, with realistic Chinese texts across
the categories and all of Jiangsu's counties, in every state of the workflow — plus the 12345 centre's dispatchers,
supervisors and county handlers, and a trained classifier.

Rows are built in memory and written with ``bulk_create`` (reporters encrypted field by field as they are saved);
the whole step is one audit event, like the kernel's demo.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from jianguan.complaints.calendar import work_calendar
from jianguan.complaints.choices import (
    AssignmentRole,
    AssignmentStatus,
    ComplaintKind,
    ComplaintStatus,
    Rating,
    Step,
    SubjectMatch,
    SupervisionKind,
    SupervisionStatus,
)
from jianguan.complaints.models import (
    Assignment,
    Category,
    Complaint,
    ComplaintEvent,
    DispatchRule,
    Reporter,
    Supervision,
)
from jianguan.core import audit
from jianguan.core.fields import index_value
from jianguan.core.models import DepartmentKind, Organization, Region, Role, Subject, User

DEFAULT_TICKETS = 20_000
DAYS = 730

# Department kinds the dispatch catalogue needs beyond the kernel demo's, created at every region.
EXTRA_KINDS = ("015", "017", "020", "024", "025")

# Demo accounts: (username, role, region, department kind, full name)
DEMO_ACCOUNTS = (
    ("js_dispatcher", "hotline_dispatcher", "320000", "011", "省12345派单员"),
    ("nj_dispatcher", "hotline_dispatcher", "320100", "011", "南京12345派单员"),
    ("sz_dispatcher", "hotline_dispatcher", "320500", "011", "苏州12345派单员"),
    ("js_supervisor", "complaint_supervisor", "320000", "011", "省督办员"),
    ("nj_supervisor", "complaint_supervisor", "320100", "011", "南京督办员"),
    ("sz_supervisor", "complaint_supervisor", "320500", "011", "苏州督办员"),
    ("js_complaintadmin", "complaint_admin", "320000", "011", "省投诉举报业务管理员"),
    ("gl_market_handler", "complaint_handler", "320106", "001", "鼓楼市场监管承办人"),
    ("jn_market_handler", "complaint_handler", "320115", "001", "江宁市场监管承办人"),
    ("gs_market_handler", "complaint_handler", "320508", "001", "姑苏市场监管承办人"),
    ("ks_market_handler", "complaint_handler", "320583", "001", "昆山市场监管承办人"),
    ("gl_eco_handler", "complaint_handler", "320106", "002", "鼓楼生态环境承办人"),
    ("gl_urban_handler", "complaint_handler", "320106", "024", "鼓楼城管承办人"),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲芬燕彬鑫斌宇浩凯健俊帆帅旭宁龙林欣悦雪琳晨"
ROADS = ("中山路", "解放路", "人民路", "建设路", "长江路", "北京路", "上海路", "和平路", "新华路", "文化路", "学府路",
         "工业园路", "科技大道", "滨江大道", "太湖大道", "运河路", "青年路", "健康路", "光明路", "幸福路")
PRODUCTS = ("电饭煲", "空调", "手机", "羽绒服", "运动鞋", "电动自行车", "热水器", "儿童玩具", "净水器", "冰箱",
            "笔记本电脑")
FOODS = ("凉菜", "烤鱼", "小龙虾", "外卖盒饭", "蛋糕", "火锅", "麻辣烫", "早餐包子", "卤菜")
SHOPS = ("健身房", "美容院", "理发店", "游泳馆", "英语培训机构", "洗车店", "瑜伽馆", "儿童乐园")
WHEN = ("昨天晚上", "上周六", "本月初", "前天中午", "近一个月来", "最近几天", "今天上午", "上个月")
OPENINGS = ("", "", "", "您好，", "我要反映一个问题：", "本人是附近居民，", "多次反映未果，", "我是消费者，", "紧急！")
ASKS = ("请相关部门尽快核实处理。", "要求依法查处并给个说法。", "希望尽快解决。", "请监管部门介入调查。",
        "要求退款并赔偿损失。")

# {s} entity, {p} place, {a} amount, {w} when, {x} product, {f} food, {k} shop kind
TEXTS: dict[str, tuple[str, ...]] = {
    "0101": ("{w}在{s}就餐，点的{f}有异味，吃完后全家腹泻，店家拒不认账。",
             "{s}后厨卫生条件很差，苍蝇乱飞，餐具没有消毒，地址在{p}。",
             "{s}使用过期食材，服务员还把剩菜回收再卖，{w}亲眼看到。"),
    "0102": ("{p}有一家无证食品小作坊，夜里生产{f}，环境脏乱差。",
             "{s}生产的{f}添加剂超标，吃了以后孩子过敏。",
             "举报{s}在居民楼里违规加工食品，油烟和污水直排。"),
    "0103": ("{w}在{s}买的{f}已经过期三天还在销售，标签被重新贴过。",
             "{s}超市销售的散装食品没有标明生产日期和保质期。",
             "在{s}买到变质的牛奶，要求退款被拒绝。"),
    "0104": ("{w}通过外卖平台在{s}点的{f}里吃出异物，平台和商家互相推诿。",
             "外卖商家{s}没有实体店，疑似无证经营，地址{p}找不到店铺。",
             "网络订餐的{f}送到时已经变质，商家{s}拒绝退款。"),
    "0201": ("{w}在{s}办的{k}会员卡充值{a}元，现在突然关门跑路，余额无法退还。",
             "{k}{s}换了老板，之前充值的{a}元预付卡不认了，要求退款。",
             "{s}诱导办理预付卡{a}元，承诺随时可退，现在拒绝退卡。"),
    "0202": ("{w}在{s}买的{x}使用不到一周就坏了，商家拒绝三包维修。",
             "{s}销售假冒品牌{x}，质量很差，要求退一赔三。",
             "购买的{x}存在安全隐患，充电时冒烟，{s}不给处理。"),
    "0203": ("{s}停车场收费不明码标价，{w}被收了{a}元。",
             "{s}结账时价格比标价高，明显价格欺诈。",
             "物业{s}乱收费，每户额外收取{a}元公摊费没有依据。"),
    "0204": ("{w}在直播间买的{x}与宣传严重不符，商家{s}拒绝七天无理由退货。",
             "网店{s}收款后一直不发货，客服联系不上，货款{a}元。",
             "电商平台商家{s}销售的{x}是二手翻新机冒充新品。"),
    "0205": ("{s}宣称保健品能治愈糖尿病，诱导老人花{a}元购买，属于虚假宣传。",
             "{s}发传单宣传“全市最低价”，实际价格比别家高很多。",
             "{s}的广告夸大{x}效果，涉嫌虚假广告。"),
    "0301": ("{s}药店无处方销售处方药，{w}家人买到抗生素。",
             "在{s}买的药品包装与正品不同，怀疑是假药。",
             "{s}药店执业药师长期不在岗，店员随意推荐药品。"),
    "0302": ("{s}销售的血糖仪测量结果误差很大，怀疑是不合格医疗器械。",
             "{s}上门推销理疗仪，宣称包治百病，收费{a}元。",
             "{w}买的医用口罩没有注册证号，{s}拒绝退货。"),
    "0303": ("在{s}买的美白霜用后脸部红肿过敏，怀疑添加违禁成分。",
             "{s}美容店使用来路不明的化妆品，没有中文标签。",
             "网购{s}的化妆品是假货，要求查处。"),
    "0401": ("{s}工厂夜间偷排废气，周边居民闻到刺鼻气味，地点{p}。",
             "{p}附近的{s}喷漆作业没有废气处理设施，异味严重。",
             "{s}露天焚烧垃圾，浓烟滚滚影响居民生活。"),
    "0402": ("{s}通过暗管向河道排放污水，河水发黑发臭，位置在{p}。",
             "{p}附近河道出现大量死鱼，怀疑上游{s}偷排。",
             "{s}养殖场污水直排农田，{w}发现水质变色。"),
    "0403": ("楼下{s}烧烤店每天营业到凌晨两点，噪音扰民严重，地址{p}。",
             "{s}的冷却塔设备噪声很大，日夜轰鸣影响休息。",
             "{p}的广场舞音响音量太大，{w}多次沟通无果。"),
    "0404": ("有人在{p}偷倒建筑垃圾和工业固废，已经堆成小山。",
             "{s}将危险废物随意堆放在厂区外，没有任何防护。",
             "{w}发现有货车在{p}附近倾倒不明废渣。"),
    "0501": ("{s}工人高空作业不系安全带，存在严重安全隐患。",
             "{s}车间安全通道被货物堵死，消防设施损坏。",
             "{s}违规组织员工在有限空间作业，没有任何防护。"),
    "0502": ("{p}有人非法储存液化气钢瓶，数量很多，存在爆炸隐患。",
             "{s}危险化学品仓库与居民区距离太近，管理混乱。",
             "{s}饭店使用的燃气管道老化漏气，店家不整改。"),
    "0503": ("小区电动车在楼道充电，消防通道被占用，地址{p}。",
             "{s}商场消防通道上锁，安全出口指示灯损坏。",
             "{s}群租房私拉电线，存在火灾隐患。"),
    "0601": ("{p}有业主在楼顶违章搭建彩钢房，已经施工多日。",
             "{s}在小区绿地上私自搭建仓库。",
             "{w}发现{p}一楼住户扩建院子占用公共通道。"),
    "0602": ("{p}路口每天晚上有大量流动摊贩占道经营，影响交通。",
             "{s}把商品摆到人行道上，行人只能走机动车道。",
             "{p}早市摊贩占道，垃圾遍地无人清理。"),
    "0603": ("{p}垃圾桶满溢多日无人清运，气味难闻。",
             "{s}门前油污遍地，长期不清理。",
             "{p}的公共厕所卫生很差，设施损坏。"),
    "0701": ("{s}物业不作为，小区电梯经常故障困人，维修基金去向不明。",
             "{s}物业公司擅自提高物业费，服务质量却越来越差。",
             "小区{s}物业把公共区域出租牟利，收益不公开。"),
    "0702": ("{s}交付的商品房墙体开裂、卫生间漏水，开发商拒绝维修。",
             "{w}收房发现房屋面积缩水，{s}不给说法。",
             "{s}楼盘逾期交房已经半年，购房者多次维权无果。"),
    "0703": ("{s}工地夜间违规施工，噪声和灯光严重扰民，地址{p}。",
             "{p}工地渣土车不覆盖，沿路撒漏扬尘严重。",
             "{s}工地围挡倒塌，存在安全隐患。"),
    "0801": ("{w}乘坐出租车被绕路，多收了{a}元，车牌号已记下。",
             "网约车司机中途加价，平台{s}不处理投诉。",
             "出租车在{p}拒载，态度恶劣。"),
    "0802": ("{p}公交站台撤掉后居民出行很不方便，希望恢复。",
             "某路公交车经常不按时发车，{w}等了四十分钟。",
             "公交司机开车时玩手机，存在安全隐患。"),
    "0901": ("{s}拖欠我们三个月工资共计{a}元，多次讨要无果。",
             "{s}工地包工头拖欠农民工工资，年底了还不结算。",
             "{s}以各种理由克扣工资，加班费也不发。"),
    "0902": ("{s}不给员工缴纳社会保险，入职一年多了。",
             "{s}按最低基数缴纳社保，与实际工资不符。",
             "离职后{s}拒绝办理社保转移手续。"),
    "1001": ("{s}诊所医生态度恶劣，乱开检查项目收费{a}元。",
             "{w}在{s}看病被过度治疗，要求核查。",
             "{s}医院挂号难，黄牛倒卖号源。"),
    "1002": ("{s}游泳馆水质浑浊，游泳后皮肤瘙痒。",
             "{s}宾馆床单不更换，卫生条件很差。",
             "{p}的理发店工具不消毒，担心交叉感染。"),
    "1101": ("{w}参加{s}组织的旅游团被强制购物，导游态度恶劣。",
             "{s}旅行社收了{a}元团费后临时取消行程，不退款。",
             "景区{s}门票价格与公示不符，乱收费。"),
    "1102": ("{s}网吧接纳未成年人上网，{w}多次看到。",
             "{s}KTV经营到深夜，噪音扰民，涉嫌无证经营。",
             "{s}演出临时取消，票款{a}元迟迟不退。"),
    "1201": ("{s}校外培训机构收取{a}元学费后停课，拒绝退费。",
             "{s}违规开展学科类培训，周末上课到晚上。",
             "培训机构{s}虚假宣传保过，现在不履行承诺。"),
    "1301": ("在{s}买的种子发芽率很低，几亩地损失严重。",
             "{s}销售的化肥是假冒伪劣产品，庄稼减产。",
             "{s}农资店销售禁用农药。"),
    "1401": ("请问新生儿落户需要准备哪些材料，在{p}附近哪里办理？",
             "咨询个体工商户注册登记的办理流程和所需时间。",
             "请问异地医保备案怎么在网上办理？"),
    "1402": ("建议在{p}增设公交站点，方便周边居民出行。",
             "{p}路灯坏了很久，晚上出行不安全，请求帮助维修。",
             "建议延长{s}周边政务服务大厅周末的办理时间。"),
}
# Which categories each type draws from (the rest follow the category tree's usual use).
KIND_WEIGHTS = (
    (ComplaintKind.COMPLAINT, 0.44, ("0101", "0103", "0104", "0201", "0202", "0203", "0204", "0301", "0302", "0303",
                                     "0701", "0702", "0801", "1001", "1101", "1102", "1201", "0901")),
    (ComplaintKind.REPORT, 0.28, ("0101", "0102", "0103", "0104", "0205", "0301", "0303", "0401", "0402", "0403",
                                  "0404", "0501", "0502", "0503", "0601", "0602", "0603", "0703", "0902", "1002",
                                  "1301")),
    (ComplaintKind.CONSULTATION, 0.14, ("1401",)),
    (ComplaintKind.SUGGESTION, 0.07, ("1402", "0802")),
    (ComplaintKind.HELP, 0.07, ("1402", "0603")),
)


def _name(rng: random.Random) -> str:
    n = rng.choice(SURNAMES) + rng.choice(GIVEN)
    return n + rng.choice(GIVEN) if rng.random() < 0.6 else n


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def ensure_organizations() -> int:
    """The department kinds the dispatch catalogue names, at every region (demo only)."""
    kinds = {k.code: k for k in DepartmentKind.objects.filter(code__in=EXTRA_KINDS)}
    existing = set(Organization.objects.filter(kind_id__in=EXTRA_KINDS).values_list("code", flat=True))
    new = []
    for region in Region.objects.filter(active=True).select_related("parent"):
        for code, kind in kinds.items():
            org_code = f"{region.code}{code}"
            if org_code in existing:
                continue
            name = kind.province_name if region.level == "province" else f"{region.full_name}{kind.name}"
            new.append(Organization(code=org_code, name=name, kind=kind, region=region))
    Organization.objects.bulk_create(new, batch_size=1000)
    return len(new)


def ensure_accounts() -> int:
    from jianguan.core.demo import DEMO_PASSWORD

    roles = {r.code: r for r in Role.objects.filter(code__in={a[1] for a in DEMO_ACCOUNTS})}
    password = make_password(DEMO_PASSWORD)
    created = 0
    for username, role, region, kind, full_name in DEMO_ACCOUNTS:
        if User.objects.filter(username=username).exists() or role not in roles:
            continue
        org = Organization.objects.filter(region_id=region, kind_id=kind).first()
        user = User(username=username, full_name=full_name, region_id=region, organization=org,
                    password_changed_at=timezone.now())
        user.password = password
        user.save()
        user.roles.set([roles[role]])
        created += 1
    return created


class _Router:
    """The dispatch catalogue in memory (the same rules as ``routing.route``), for bulk generation."""

    def __init__(self) -> None:
        self.rules = {(r.category.code, r.region_id): r for r in DispatchRule.objects.select_related("category")
                      .filter(active=True)}
        self.orgs = {(o.region_id, o.kind_id): o for o in Organization.objects.filter(active=True).only(
            "id", "code", "name", "region_id", "kind_id")}

    def _org(self, kind: str, county: str, level: str) -> Organization | None:
        chain = [county, f"{county[:4]}00", "320000"]
        start = {"county": 0, "city": 1, "province": 2}[level]
        for code in chain[start:]:
            org: Organization | None = self.orgs.get((code, kind))
            if org is not None:
                return org
        return None

    def route(self, category: str, county: str) -> tuple[Organization | None, list[Organization]]:
        for cat in (category, category[:2]):
            for region in (county, f"{county[:4]}00", "320000"):
                rule = self.rules.get((cat, region))
                if rule is not None:
                    lead = self._org(rule.lead_kind_id, county, rule.level)
                    co = [o for o in (self._org(k, county, "county") for k in rule.co_kinds) if o and o != lead]
                    return lead, co
        return None, []


def _status_for(age_days: float, rng: random.Random) -> str:
    r = rng.random()
    table: tuple[tuple[float, str], ...]
    if age_days > 40:
        table = ((0.04, ComplaintStatus.MERGED), (0.07, ComplaintStatus.INVALID), (0.10, ComplaintStatus.CLOSED),
                 (1.0, ComplaintStatus.EVALUATED))
    elif age_days > 14:
        table = ((0.03, ComplaintStatus.MERGED), (0.06, ComplaintStatus.INVALID), (0.14, ComplaintStatus.HANDLING),
                 (0.22, ComplaintStatus.REPLIED), (0.40, ComplaintStatus.CLOSED), (1.0, ComplaintStatus.EVALUATED))
    elif age_days > 3:
        table = ((0.02, ComplaintStatus.MERGED), (0.04, ComplaintStatus.INVALID), (0.12, ComplaintStatus.DISPATCHED),
                 (0.55, ComplaintStatus.HANDLING), (0.75, ComplaintStatus.REPLIED), (0.90, ComplaintStatus.CLOSED),
                 (1.0, ComplaintStatus.EVALUATED))
    else:
        table = ((0.25, ComplaintStatus.RECEIVED), (0.40, ComplaintStatus.REGISTERED),
                 (0.65, ComplaintStatus.DISPATCHED),
                 (0.95, ComplaintStatus.HANDLING), (1.0, ComplaintStatus.REPLIED))
    return next(status for limit, status in table if r <= limit)


_PAST_FIELDS = ("registered_at", "dispatched_at", "accepted_at", "decided_at", "replied_at", "closed_at", "rated_at",
                "overdue_supervised_at", "reminded_at")


def _clamp(steps: list[tuple[str, dt.datetime, str, bool]], fields: dict[str, Any], now: dt.datetime) -> None:
    """Nothing in a recent ticket's history may lie in the future: squeeze late steps into the time up to now,
    keeping their order."""
    latest = now - dt.timedelta(minutes=len(steps) + 1)
    if steps and steps[-1][1] > latest:
        first = steps[0][1]
        last = steps[-1][1]
        scale = max(0.0, (latest - first) / (last - first)) if last > first else 0.0
        moved = {}
        for index, (step, at, note, public) in enumerate(steps):
            new_at = first + (at - first) * scale + dt.timedelta(seconds=index)
            moved[at] = new_at
            steps[index] = (step, new_at, note, public)
        for name in _PAST_FIELDS:
            value = fields.get(name)
            if value is not None and value > first:
                fields[name] = min(moved.get(value, first + (value - first) * scale), latest)


def build_demo(rng: random.Random, *, tickets: int = DEFAULT_TICKETS, train: bool = True) -> str:
    """The complaints demo step (registered with ``core.demo``)."""
    started = time.perf_counter()
    orgs = ensure_organizations()
    accounts = ensure_accounts()
    if Complaint.objects.exists():
        return f"already loaded ({Complaint.objects.count()} tickets); {orgs} departments, {accounts} accounts added"
    count = build_tickets(rng, tickets)
    summary = f"{count:,} tickets over {DAYS} days, {accounts} accounts, {orgs} departments"
    if train:
        from jianguan.complaints import classifier

        result = classifier.train(seed=rng.randrange(10**6))
        summary += (f"; classifier v{result.version} held-out accuracy {result.category_accuracy:.1%} (category), "
                    f"{result.department_accuracy:.1%} (department)")
    audit.record_event("complaints.demo.loaded", details={"tickets": count, "seconds": round(
        time.perf_counter() - started, 1)})
    return summary + f" in {time.perf_counter() - started:.1f} s"


def build_tickets(rng: random.Random, count: int) -> int:
    now = timezone.now()
    calendar = work_calendar()
    categories = {c.code: c for c in Category.objects.all()}
    router = _Router()
    counties = list(Region.objects.filter(level="county", active=True).values_list("code", "name", "parent__name"))
    big = {"3201": 2.4, "3205": 2.6, "3202": 1.6, "3204": 1.3}
    weights = [big.get(code[:4], 1.0) for code, _n, _p in counties]
    subjects_by_county: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for pk, name, uscc, region in Subject.objects.values_list("id", "name", "uscc", "region_id").iterator(20000):
        if len(subjects_by_county[region]) < 60:
            subjects_by_county[region].append((pk, name, uscc or ""))
    centre = {u.region_id: u for u in User.objects.filter(roles__code="hotline_dispatcher")}
    kinds = [k for k, _w, _c in KIND_WEIGHTS]
    kind_weights = [w for _k, w, _c in KIND_WEIGHTS]
    kind_categories = {k: c for k, _w, c in KIND_WEIGHTS}
    prefixes = {"complaint": "TS", "report": "JB", "consultation": "ZX", "suggestion": "JY", "help": "QZ"}
    limits = {"complaint": 15, "report": 15, "consultation": 3, "suggestion": 15, "help": 3}
    params = {"complaint": "complaints.limit.complaint_days", "report": "complaints.limit.report_verify_days",
              "consultation": "complaints.limit.consultation_days", "suggestion": "complaints.limit.suggestion_days",
              "help": "complaints.limit.help_days"}
    rows: list[Complaint] = []
    plans: list[dict[str, Any]] = []
    used_numbers: set[str] = set()
    for _i in range(count):
        # Volume grows a little over the two years; summer and pre-holiday peaks.
        age = DAYS * (rng.random() ** 1.15)
        submitted = now - dt.timedelta(days=age, minutes=rng.randrange(0, 600))
        local = timezone.localtime(submitted)
        kind = rng.choices(kinds, kind_weights)[0]
        code = rng.choice(kind_categories[kind])
        county, county_name, city_name = rng.choices(counties, weights)[0]
        pool = subjects_by_county.get(county) or [(0, "", "")]
        subject_id, subject_name, uscc = rng.choice(pool)
        if kind in (ComplaintKind.CONSULTATION, ComplaintKind.SUGGESTION, ComplaintKind.HELP) or not subject_id:
            subject_id, subject_name, uscc = 0, "", ""
        place = f"江苏省{city_name}{county_name}{rng.choice(ROADS)}{rng.randrange(1, 999)}号"
        text = rng.choice(TEXTS[code]).format(
            s=subject_name or "该单位", p=place.removeprefix("江苏省"),
            a=rng.choice((298, 800, 1500, 3000, 6800, 12000)),
            w=rng.choice(WHEN), x=rng.choice(PRODUCTS), f=rng.choice(FOODS), k=rng.choice(SHOPS),
        )
        content = f"{text}{rng.choice(ASKS)}" if kind in (ComplaintKind.COMPLAINT, ComplaintKind.REPORT) else text
        content = rng.choice(OPENINGS) + content
        if rng.random() < 0.05:  # real tickets are ambiguous: the handler filed it under a neighbouring category
            siblings = [c for c in TEXTS if c[:2] == code[:2] and c != code] or list(TEXTS)
            code = rng.choice(siblings)
        status = _status_for(age, rng)
        number = f"{prefixes[kind]}{local:%Y%m%d}{rng.randrange(10**10):010d}"
        while number in used_numbers:
            number = f"{prefixes[kind]}{local:%Y%m%d}{rng.randrange(10**10):010d}"
        used_numbers.add(number)
        anonymous = kind == ComplaintKind.REPORT and rng.random() < 0.3
        lead, co = router.route(code, county)
        plan: dict[str, Any] = {"status": status, "kind": kind, "anonymous": anonymous, "lead": lead, "co": co,
                                "county": county}
        fields: dict[str, Any] = {
            "ticket_no": number, "filing_no": number, "kind": kind, "status": status,
            "channel": rng.choices(("hotline", "portal", "api", "open311"), (0.55, 0.3, 0.12, 0.03))[0],
            "title": content[:24], "content": content, "place_address": place, "region_id": county,
            "handling_region_id": county, "subject_name": subject_name, "subject_uscc": uscc,
            "subject_id": subject_id or None,
            "subject_match": SubjectMatch.USCC if subject_id else SubjectMatch.NONE,
            "anonymous": anonymous, "submitted_at": submitted, "created_at": submitted,
            "occurred_on": (local - dt.timedelta(days=rng.randrange(0, 10))).date(),
        }
        if status != ComplaintStatus.RECEIVED:
            fields["category"] = categories[code]
        t = submitted + dt.timedelta(minutes=rng.randrange(5, 240))
        steps: list[tuple[str, dt.datetime, str, bool]] = [
            (Step.RECEIVED, submitted, "已收到您的诉求，正在登记。", True)]
        if status in (ComplaintStatus.INVALID,):
            fields.update(decision_ground="no_content", closed_at=t)
            steps.append((Step.REJECTED, t, "诉求内容不明确，经联系无法补充，不予受理。", True))
        elif status != ComplaintStatus.RECEIVED:
            days = limits[kind]
            due = calendar.deadline(timezone.localtime(t), days)
            fields.update(registered_at=t, clock_started_at=t, due_at=due, due_days=days, due_param=params[kind],
                          due_param_version=0, remind_at=t + (due - t) * 0.8)
            steps.append((Step.REGISTERED, t, "已受理，正在派单。", True))
            if status == ComplaintStatus.MERGED:
                fields.update(closed_at=t)
                steps.append((Step.MERGED, t, "与同一事项的工单合并办理。", True))
            elif status != ComplaintStatus.REGISTERED and lead is not None:
                t = t + dt.timedelta(minutes=rng.randrange(10, 300))
                fields.update(dispatched_at=t, handling_org=lead, handling_region_id=lead.region_id)
                steps.append((Step.DISPATCHED, t, "", True))
                if kind == ComplaintKind.COMPLAINT:
                    fields["decision_due_at"] = calendar.deadline(timezone.localtime(t), 7)
                if status not in (ComplaintStatus.DISPATCHED,):
                    t = t + dt.timedelta(hours=rng.randrange(1, 30))
                    fields["accepted_at"] = t
                    steps.append((Step.ACCEPTED, t, "承办单位已签收。", True))
                    late = rng.random() < 0.07
                    span = (due - t) * (1.2 if late else rng.uniform(0.2, 0.9))
                    if kind in (ComplaintKind.COMPLAINT, ComplaintKind.REPORT):
                        d = t + span * 0.3
                        fields.update(decision_accepted=True, decided_at=d,
                                      case_opened=(rng.random() < 0.4) if kind == ComplaintKind.REPORT else None)
                        steps.append((Step.DECIDED, d, "经审查符合受理条件。", True))
                        steps.append((Step.PROGRESS, t + span * 0.6, "已现场核查，正在处理。", False))
                    if status in (ComplaintStatus.REPLIED, ComplaintStatus.CLOSED, ComplaintStatus.EVALUATED):
                        r = t + span
                        reply = "经核查，情况基本属实，已责令当事人整改，并依法处理。感谢您的监督。"
                        if kind == ComplaintKind.CONSULTATION:
                            reply = "您咨询的事项可通过江苏政务服务网在线办理，也可到所在地政务服务大厅窗口办理。"
                        fields.update(replied_at=r, reply=reply, result="已处理")
                        steps.append((Step.REPLIED, r, reply, True))
                        if status in (ComplaintStatus.CLOSED, ComplaintStatus.EVALUATED):
                            c = r + dt.timedelta(hours=rng.randrange(2, 48))
                            fields["closed_at"] = c
                            steps.append((Step.CLOSED, c, "已办结。", True))
                            if status == ComplaintStatus.EVALUATED:
                                v = c + dt.timedelta(hours=rng.randrange(20, 60))
                                rating = rng.choices((Rating.SATISFIED, Rating.BASICALLY_SATISFIED,
                                                      Rating.DISSATISFIED), (0.86, 0.09, 0.05))[0]
                                if rating == Rating.DISSATISFIED:  # reopened once, then (mostly) satisfied
                                    steps.append((Step.RATED, v, str(Rating.DISSATISFIED.label), True))
                                    steps.append((Step.REOPENED, v, "诉求人不满意，工单重办。", True))
                                    fields["reopen_count"] = 1
                                    v = v + dt.timedelta(days=rng.randrange(2, 8))
                                    rating = rng.choice((Rating.BASICALLY_SATISFIED, Rating.SATISFIED))
                                fields.update(rating=rating, rated_at=v)
                                steps.append((Step.VISITED, v, "", False))
                                steps.append((Step.RATED, v, str(Rating(rating).label), True))
                    overdue_now = status in (ComplaintStatus.DISPATCHED, ComplaintStatus.HANDLING) and due < now
                    if overdue_now:
                        # the scheduled job's 督办 an hour after the deadline — or just now, for one only just missed
                        supervised = min(due + dt.timedelta(hours=1), now - dt.timedelta(seconds=1))
                        fields.update(overdue_supervised_at=supervised, reminded_at=fields["remind_at"])
                        plan["overdue"] = supervised
            elif status != ComplaintStatus.REGISTERED:
                fields["status"] = plan["status"] = ComplaintStatus.REGISTERED  # no department for it: awaiting
        _clamp(steps, fields, now)
        plan["steps"] = steps
        plan["reporter"] = None if anonymous else (_name(rng), _phone(rng))
        rows.append(Complaint(**fields))
        plans.append(plan)
    Complaint.objects.bulk_create(rows, batch_size=2000)
    reporters, events, assignments, supervisions = [], [], [], []
    for complaint, plan in zip(rows, plans, strict=True):
        if plan["reporter"] is not None:
            name, phone = plan["reporter"]
            reporters.append(Reporter(complaint=complaint, name=name, phone=phone,
                                      phone_index=index_value(Reporter, "phone_index", phone)))
        actor = centre.get(f"{plan['county'][:4]}00") or centre.get("320000")
        for step, at, note, public in plan["steps"]:
            by_centre = step in (Step.REGISTERED, Step.DISPATCHED, Step.CLOSED, Step.VISITED, Step.MERGED,
                                 Step.REJECTED)
            events.append(ComplaintEvent(
                complaint=complaint, step=step, at=at, note=note, public=public,
                actor=actor if by_centre else None,
                actor_name=(actor.display_name if actor and by_centre else
                            "公众" if step == Step.RECEIVED else
                            plan["lead"].name if plan["lead"] is not None else "系统"),
                organization=None if by_centre or plan["lead"] is None else plan["lead"],
            ))
        if complaint.dispatched_at and plan["lead"] is not None:
            accepted = complaint.status != ComplaintStatus.DISPATCHED
            assignments.append(Assignment(complaint=complaint, organization=plan["lead"], role=AssignmentRole.LEAD,
                                          assigned_at=complaint.dispatched_at, assigned_by=actor,
                                          status=AssignmentStatus.ACCEPTED if accepted else AssignmentStatus.PENDING))
            for org in plan["co"]:
                assignments.append(Assignment(complaint=complaint, organization=org, role=AssignmentRole.CO,
                                              assigned_at=complaint.dispatched_at, assigned_by=actor))
        if plan.get("overdue"):
            supervisions.append(Supervision(
                complaint=complaint, kind=SupervisionKind.OVERDUE, cycle=0, created_at=plan["overdue"],
                instructions="工单已超过办理期限，自动督办，请说明情况并尽快办结。", status=SupervisionStatus.OPEN))
            events.append(ComplaintEvent(complaint=complaint, step=Step.SUPERVISED, at=plan["overdue"],
                                         actor_name="系统", note="超期自动督办。"))
    Reporter.objects.bulk_create(reporters, batch_size=2000)
    ComplaintEvent.objects.bulk_create(events, batch_size=5000)
    Assignment.objects.bulk_create(assignments, batch_size=5000)
    Supervision.objects.bulk_create(supervisions, batch_size=2000)
    return len(rows)

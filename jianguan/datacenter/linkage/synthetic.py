"""A generator of labelled entity records with known true matches, for the linkage benchmark and tests.

Each true entity (企业, 个体工商户 or 合作社 in a real Jiangsu county) is written one or more times, as different
sources would write it: with or without its credit code (sometimes corrupted), with 有限公司/有限责任公司 swapped, the
city name dropped, a short name, typos and swapped characters, address variants, missing fields. Some entities have
look-alikes: different entities with the same trade name in another city, a neighbouring industry word or a trade
name one character away. The ``entity_id`` column is the truth.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jianguan.lib.validators import USCC_CHARSET, uscc_check_char

COLUMNS = ("record_id", "name", "uscc", "legal_rep", "address", "phone", "region_code", "entity_id")

TRADE_CHARS = (
    "鑫盛华信金源恒通瑞丰永安宏达天成嘉禾新远博雅立同创海纳众诚润泽福聚贤卓越锦程九州东方吴越运河太湖长江紫"
    "钟山汇德顺康乐云帆星辰智联鼎兴隆昌荣泰和美佳宝丽明辉光耀祥富贵安宁正大中亿万千百利达广源茂益欣悦晨曦"
    "蓝天绿洲青松翠竹梅兰菊清风朗月银河星海翔宇飞腾凯旋胜豪杰英雄伟业宏图远航骏驰奔腾扬帆启航"
)
SIMILAR = {  # look-alike / homophone replacements used for typos and look-alike trade names
    "盛": "胜", "胜": "盛", "鑫": "新", "新": "鑫", "华": "化", "信": "兴", "兴": "星", "星": "兴", "源": "圆",
    "通": "同", "同": "通", "丰": "峰", "安": "按", "达": "大", "大": "达", "天": "添", "成": "诚", "诚": "成",
    "嘉": "佳", "佳": "嘉", "禾": "和", "和": "禾", "远": "源", "博": "搏", "立": "利", "利": "立", "海": "每",
    "众": "重", "泽": "择", "福": "富", "富": "福", "德": "得", "康": "慷", "乐": "勒", "云": "芸", "明": "名",
    "辉": "晖", "光": "广", "广": "光", "祥": "翔", "翔": "祥", "宁": "凝", "正": "政", "中": "忠", "亿": "忆",
    "万": "方", "茂": "贸", "益": "义", "欣": "新", "悦": "越", "越": "悦", "晨": "辰", "辰": "晨", "宇": "雨",
    "飞": "非", "腾": "藤", "凯": "铠", "豪": "毫", "伟": "韦", "宏": "鸿", "鸿": "宏", "图": "途", "航": "杭",
    "驰": "池", "扬": "杨", "杨": "扬", "帆": "凡", "启": "起", "科": "料", "技": "枝", "贸": "茂", "易": "意",
}
INDUSTRY_WORDS = (
    "科技", "信息科技", "网络科技", "电子科技", "贸易", "商贸", "建筑工程", "装饰工程", "餐饮管理", "物流", "电子",
    "机械", "服装", "食品", "医药", "环保科技", "文化传媒", "教育咨询", "房地产开发", "物业管理", "汽车销售",
    "农业发展", "生物科技", "新材料", "智能科技", "实业", "投资管理", "企业管理咨询", "人力资源", "广告",
    "印刷", "包装", "化工", "纺织", "五金", "家具", "电器", "能源", "检测技术", "供应链管理",
)
NEIGHBOUR_WORD = {"科技": "信息科技", "信息科技": "网络科技", "贸易": "商贸", "商贸": "贸易", "电子": "电子科技",
                  "电子科技": "电子", "建筑工程": "装饰工程", "装饰工程": "建筑工程", "物流": "供应链管理"}
SHOP_WORDS = ("便利店", "小吃店", "理发店", "五金店", "服装店", "副食品店", "维修部", "超市", "面馆", "水果店",
              "烟酒店", "茶叶店", "早餐店", "汽车修理部", "家电维修部", "文具店")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鑫斌宇浩凯健俊帆帅旭宁龙林欣悦雪琳晨曦瑞佳嘉怡婷"
)
ROADS = (
    "中山路", "解放路", "人民路", "建设路", "长江路", "北京路", "上海路", "和平路", "新华路", "文化路", "学府路",
    "工业园路", "科技大道", "滨江大道", "太湖大道", "运河路", "青年路", "健康路", "光明路", "幸福路", "珠江路",
    "汉中路", "龙蟠路", "黄河路", "淮海路", "延安路", "胜利路", "东风路", "红旗路", "朝阳路", "开发大道", "创业路",
    "金鸡湖大道", "星湖街", "干将路", "观前街", "湖滨路", "西环路", "东环路", "南环路", "北环路", "迎宾大道",
)


@dataclass(frozen=True)
class Place:
    county_code: str
    county_name: str
    city_name: str  # full, e.g. 南京市
    city_short: str  # e.g. 南京


@dataclass
class Entity:
    entity_id: int
    kind: str
    place: Place
    trade: str
    word: str
    form: str
    uscc: str
    legal_rep: str
    road: str
    number: int
    phone: str

    def name(self) -> str:
        if self.kind == "individual":
            return f"{self.place.county_name}{self.trade}{self.word}"
        if self.kind == "cooperative":
            return f"{self.place.county_name}{self.trade}{self.word}"
        return f"{self.place.city_short}{self.trade}{self.word}{self.form}"

    def address(self) -> str:
        return f"江苏省{self.place.city_name}{self.place.county_name}{self.road}{self.number}号"


def jiangsu_places() -> list[Place]:
    """Counties of Jiangsu from the kernel's reference file (no database needed)."""
    from jianguan.core.reference import DEFAULT_REGIONS

    with DEFAULT_REGIONS.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    cities = {r["code"]: r for r in rows if r["level"] == "city"}
    return [
        Place(r["code"], r["name"], cities[r["parent_code"]]["name"], cities[r["parent_code"]]["short_name"])
        for r in rows
        if r["level"] == "county" and r["parent_code"] in cities
    ]


class Generator:
    """Deterministic for a given seed."""

    def __init__(self, seed: int = 20190222) -> None:
        self.rng = random.Random(seed)
        self.places = jiangsu_places()
        self._org_serial = self.rng.randrange(10_000_000)
        self._phones: set[str] = set()
        self._usccs: set[str] = set()

    # --- entities -----------------------------------------------------------------------------------------------

    def _uscc(self, prefix: str, region: str) -> str:
        while True:
            self._org_serial = (self._org_serial + self.rng.randrange(1, 9973)) % 31**8
            n = self._org_serial
            body = ""
            for _ in range(8):
                body = USCC_CHARSET[n % 31] + body
                n //= 31
            body += USCC_CHARSET[self.rng.randrange(10)]
            first17 = f"{prefix}{region}{body}"
            code = first17 + uscc_check_char(first17)
            if code not in self._usccs:
                self._usccs.add(code)
                return code

    def _phone(self) -> str:
        while True:
            if self.rng.random() < 0.8:
                phone = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            else:
                area = self.rng.choice(["25", "510", "512", "513", "516", "519"])
                phone = f"0{area}{self.rng.randrange(10**7, 10**8)}"
            if phone not in self._phones:
                self._phones.add(phone)
                return phone

    def _person(self) -> str:
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        if self.rng.random() < 0.6:
            name += self.rng.choice(GIVEN)
        return name

    def _trade(self) -> str:
        length = 2 if self.rng.random() < 0.8 else 3
        return "".join(self.rng.choice(TRADE_CHARS) for _ in range(length))

    def entity(self, entity_id: int, *, like: Entity | None = None, how: str = "") -> Entity:
        rng = self.rng
        if like is None:
            r = rng.random()
            kind = "enterprise" if r < 0.72 else "individual" if r < 0.95 else "cooperative"
            place = rng.choice(self.places)
            trade = self._trade()
            if kind == "enterprise":
                word = rng.choice(INDUSTRY_WORDS)
            elif kind == "individual":
                word = rng.choice(SHOP_WORDS)
                if rng.random() < 0.15:
                    trade = rng.choice(SURNAMES) + rng.choice(GIVEN) + "记"
            else:
                word = rng.choice(("种植专业合作社", "养殖专业合作社", "农机专业合作社"))
            form = rng.choices(("有限公司", "有限责任公司", "股份有限公司"), (0.75, 0.2, 0.05))[0]
        else:
            kind, place, trade, word, form = like.kind, like.place, like.trade, like.word, like.form
            if how == "other_city":
                place = rng.choice([p for p in self.places if p.city_name != like.place.city_name])
            elif how == "neighbour_word" and kind == "enterprise":
                word = NEIGHBOUR_WORD.get(word, "科技" if word != "科技" else "信息科技")
            else:  # one character of the trade name differs
                i = rng.randrange(len(trade))
                replacement = SIMILAR.get(trade[i]) or rng.choice(TRADE_CHARS)
                trade = trade[:i] + replacement + trade[i + 1 :]
        prefix = {"enterprise": "91", "individual": "92", "cooperative": "93"}[kind]
        return Entity(
            entity_id=entity_id,
            kind=kind,
            place=place,
            trade=trade,
            word=word,
            form=form,
            uscc=self._uscc(prefix, place.county_code),
            legal_rep=self._person(),
            road=rng.choice(ROADS),
            number=rng.randrange(1, 999),
            phone=self._phone(),
        )

    # --- record variants ----------------------------------------------------------------------------------------

    def _typo(self, text: str) -> str:
        positions = [i for i, ch in enumerate(text) if ch in SIMILAR]
        if not positions:
            return text
        i = self.rng.choice(positions)
        return text[:i] + SIMILAR[text[i]] + text[i + 1 :]

    def _swap(self, text: str, start: int) -> str:
        if len(text) - start < 3:
            return text
        i = self.rng.randrange(start, len(text) - 1)
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]

    def _corrupt_code(self, code: str) -> str:
        chars = list(code)
        if self.rng.random() < 0.6:
            i = self.rng.randrange(8, 18)
            chars[i] = self.rng.choice([c for c in USCC_CHARSET if c != chars[i]])
        else:
            i = self.rng.randrange(8, 17)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        return "".join(chars)

    def _fullwidth(self, text: str) -> str:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)

    def record(self, e: Entity) -> dict[str, str]:
        rng = self.rng
        # credit code
        r = rng.random()
        uscc = e.uscc if r < 0.62 else "" if r < 0.88 else self._corrupt_code(e.uscc)
        if uscc and rng.random() < 0.03:
            uscc = uscc.lower() if rng.random() < 0.5 else self._fullwidth(uscc)
        # name
        name = e.name()
        r = rng.random()
        if r < 0.45:
            pass
        elif r < 0.57 and e.kind == "enterprise":
            if "有限责任公司" in name:
                name = name.replace("有限责任公司", "有限公司")
            else:
                name = name.replace("有限公司", "有限责任公司")
        elif r < 0.67:  # dropped city / county name
            name = name.removeprefix(e.place.city_short).removeprefix(e.place.county_name)
        elif r < 0.74 and e.kind == "enterprise":  # short name
            name = f"{e.trade}{e.word[:2]}"
        elif r < 0.84:
            name = self._typo(name)
        elif r < 0.91:
            name = self._swap(name, len(e.place.city_short))
        elif r < 0.95:
            name = f"{e.place.city_name}{e.trade}{e.word}{e.form}" if e.kind == "enterprise" else name
        else:
            name = " ".join(name[i : i + 3] for i in range(0, len(name), 3))
        # address
        address = e.address()
        r = rng.random()
        if r < 0.35:
            pass
        elif r < 0.55:
            address = address.removeprefix("江苏省")
        elif r < 0.70:
            address = f"{e.place.county_name}{e.road}{e.number}号"
        elif r < 0.78:
            address = f"{address}{rng.randrange(1, 30)}幢{rng.randrange(101, 2500)}室"
        elif r < 0.84:
            address = self._typo(address)
        elif r < 0.88:
            address = address.replace(f"{e.number}号", f"{self._fullwidth(str(e.number))}号")
        else:
            address = ""
        legal = e.legal_rep if rng.random() < 0.8 else ""
        if legal and rng.random() < 0.04:
            legal = self._typo(legal) if any(c in SIMILAR for c in legal) else legal[::-1]
        r = rng.random()
        phone = e.phone if r < 0.6 else "" if r < 0.95 else self._phone()
        if phone and phone.startswith("1") and rng.random() < 0.1:
            phone = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
        r = rng.random()
        region = e.place.county_code if r < 0.7 else "" if r < 0.95 else e.place.county_code[:4] + "00"
        return {"name": name, "uscc": uscc, "legal_rep": legal, "address": address, "phone": phone,
                "region_code": region}

    def records(self, n_records: int, *, lookalike_share: float = 0.18) -> Iterator[dict[str, str]]:
        """About ``n_records`` records; each entity appears 1–6 times (mean about 2.4)."""
        produced = 0
        entity_id = 0
        out: list[dict[str, str]] = []
        while produced < n_records:
            entity_id += 1
            e = self.entity(entity_id)
            group = [e]
            if self.rng.random() < lookalike_share:
                entity_id += 1
                how = self.rng.choice(("other_city", "neighbour_word", "trade_char"))
                group.append(self.entity(entity_id, like=e, how=how))
            for member in group:
                count = min(6, 1 + int(self.rng.expovariate(1 / 1.4)))
                for _ in range(count):
                    rec = self.record(member)
                    rec["entity_id"] = str(member.entity_id)
                    out.append(rec)
                    produced += 1
            if len(out) >= 50_000 or produced >= n_records:
                self.rng.shuffle(out)
                yield from out
                out = []
        yield from out


def write_labelled_csv(path: Path, n_records: int, *, seed: int = 20190222) -> int:
    """Write ``n_records`` labelled records (``record_id`` = R + serial) and return the count written."""
    gen = Generator(seed)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for rec in gen.records(n_records):
            if written >= n_records:
                break
            written += 1
            writer.writerow([f"R{written:08d}", rec["name"], rec["uscc"], rec["legal_rep"], rec["address"],
                             rec["phone"], rec["region_code"], rec["entity_id"]])
    return written


REGISTRY_HEADER = ("统一社会信用代码", "企业名称", "主体类型", "法定代表人", "住所", "行政区划", "行业代码", "注册资本",
                   "成立日期", "登记状态", "联系电话", "更新时间")
_TYPE_LABEL = {"enterprise": "有限责任公司", "individual": "个体工商户", "cooperative": "农民专业合作社"}
_STATUS_LABELS = ("存续", "存续", "存续", "在业", "存续（在营、开业、在册）", "吊销，未注销", "注销", "迁出")
_INDUSTRY_CODES = ("C3011", "F5121", "I6510", "H6210", "E4710", "G5430", "M7520", "R8610", "O8011", "A0111",
                   "C1810", "F5261", "L7212", "K7020", "S9221")


def registry_rows(n_rows: int, *, seed: int = 20190222) -> Iterator[list[str]]:
    """Rows of a registry extract as a department system would export it: one row per entity, mostly valid, with
    the usual dirt (full-width characters, stray spaces, mixed date and money formats, null markers), about 0.5% of
    rows with a wrong check character and 1.5% without a credit code."""
    gen = Generator(seed)
    rng = gen.rng
    for i in range(n_rows):
        e = gen.entity(i + 1)
        name = e.name()
        code = e.uscc
        r = rng.random()
        if r < 0.005:
            code = gen._corrupt_code(code)
        elif r < 0.02:
            code = rng.choice(("", "NULL", "无"))
        elif r < 0.03:
            code = gen._fullwidth(code)
        if rng.random() < 0.03:
            name = f" {name[:3]} {name[3:]}  "
        if rng.random() < 0.02:
            name = gen._fullwidth(name.replace("(", "（"))
        day = f"{rng.randrange(1995, 2026)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        form = rng.random()
        if form < 0.5:
            established = day
        elif form < 0.7:
            established = day.replace("-", "/")
        elif form < 0.85:
            established = day.replace("-", "")
        else:
            y, m, d = day.split("-")
            established = f"{y}年{int(m)}月{int(d)}日"
        capital = ""
        if e.kind != "individual":
            amount = rng.randrange(10, 50_000)
            capital = rng.choice((f"{amount}万元", f"{amount}", f"{amount * 10000:,}元", f"{amount}万人民币"))
        address = e.address() if rng.random() < 0.7 else e.address().removeprefix("江苏省")
        region = e.place.county_code if rng.random() < 0.8 else ""
        phone = e.phone if rng.random() < 0.7 else rng.choice(("", "-", "暂无"))
        updated = f"2026-{rng.randrange(1, 12):02d}-{rng.randrange(1, 28):02d}"
        yield [code, name, _TYPE_LABEL[e.kind], e.legal_rep, address, region, rng.choice(_INDUSTRY_CODES), capital,
               established, rng.choice(_STATUS_LABELS), phone, updated]


def write_registry_csv(path: Path, n_rows: int, *, seed: int = 20190222) -> int:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(REGISTRY_HEADER)
        count = 0
        for row in registry_rows(n_rows, seed=seed):
            writer.writerow(row)
            count += 1
    return count

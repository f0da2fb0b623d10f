"""Spreadsheets for import tests, built in memory with openpyxl."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook

from jianguan.catalog.exporter import COLUMNS

FOOD = ("《中华人民共和国食品安全法》（法律）第一百一十条第一款："
        "县级以上人民政府食品安全监督管理部门履行各自食品安全监督管理职责，有权进行现场检查。")
DRUG = "《药品经营和使用质量监督管理办法》第六十二条：药品监督管理部门应当对药品经营企业进行监督检查。"
ECO = ("《中华人民共和国环境保护法》第二十四条："
       "县级以上人民政府环境保护主管部门有权对排放污染物的企业事业单位进行现场检查。")


def row(main: str, sub: str = "", *, department: str = "江苏省市场监督管理局", method: str = "行政检查",
        basis: str = FOOD, levels: str = "省、市、县", main_code: str = "", sub_code: str = "",
        **overrides: str) -> list[str]:
    values = {
        "监管部门": department,
        "监管事项主项名称": main,
        "监管事项子项名称": sub,
        "监管方式": method,
        "监管措施": "现场检查、抽样检验",
        "监管对象": "食品生产经营者",
        "设定依据": basis,
        "监管流程": "制定计划、实施检查、记录结果、依法处理",
        "监管结果": "检查结果依法公开并记入信用档案",
        "监管层级": levels,
        "主项编码": main_code,
        "子项编码": sub_code,
    }
    values.update(overrides)
    return [values[c] for c in COLUMNS]


def xlsx(rows: list[list[Any]], header: tuple[str, ...] = COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "监管事项目录清单"
    sheet.append(list(header))
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_rows(data: bytes, sheet: str | None = None) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    ws = workbook[sheet] if sheet else workbook.worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]

"""Text forms of citations, levels and methods used by the spreadsheet and the UI."""

from __future__ import annotations

import pytest

from jianguan.catalog.formats import (
    CitationText,
    FormatError,
    format_citation,
    format_levels,
    infer_basis_level,
    parse_citation,
    parse_citations,
    parse_levels,
    parse_method,
)


@pytest.mark.parametrize(("line", "expected"), [
    ("《中华人民共和国食品安全法》（法律）第一百一十条第一款：有权进行现场检查。",
     CitationText("中华人民共和国食品安全法", "law", "第一百一十条", "第一款", "有权进行现场检查。")),
    ("《食品生产许可管理办法》第四十二条", CitationText("食品生产许可管理办法", "", "第四十二条", "", "")),
    ("《江苏省安全生产条例》第五十条第二款第（三）项：检查。",
     CitationText("江苏省安全生产条例", "", "第五十条", "第二款第（三）项", "检查。")),
    ("《中华人民共和国行政处罚法》", CitationText("中华人民共和国行政处罚法", "", "", "", "")),
    ("《某法》第十条之一：文本", CitationText("某法", "", "第十条之一", "", "文本")),
])
def test_it_reads_a_citation(line, expected) -> None:
    assert parse_citation(line) == expected


def test_formatting_and_reading_round_trip() -> None:
    text = format_citation("中华人民共和国食品安全法", "law", "第一百一十条", "第一款", "有权：进行现场检查。")
    assert parse_citation(text) == CitationText("中华人民共和国食品安全法", "law", "第一百一十条", "第一款",
                                                "有权：进行现场检查。")


@pytest.mark.parametrize(("line", "message"), [
    ("中华人民共和国计量法第十条", "格式不正确"),
    ("《计量法》（宪法）第十条", "效力层级“宪法”无法识别"),
    ("《计量法》十条：文本", "条款“十条”格式不正确"),
])
def test_it_explains_bad_citations_in_chinese(line, message) -> None:
    with pytest.raises(FormatError) as exc:
        parse_citation(line)
    assert message in str(exc.value)


def test_several_citations_and_multi_paragraph_text() -> None:
    citations = parse_citations("《甲法》第一条：第一段\n第二段引用《乙法》的规定\n\n《丙条例》第三条：文本")
    assert [c.name for c in citations] == ["甲法", "丙条例"]
    assert citations[0].text == "第一段\n第二段引用《乙法》的规定"


@pytest.mark.parametrize(("text", "levels"), [
    ("省、市、县", ["province", "city", "county"]), ("县级,省级", ["province", "county"]), ("市", ["city"]),
    ("", []),
])
def test_it_reads_levels(text, levels) -> None:
    assert parse_levels(text) == levels


def test_it_writes_levels_in_a_fixed_order() -> None:
    assert format_levels(["county", "province"]) == "省、县"
    with pytest.raises(FormatError):
        parse_levels("乡镇")


@pytest.mark.parametrize(("text", "code"), [("行政检查", "01"), ("行政处罚", "02"), ("03", "03"), ("其他", "99")])
def test_it_reads_methods(text, code) -> None:
    assert parse_method(text) == code


@pytest.mark.parametrize(("name", "level"), [
    ("中华人民共和国食品安全法", "law"), ("中华人民共和国食品安全法实施条例", "admin_regulation"),
    ("江苏省安全生产条例", "local_regulation"), ("江苏省餐厨废弃物管理办法", "local_gov_rule"),
    ("食品生产许可管理办法", "dept_rule"), ("关于加强食品安全工作的意见", "normative"),
])
def test_it_infers_the_level_of_a_new_basis(name, level) -> None:
    assert infer_basis_level(name) == level

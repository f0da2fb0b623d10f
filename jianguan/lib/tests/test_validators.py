"""Tests for :mod:`jianguan.lib.validators`."""

from __future__ import annotations

import pickle
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jianguan.lib.validators import (
    USCC_CHARSET,
    ValidationFailure,
    id_check_char,
    id_number_birth_date,
    id_number_gender,
    is_valid_id_number,
    is_valid_uscc,
    make_id_number,
    make_uscc,
    region_level,
    uscc_check_char,
    validate_catalog_code,
    validate_id_number,
    validate_mobile,
    validate_region_code,
    validate_uscc,
)

# No example database: these tests must not leave a .hypothesis directory in the working tree.
PROPERTY = settings(database=None, max_examples=300)

TODAY = date(2025, 6, 30)


def _code_of(exc_info: pytest.ExceptionInfo[ValidationFailure]) -> str:
    """The stable code of a raised ValidationFailure."""
    return exc_info.value.code


# --------------------------------------------------------------------------------------------------------------------
# ValidationFailure


def test_it_exposes_code_and_chinese_message() -> None:
    with pytest.raises(ValidationFailure) as exc_info:
        validate_uscc("91350100M000100Y44")
    exc = exc_info.value
    assert exc.code == "uscc.checksum"
    assert exc.message == "统一社会信用代码校验位错误"
    assert str(exc) == "统一社会信用代码校验位错误"
    assert isinstance(exc, ValueError)


def test_it_pickles_validation_failures() -> None:
    exc = ValidationFailure("mobile.format", "手机号码格式不正确")
    restored = pickle.loads(pickle.dumps(exc))  # noqa: S301 - round trip of our own object
    assert (restored.code, restored.message) == ("mobile.format", "手机号码格式不正确")


# --------------------------------------------------------------------------------------------------------------------
# USCC


@pytest.mark.parametrize("value", ["91350100M000100Y43", "91110108551385082Q"])
def test_it_accepts_valid_uscc(value: str) -> None:
    assert validate_uscc(value) == value
    assert is_valid_uscc(value)


def test_it_computes_uscc_check_chars() -> None:
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert uscc_check_char("91110108551385082") == "Q"
    assert make_uscc("91350100M000100Y4") == "91350100M000100Y43"


def test_it_normalises_uscc_case_whitespace_and_full_width() -> None:
    assert validate_uscc("  91350100m000100y43\n") == "91350100M000100Y43"
    assert validate_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
    assert validate_uscc("\u300091110108551385082q\u3000") == "91110108551385082Q"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350100M000100Y4Z", "uscc.charset"),  # Z is never used, not even as the check character
        ("91350100M000100Y44", "uscc.checksum"),
        ("91350100M000100Y4", "uscc.length"),
        ("91350100M000100Y433", "uscc.length"),
        ("", "uscc.length"),
        ("91350100M000100I43", "uscc.charset"),  # I is not in the character set
        ("91350100M000100O43", "uscc.charset"),
        ("9135010-M000100Y43", "uscc.charset"),
        ("B1350100M000100Y43", "uscc.department"),
        ("9135010AM000100Y43", "uscc.region"),
        ("9135A100M000100Y43", "uscc.region"),
    ],
)
def test_it_rejects_invalid_uscc(value: str, code: str) -> None:
    with pytest.raises(ValidationFailure) as exc_info:
        validate_uscc(value)
    assert _code_of(exc_info) == code
    assert not is_valid_uscc(value)


def test_it_reports_department_and_region_errors_even_with_a_correct_check_char() -> None:
    for prefix, code in [("B1350100M000100Y4", "uscc.department"), ("9135A100M000100Y4", "uscc.region")]:
        with pytest.raises(ValidationFailure) as exc_info:
            validate_uscc(prefix + uscc_check_char(prefix))
        assert _code_of(exc_info) == code


def test_it_treats_non_strings_as_invalid() -> None:
    assert not is_valid_uscc(None)
    assert not is_valid_uscc(91350100)
    assert not is_valid_id_number(None)


_USCC_PREFIXES = st.builds(
    lambda dept, category, region, body: dept + category + region + body,
    st.sampled_from("123456789ANY"),
    st.sampled_from(USCC_CHARSET),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9),
)


@PROPERTY
@given(_USCC_PREFIXES)
def test_it_always_validates_a_made_uscc(prefix: str) -> None:
    code = make_uscc(prefix)
    assert code[:17] == prefix
    assert validate_uscc(code) == code


@PROPERTY
@given(_USCC_PREFIXES, st.integers(min_value=0, max_value=17), st.data())
def test_it_rejects_any_single_character_change_in_a_uscc(prefix: str, position: int, data: st.DataObject) -> None:
    code = make_uscc(prefix)
    replacement = data.draw(st.sampled_from([ch for ch in USCC_CHARSET if ch != code[position]]))
    changed = code[:position] + replacement + code[position + 1 :]
    assert not is_valid_uscc(changed)


# --------------------------------------------------------------------------------------------------------------------
# ID numbers


def test_it_accepts_valid_id_numbers() -> None:
    assert validate_id_number("11010519491231002X") == "11010519491231002X"
    assert is_valid_id_number("11010519491231002X")
    assert id_check_char("11010519491231002") == "X"


def test_it_computes_the_check_char_of_the_1880_example_but_rejects_its_birth_date() -> None:
    # DOMAIN.md lists 440524188001010014 as checksum-valid; its 1880 birth date is before the 1900-01-01 floor.
    assert id_check_char("44052418800101001") == "4"
    with pytest.raises(ValidationFailure) as exc_info:
        validate_id_number("440524188001010014")
    assert _code_of(exc_info) == "id_number.birth_date"


def test_it_normalises_id_numbers() -> None:
    assert validate_id_number(" 11010519491231002x ") == "11010519491231002X"
    assert validate_id_number("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "id_number.length"),
        ("11010519491231002X1", "id_number.length"),
        ("", "id_number.length"),
        ("1101051949123100XX", "id_number.charset"),
        ("11010519491231002Y", "id_number.charset"),
        ("11010519491231002-", "id_number.charset"),
        ("110105194912310021", "id_number.checksum"),
        ("110105194902300029", "id_number.birth_date"),  # 30 February
        ("110105194913010025", "id_number.birth_date"),  # month 13
        ("110105189912310024", "id_number.birth_date"),  # before 1900
    ],
)
def test_it_rejects_invalid_id_numbers(value: str, code: str) -> None:
    with pytest.raises(ValidationFailure) as exc_info:
        validate_id_number(value, today=TODAY)
    assert _code_of(exc_info) == code
    assert not is_valid_id_number(value, today=TODAY)


def test_it_rejects_birth_dates_after_today() -> None:
    number = make_id_number("32010220250630123", today=TODAY)
    assert validate_id_number(number, today=TODAY) == number
    with pytest.raises(ValidationFailure) as exc_info:
        validate_id_number(number, today=date(2025, 6, 29))
    assert _code_of(exc_info) == "id_number.birth_date"


def test_it_reads_birth_date_and_gender() -> None:
    assert id_number_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert id_number_gender("11010519491231002X") == "F"  # sequence 002 is even
    male = make_id_number("32010219900101001")
    assert id_number_gender(male) == "M"


def test_it_accepts_1900_01_01_and_leap_days() -> None:
    assert is_valid_id_number(make_id_number("32010219000101001"))
    assert is_valid_id_number(make_id_number("32010220000229002"))
    with pytest.raises(ValidationFailure):
        make_id_number("32010219000229002")  # 1900 was not a leap year


_ID_PREFIXES = st.builds(
    lambda address, birth, sequence: address + birth.strftime("%Y%m%d") + sequence,
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)


@PROPERTY
@given(_ID_PREFIXES)
def test_it_always_validates_a_made_id_number(prefix: str) -> None:
    number = make_id_number(prefix, today=TODAY)
    assert number[:17] == prefix
    assert validate_id_number(number, today=TODAY) == number
    assert id_number_birth_date(number).strftime("%Y%m%d") == prefix[6:14]


@PROPERTY
@given(_ID_PREFIXES, st.integers(min_value=0, max_value=17), st.data())
def test_it_rejects_any_single_character_change_in_an_id_number(
    prefix: str, position: int, data: st.DataObject
) -> None:
    number = make_id_number(prefix, today=TODAY)
    replacement = data.draw(st.sampled_from([ch for ch in "0123456789X" if ch != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    assert not is_valid_id_number(changed, today=TODAY)


# --------------------------------------------------------------------------------------------------------------------
# Region codes


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("320000", "province"),
        ("320100", "city"),
        ("320106", "county"),
        ("321300", "city"),
        ("110101", "county"),
        ("429004", "county"),
        ("710000", "province"),
        ("810000", "province"),
        ("820000", "province"),
    ],
)
def test_it_accepts_region_codes_and_reports_their_level(value: str, level: str) -> None:
    assert validate_region_code(value) == value
    assert region_level(value) == level


def test_it_normalises_region_codes() -> None:
    assert validate_region_code(" ３２０１００ ") == "320100"


@pytest.mark.parametrize(
    "value",
    [
        "000000",
        "32010",
        "3201000",
        "32010a",
        "160000",
        "240000",
        "380000",
        "470000",
        "550000",
        "660000",
        "720000",
        "830000",
        "990000",
        "320001",
        "",
        "32 100",
        "３２０１００x",
    ],
)
def test_it_rejects_malformed_region_codes(value: str) -> None:
    with pytest.raises(ValidationFailure) as exc_info:
        validate_region_code(value)
    assert _code_of(exc_info) == "region_code.format"


def test_it_refuses_the_level_of_an_invalid_region_code() -> None:
    with pytest.raises(ValidationFailure):
        region_level("990000")


# --------------------------------------------------------------------------------------------------------------------
# Mobile numbers


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "+8613812345678",
        "8613812345678",
        "008613812345678",
        "+86 138 1234 5678",
        "138-1234-5678",
        " 0086-138-1234-5678 ",
        "１３８１２３４５６７８",
    ],
)
def test_it_normalises_mobile_numbers(value: str) -> None:
    assert validate_mobile(value) == "13812345678"


@pytest.mark.parametrize(
    "value",
    ["12812345678", "1381234567", "138123456789", "+8512812345678", "02583123456", "", "1381234567a", "+86138123456"],
)
def test_it_rejects_invalid_mobile_numbers(value: str) -> None:
    with pytest.raises(ValidationFailure) as exc_info:
        validate_mobile(value)
    assert _code_of(exc_info) == "mobile.format"


_MOBILES = st.from_regex(r"\A1[3-9][0-9]{9}\Z")


@PROPERTY
@given(
    _MOBILES,
    st.sampled_from(["", "+86", "86", "0086", "+86 ", "0086-", "86 "]),
    st.lists(st.tuples(st.integers(min_value=0, max_value=11), st.sampled_from([" ", "-", "  ", " - "])), max_size=4),
)
def test_it_round_trips_formatted_mobile_numbers(mobile: str, prefix: str, separators: list[tuple[int, str]]) -> None:
    assert validate_mobile(mobile) == mobile
    formatted = mobile
    for position, separator in sorted(separators, reverse=True):
        formatted = formatted[:position] + separator + formatted[position:]
    assert validate_mobile(prefix + formatted) == mobile


# --------------------------------------------------------------------------------------------------------------------
# Catalogue codes


def test_it_accepts_catalog_codes() -> None:
    assert validate_catalog_code("32001010001", length=11) == "32001010001"
    assert validate_catalog_code(" 32001010001000 ", length=14) == "32001010001000"


@pytest.mark.parametrize(
    ("value", "length", "code"),
    [
        ("3200101000", 11, "catalog_code.length"),
        ("32001010001", 14, "catalog_code.length"),
        ("3200101000A", 11, "catalog_code.charset"),
        ("", 11, "catalog_code.charset"),
        ("31001010001", 11, "catalog_code.province"),
        ("31001010001000", 14, "catalog_code.province"),
    ],
)
def test_it_rejects_invalid_catalog_codes(value: str, length: int, code: str) -> None:
    with pytest.raises(ValidationFailure) as exc_info:
        validate_catalog_code(value, length=length)
    assert _code_of(exc_info) == code


def test_it_refuses_catalog_code_lengths_other_than_11_and_14() -> None:
    with pytest.raises(ValueError, match="11 or 14"):
        validate_catalog_code("3200101000100", length=13)

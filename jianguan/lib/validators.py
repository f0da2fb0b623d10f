"""Format validators for the identifiers Jianguan handles.

Covers 统一社会信用代码 (GB 32100-2015), 居民身份证号码 (GB 11643-1999), GB/T 2260 region codes, mainland mobile
numbers and the project's own catalogue codes (see DOMAIN.md §6 and "Our own conventions").

Every ``validate_*`` function normalises its input (surrounding whitespace removed, full-width ASCII converted to
half-width, letters upper-cased where the format has letters) and returns the normalised value, or raises
:class:`ValidationFailure` with a stable English ``code`` and a Simplified Chinese ``message``. These are format
checks only: whether a code exists (a registered company, a current region) is checked against the database by the
caller.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = [
    "USCC_CHARSET",
    "ValidationFailure",
    "id_check_char",
    "id_number_birth_date",
    "id_number_gender",
    "is_valid_id_number",
    "is_valid_uscc",
    "make_id_number",
    "make_uscc",
    "region_level",
    "to_half_width",
    "uscc_check_char",
    "validate_catalog_code",
    "validate_id_number",
    "validate_mobile",
    "validate_region_code",
    "validate_uscc",
]


class ValidationFailure(ValueError):
    """A value failed a format check.

    ``code`` is a stable English identifier (for example ``"uscc.checksum"``) for programs and API clients;
    ``message`` is a Simplified Chinese sentence for people. ``str(exc)`` is the message.
    """

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        """Store the stable ``code`` and the Chinese ``message``."""
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        """Return the Chinese message."""
        return self.message

    def __repr__(self) -> str:
        """Show both the code and the message."""
        return f"ValidationFailure(code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[type[ValidationFailure], tuple[str, str]]:
        """Pickle with both constructor arguments (needed when errors cross process boundaries)."""
        return (type(self), (self.code, self.message))


# --------------------------------------------------------------------------------------------------------------------
# Normalisation

_HALF_WIDTH_TABLE: dict[int, int] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALF_WIDTH_TABLE[0x3000] = 0x20  # ideographic space


def to_half_width(value: str) -> str:
    """Convert full-width ASCII (U+FF01–U+FF5E) and the ideographic space to their half-width forms."""
    return value.translate(_HALF_WIDTH_TABLE)


def _normalise(value: str) -> str:
    """Half-width, stripped and upper-cased form of ``value``."""
    return to_half_width(value).strip().upper()


def _is_ascii_digits(value: str) -> bool:
    """True when ``value`` is non-empty and made only of ASCII digits (``str.isdigit`` also accepts other scripts)."""
    return value.isascii() and value.isdigit()


# --------------------------------------------------------------------------------------------------------------------
# 统一社会信用代码 (GB 32100-2015)

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters allowed in a unified social credit code (no I, O, S, V, Z)."""

_USCC_VALUES: dict[str, int] = {ch: i for i, ch in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))  # 3^(i-1) mod 31 for i = 1..17
_USCC_DEPARTMENTS = frozenset("123456789ANY")  # 登记管理部门码


def _check_uscc_chars(value: str, expected_length: int) -> None:
    """Raise unless ``value`` has ``expected_length`` characters, all from :data:`USCC_CHARSET`."""
    if len(value) != expected_length:
        raise ValidationFailure("uscc.length", f"统一社会信用代码应为18位（当前为{len(value)}位）")
    if any(ch not in _USCC_VALUES for ch in value):
        raise ValidationFailure("uscc.charset", "统一社会信用代码只能包含数字和大写字母（不含I、O、S、V、Z）")


def uscc_check_char(first17: str) -> str:
    """Return the check character (position 18) for the first 17 characters of a unified social credit code.

    ``C18 = (31 − Σ(C_i·W_i) mod 31) mod 31`` with ``W_i = 3^(i-1) mod 31``.
    """
    prefix = _normalise(first17)
    if len(prefix) != 17:
        raise ValidationFailure("uscc.length", f"统一社会信用代码前17位应为17个字符（当前为{len(prefix)}个）")
    _check_uscc_chars(prefix, 17)
    total = sum(_USCC_VALUES[ch] * weight for ch, weight in zip(prefix, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Validate a 统一社会信用代码 and return it normalised (stripped, upper-case, half-width).

    Checks the length, the character set, the registration department code (position 1: 1–9, A, N or Y), that
    positions 3–8 are a 6-digit region code, and the check character.
    """
    code = _normalise(value)
    _check_uscc_chars(code, 18)
    if code[0] not in _USCC_DEPARTMENTS:
        raise ValidationFailure("uscc.department", "统一社会信用代码第1位（登记管理部门码）无效")
    if not _is_ascii_digits(code[2:8]):
        raise ValidationFailure("uscc.region", "统一社会信用代码第3至8位应为6位数字的行政区划代码")
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationFailure("uscc.checksum", "统一社会信用代码校验位错误")
    return code


def is_valid_uscc(value: object) -> bool:
    """True when ``value`` is a string that :func:`validate_uscc` accepts."""
    if not isinstance(value, str):
        return False
    try:
        validate_uscc(value)
    except ValidationFailure:
        return False
    return True


def make_uscc(first17: str) -> str:
    """Append the check character to ``first17`` and return the validated 18-character code."""
    prefix = _normalise(first17)
    return validate_uscc(prefix + uscc_check_char(prefix))


# --------------------------------------------------------------------------------------------------------------------
# 居民身份证号码 (GB 11643-1999)

_ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def id_check_char(first17: str) -> str:
    """Return the check character for the first 17 digits of an ID number (ISO 7064 MOD 11-2)."""
    prefix = _normalise(first17)
    if len(prefix) != 17:
        raise ValidationFailure("id_number.length", f"居民身份证号码前17位应为17位数字（当前为{len(prefix)}位）")
    if not _is_ascii_digits(prefix):
        raise ValidationFailure("id_number.charset", "居民身份证号码前17位应为数字")
    total = sum(int(ch) * weight for ch, weight in zip(prefix, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _parse_birth_date(digits: str) -> date | None:
    """Parse ``YYYYMMDD``; None when it is not a real calendar date."""
    try:
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def validate_id_number(value: str, *, today: date | None = None) -> str:
    """Validate an 18-character 居民身份证号码 and return it normalised (half-width, stripped, ``x`` → ``X``).

    Checks the length, that the first 17 characters are digits and the last a digit or ``X``, that positions 7–14
    are a real birth date between 1900-01-01 and ``today`` (default: the current local date), and the check
    character. 15-digit first-generation numbers are not accepted.
    """
    number = _normalise(value)
    if len(number) != 18:
        raise ValidationFailure("id_number.length", f"居民身份证号码应为18位（当前为{len(number)}位）")
    if not _is_ascii_digits(number[:17]) or not (_is_ascii_digits(number[17]) or number[17] == "X"):
        raise ValidationFailure("id_number.charset", "居民身份证号码前17位应为数字，最后一位应为数字或X")
    birth = _parse_birth_date(number[6:14])
    if birth is None:
        raise ValidationFailure("id_number.birth_date", "居民身份证号码中的出生日期不是有效日期")
    if birth < _ID_EARLIEST_BIRTH_DATE:
        raise ValidationFailure("id_number.birth_date", "居民身份证号码中的出生日期早于1900年1月1日")
    if birth > (today if today is not None else date.today()):
        raise ValidationFailure("id_number.birth_date", "居民身份证号码中的出生日期晚于当前日期")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationFailure("id_number.checksum", "居民身份证号码校验位错误")
    return number


def is_valid_id_number(value: object, *, today: date | None = None) -> bool:
    """True when ``value`` is a string that :func:`validate_id_number` accepts."""
    if not isinstance(value, str):
        return False
    try:
        validate_id_number(value, today=today)
    except ValidationFailure:
        return False
    return True


def make_id_number(first17: str, *, today: date | None = None) -> str:
    """Append the check character to ``first17`` and return the validated 18-character ID number."""
    prefix = _normalise(first17)
    return validate_id_number(prefix + id_check_char(prefix), today=today)


def id_number_birth_date(value: str) -> date:
    """Return the birth date encoded in a valid ID number (raises :class:`ValidationFailure` otherwise)."""
    number = validate_id_number(value)
    birth = _parse_birth_date(number[6:14])
    if birth is None:  # pragma: no cover - validate_id_number already rejected it
        raise ValidationFailure("id_number.birth_date", "居民身份证号码中的出生日期不是有效日期")
    return birth


def id_number_gender(value: str) -> str:
    """Return ``"M"`` or ``"F"`` from the sequence code of a valid ID number (odd = male, even = female)."""
    number = validate_id_number(value)
    return "M" if int(number[16]) % 2 == 1 else "F"


# --------------------------------------------------------------------------------------------------------------------
# GB/T 2260 region codes

_PROVINCE_PREFIXES = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)


def validate_region_code(value: str) -> str:
    """Check the format of a 6-digit GB/T 2260 administrative division code and return it normalised.

    The first two digits must be a real province-level prefix (11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81,
    82). A code whose prefecture pair is ``00`` must also have county pair ``00`` (``xx00yy`` is not a GB/T 2260
    shape; province-administered county units use ``xx90yy``). Whether the code exists is checked elsewhere.
    """
    code = _normalise(value)
    if len(code) != 6 or not _is_ascii_digits(code):
        raise ValidationFailure("region_code.format", "行政区划代码应为6位数字")
    if code[:2] not in _PROVINCE_PREFIXES:
        raise ValidationFailure("region_code.format", "行政区划代码前两位不是有效的省级代码")
    if code[2:4] == "00" and code[4:6] != "00":
        raise ValidationFailure("region_code.format", "行政区划代码格式不正确：地级代码为00时县级代码也应为00")
    return code


def region_level(code: str) -> str:
    """Return ``"province"`` (``xx0000``), ``"city"`` (``xxyy00``) or ``"county"`` for a valid region code."""
    normalised = validate_region_code(code)
    if normalised.endswith("0000"):
        return "province"
    if normalised.endswith("00"):
        return "city"
    return "county"


# --------------------------------------------------------------------------------------------------------------------
# Mainland mobile numbers

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS = re.compile(r"[\s\-]+")


def validate_mobile(value: str) -> str:
    """Validate a mainland China mobile number and return the bare 11 digits.

    Spaces and hyphens are removed, and a ``+86``, ``0086`` or ``86`` country prefix is dropped; what remains must
    match ``^1[3-9]\\d{9}$``.
    """
    number = _MOBILE_SEPARATORS.sub("", to_half_width(value))
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) == len(prefix) + 11:
            number = number[len(prefix) :]
            break
    if not _MOBILE_RE.fullmatch(number):
        raise ValidationFailure("mobile.format", "手机号码格式不正确，应为11位中国大陆手机号码")
    return number


# --------------------------------------------------------------------------------------------------------------------
# Catalogue codes (project convention: 11-digit main item, 14-digit item code, both starting with "32")

_CATALOG_CODE_LENGTHS = frozenset({11, 14})


def validate_catalog_code(value: str, *, length: int) -> str:
    """Validate an 11-digit 监管事项主项编码 or 14-digit 监管事项编码 and return it normalised.

    ``length`` must be 11 or 14 (anything else is a programming error and raises :class:`ValueError`). The code
    must be ASCII digits only, exactly ``length`` long, and start with ``32`` (Jiangsu).
    """
    if length not in _CATALOG_CODE_LENGTHS:
        raise ValueError(f"catalogue codes have 11 or 14 digits, not {length}")
    code = _normalise(value)
    if not _is_ascii_digits(code):
        raise ValidationFailure("catalog_code.charset", "监管事项编码只能包含数字")
    if len(code) != length:
        raise ValidationFailure("catalog_code.length", f"监管事项编码应为{length}位数字（当前为{len(code)}位）")
    if not code.startswith("32"):
        raise ValidationFailure("catalog_code.province", "监管事项编码应以32（江苏省）开头")
    return code

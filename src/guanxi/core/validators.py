"""Normalisation and validation of Chinese contact and identity numbers.

Every ``normalize_*`` function returns the canonical form that is stored (and blind-indexed),
so the same number typed in different ways (full-width digits, separators, +86) compares
equal. Invalid input raises ``ValidationError`` with a module-level message constant and a
stable ``code`` so forms, the API and tests agree on the wording.

The functions do not treat an empty value as "no value": callers decide whether a field is
optional and only normalise non-empty input.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric as ric_mod
from stdnum.cn import uscc as uscc_mod

MOBILE_INVALID = _("手机号码必须是11位中国大陆手机号")
MOBILE_BAD_CHARS = _("手机号码只能包含数字、空格、短横线和 +86 前缀")

LANDLINE_INVALID = _("固定电话格式不正确，应为“区号-号码”，例如 010-12345678")
LANDLINE_AREA_CODE = _("固定电话必须带以 0 开头的区号，例如 010、0755")
LANDLINE_SUBSCRIBER = _("固定电话号码（不含区号）必须是7或8位数字，且不能以0开头")
LANDLINE_EXTENSION = _("分机号必须是1至6位数字")
LANDLINE_LOOKS_MOBILE = _("这看起来是手机号码，请填写在手机号码一栏")

EMAIL_INVALID = _("请输入有效的电子邮箱地址")
EMAIL_TOO_LONG = _("电子邮箱地址不能超过254个字符")

USCC_FORMAT = _("统一社会信用代码必须是18位，由数字和大写字母组成（不含 I、O、Z、S、V）")
USCC_CHECKSUM = _("统一社会信用代码校验位不正确，请核对后重新输入")

ID_FORMAT = _("身份证号码必须是18位，前17位为数字，最后一位为数字或X")
ID_CHECKSUM = _("身份证号码校验位不正确，请核对后重新输入")
ID_BIRTH_DATE = _("身份证号码中的出生日期无效")
ID_UNKNOWN_PROVINCE = _("身份证号码前两位“%(code)s”不是已知的省级行政区划代码，请核对")

MOBILE_CODE = "invalid_mobile"
PHONE_CODE = "invalid_phone"
EMAIL_CODE = "invalid_email"
USCC_CODE = "invalid_uscc"
ID_CODE = "invalid_id_number"

EMAIL_MAX_LENGTH = 254
ID_MIN_BIRTH_DATE = datetime.date(1900, 1, 1)

# Invisible characters that survive copy-paste from web pages and chat apps.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# Dash look-alikes that NFKC leaves alone (the full-width hyphen U+FF0D folds to "-").
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DASH_TO_HYPHEN = dict.fromkeys(map(ord, _DASHES), "-")
_MOBILE_SEPARATORS = re.compile(rf"[\s\-.(){_DASHES}]")
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE_EXT_RE = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(?P<ext>.*)$")
_LANDLINE_ALLOWED_RE = re.compile(r"[0-9+\-\s().]*")
_USCC_CHARS = "0-9A-HJ-NPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
_USCC_RE = re.compile(rf"[{_USCC_CHARS}]{{2}}[0-9]{{6}}[{_USCC_CHARS}]{{10}}")
# Real subscriber numbers start with 2-8, but "12345678"-style numbers are what users and our
# own docs write (010-12345678), so only a leading 0 (a mis-split area code) is refused.
_SUBSCRIBER_RE = re.compile(r"[1-9][0-9]{6,7}")
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")


def fold_text(value: str) -> str:
    """Fold full-width forms to ASCII and collapse whitespace, so look-alike input compares equal.

    NFKC turns "ＡＢＣ１２３" into "ABC123" and "（" into "("; every run of whitespace
    (including the ideographic space U+3000) becomes one space; zero-width characters go.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE)
    return " ".join(text.split())


def name_key(value: str) -> str:
    """Uniqueness key for customer names: width-, case- and whitespace-insensitive."""
    return "".join(fold_text(value).casefold().split())


def normalize_mobile(value: str) -> str:
    """Return the 11 bare digits of a mainland mobile number typed in any common way."""
    text = _MOBILE_SEPARATORS.sub("", fold_text(value))
    international = text.startswith("+")
    if international:
        if not text.startswith("+86"):
            raise ValidationError(MOBILE_INVALID, code=MOBILE_CODE)
        text = text[3:]
    if not text.isascii() or not text.isdigit():
        raise ValidationError(MOBILE_BAD_CHARS, code=MOBILE_CODE)
    if not international:
        for prefix in ("0086", "86"):
            if text.startswith(prefix) and len(text) == len(prefix) + 11:
                text = text[len(prefix) :]
                break
    if not _MOBILE_RE.fullmatch(text):
        raise ValidationError(MOBILE_INVALID, code=MOBILE_CODE)
    return text


class _LandlineError(Exception):
    """Internal: one reading of a landline failed; ``stage`` says where."""

    def __init__(self, message: object, stage: str) -> None:
        super().__init__(message)
        self.message = message
        self.stage = stage


def _landline_from_digits(digits: str, ext: str | None, international: bool) -> str:
    """Build the canonical landline from the bare digits of one reading of the input."""
    if (
        international
        or digits.startswith("0086")
        or (digits.startswith("86") and len(digits) >= 11)
    ):
        if digits.startswith("0086"):
            digits = digits[4:]
        elif digits.startswith("86"):
            digits = digits[2:]
        else:
            raise _LandlineError(LANDLINE_INVALID, "main")
        if not digits.startswith("0"):
            digits = "0" + digits
    if _MOBILE_RE.fullmatch(digits) or (
        digits.startswith("0") and _MOBILE_RE.fullmatch(digits[1:])
    ):
        raise _LandlineError(LANDLINE_LOOKS_MOBILE, "main")
    if not digits.startswith("0") or digits.startswith("00"):
        raise _LandlineError(LANDLINE_AREA_CODE, "main")
    # Mainland rule: 010 and 02X are the only 3-digit area codes, all others have 4 digits.
    area_len = 3 if digits.startswith(("010", "02")) else 4
    area, subscriber = digits[:area_len], digits[area_len:]
    if not _SUBSCRIBER_RE.fullmatch(subscriber):
        raise _LandlineError(LANDLINE_SUBSCRIBER, "main")
    if ext is None:
        return f"{area}-{subscriber}"
    if not re.fullmatch(r"[0-9]{1,6}", ext):
        raise _LandlineError(LANDLINE_EXTENSION, "ext")
    return f"{area}-{subscriber}-{ext}"


def normalize_landline(value: str) -> str:
    """Return a landline as "010-12345678" or "0755-1234567-8001" whatever the input style.

    The area code is re-derived from the digits (010 and 02X have 3 digits, the rest 4), so
    "01012345678", "(010)12345678" and "+86 10 12345678" all give the same stored value.
    """
    text = fold_text(value).lower().translate(_DASH_TO_HYPHEN)
    ext: str | None = None
    match = _LANDLINE_EXT_RE.search(text)
    if match:
        ext = re.sub(r"\s", "", match.group("ext"))
        text = text[: match.start()]
        if not ext:
            raise ValidationError(LANDLINE_EXTENSION, code=PHONE_CODE)
    text = text.strip().rstrip("-").replace("(0)", "")
    if not text or not _LANDLINE_ALLOWED_RE.fullmatch(text):
        raise ValidationError(LANDLINE_INVALID, code=PHONE_CODE)
    international = text.lstrip("( ").startswith("+")
    if text.count("+") != int(international):
        raise ValidationError(LANDLINE_INVALID, code=PHONE_CODE)
    groups = re.findall(r"[0-9]+", text)
    if not groups:
        raise ValidationError(LANDLINE_INVALID, code=PHONE_CODE)

    # A trailing separate group may be an extension ("010-12345678-8001"); try that reading
    # first and fall back to reading all digits as one number ("010-1234-5678").
    readings: list[tuple[str, str | None]] = []
    if ext is None and len(groups) >= 2:
        readings.append(("".join(groups[:-1]), groups[-1]))
    readings.append(("".join(groups), ext))
    errors: list[_LandlineError] = []
    for digits, extension in readings:
        try:
            return _landline_from_digits(digits, extension, international)
        except _LandlineError as exc:
            errors.append(exc)
    # Prefer "bad extension" when the number itself was fine, else the whole-number reading.
    error = next((e for e in errors if e.stage == "ext"), errors[-1])
    raise ValidationError(error.message, code=PHONE_CODE)


def normalize_email(value: str) -> str:
    """Return the lower-cased address; mail systems treat addresses case-insensitively."""
    email = fold_text(value).strip().lower()
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError(EMAIL_TOO_LONG, code=EMAIL_CODE)
    EmailValidator(message=EMAIL_INVALID, code=EMAIL_CODE)(email)
    return email


def normalize_uscc(value: str) -> str:
    """Return the 18-character unified social credit code after checking its check digit."""
    code = re.sub(r"[\s\-]", "", fold_text(value)).upper()
    # Checked here rather than with uscc.validate(), which wants digits in positions 1-2 and
    # so rejects codes from the agriculture (N) and "other" (Y) registration authorities.
    if not _USCC_RE.fullmatch(code):
        raise ValidationError(USCC_FORMAT, code=USCC_CODE)
    if code[-1] != uscc_mod.calc_check_digit(code[:-1]):
        raise ValidationError(USCC_CHECKSUM, code=USCC_CODE)
    return code


@dataclass(frozen=True)
class IdNumberInfo:
    """What a valid resident ID number tells us; ``warnings`` are advisory, not errors."""

    number: str
    birth_date: datetime.date
    gender: str
    warnings: tuple[str, ...] = ()


def _today() -> datetime.date:
    return timezone.localdate() if settings.USE_TZ else datetime.date.today()


def _known_province_codes() -> frozenset[str]:
    # Imported lazily: regions imports fold_text from this module.
    from guanxi.core.regions import provinces

    # 83 is the prefix of residence permit numbers issued to Taiwan residents (since 2018).
    return frozenset(code for code, _name in provinces()) | {"83"}


def validate_id_number(value: str, *, today: datetime.date | None = None) -> IdNumberInfo:
    """Check a resident ID number (GB 11643-1999) and return its normalised form and facts.

    The birthplace code is only used for a warning: division codes are renamed and retired,
    and IDs issued under an old code stay valid for life.
    """
    number = re.sub(r"[\s\-]", "", fold_text(value)).upper()
    if not _ID_RE.fullmatch(number):
        raise ValidationError(ID_FORMAT, code=ID_CODE)
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(ID_BIRTH_DATE, code=ID_CODE) from None
    if not ID_MIN_BIRTH_DATE <= birth_date <= (today or _today()):
        raise ValidationError(ID_BIRTH_DATE, code=ID_CODE)
    if number[-1] != ric_mod.calc_check_digit(number):
        raise ValidationError(ID_CHECKSUM, code=ID_CODE)
    warnings: tuple[str, ...] = ()
    if number[:2] not in _known_province_codes():
        warnings = (str(ID_UNKNOWN_PROVINCE % {"code": number[:2]}),)
    gender = "male" if int(number[16]) % 2 else "female"
    return IdNumberInfo(number=number, birth_date=birth_date, gender=gender, warnings=warnings)


def normalize_id_number(value: str) -> str:
    """Return only the normalised ID number (upper-case X), for storage."""
    return validate_id_number(value).number

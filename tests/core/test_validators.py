"""Normalisation and validation of phones, e-mail, USCC and resident ID numbers."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric as ric_mod
from stdnum.cn import uscc as uscc_mod

from guanxi.core import validators as v

if not settings.configured:  # standalone run without the project settings
    settings.configure(USE_I18N=False)

TODAY = datetime.date(2026, 6, 15)
FULL_WIDTH = str.maketrans("0123456789+-()", "０１２３４５６７８９＋－（）")


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


def error_of(func, value, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(value, **kwargs)
    return info.value


def id_check_digit(body17: str) -> str:
    """ISO 7064 MOD 11-2, written out independently of the code under test."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body17))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def make_id(area: str = "110105", birth: str = "19900307", seq: str = "123") -> str:
    body = area + birth + seq
    return body + id_check_digit(body)


def wrong_id_check(number: str) -> str:
    other = "0" if number[-1] != "0" else "1"
    return number[:-1] + other


def make_uscc(body17: str = "91440300MA5DXXXX1") -> str:
    return body17 + uscc_mod.calc_check_digit(body17)


# --- fold_text and name_key -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("ＡＢＣ１２３", "ABC123"),
        ("（北京）科技", "(北京)科技"),
        ("  华为   技术\t有限公司 ", "华为 技术 有限公司"),
        ("华为\u3000\u3000技术", "华为 技术"),
        ("a\u200bb\ufeff", "ab"),
        ("", ""),
        ("已经规范", "已经规范"),
    ],
)
def test_fold_text(raw, folded):
    assert v.fold_text(raw) == folded


@pytest.mark.parametrize(
    "variant",
    [
        "华为技术有限公司",
        "  华为 技术有限公司 ",
        "华为\u3000技术\u3000有限公司",
        "华 为 技 术 有 限 公 司",
    ],
)
def test_name_key_ignores_whitespace(variant):
    assert v.name_key(variant) == v.name_key("华为技术有限公司") == "华为技术有限公司"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ＡＢＣ科技（深圳）有限公司", "abc科技(深圳)有限公司"),
        ("Guanxi Tech Ltd", "GUANXITECHLTD"),
        ("一二三４５６", "一二三456"),
    ],
)
def test_name_key_ignores_width_and_case(a, b):
    assert v.name_key(a) == v.name_key(b)


def test_name_key_keeps_different_names_apart():
    assert v.name_key("华为技术有限公司") != v.name_key("华为科技有限公司")


# --- mobile -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("138.0013.8000", "13800138000"),
        ("(138)00138000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+86-138-0013-8000", "13800138000"),
        ("(+86) 13800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("0086 138 0013 8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("＋８６　１３８－００１３－８０００", "13800138000"),
        ("  19912345678  ", "19912345678"),
        ("16612345678", "16612345678"),
        ("138\u20130013\u20138000", "13800138000"),
    ],
)
def test_normalize_mobile_valid(raw, normalized):
    assert v.normalize_mobile(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "12800138000",  # second digit 2
        "10012345678",
        "23800138000",
        "+85213800138000",  # Hong Kong country code
        "+1 138 0013 8000",
        "+86 1380013800",  # +86 with 10 digits
        "+86 0086 13800138000",
        "86138001380",  # "86" prefix only counts before 11 digits
        "0138 0013 8000",
        "010-12345678",
    ],
)
def test_normalize_mobile_invalid(raw):
    error = error_of(v.normalize_mobile, raw)
    assert error.code == "invalid_mobile"
    assert error.messages == [str(v.MOBILE_INVALID)]


@pytest.mark.parametrize("raw", ["", "abc", "138001380OO", "138/0013/8000", "٣٣٨٠٠١٣٨٠٠٠"])
def test_normalize_mobile_rejects_other_characters(raw):
    error = error_of(v.normalize_mobile, raw)
    assert error.code == "invalid_mobile"
    assert error.messages == [str(v.MOBILE_BAD_CHARS)]


SEPARATORS = st.sampled_from(["", "", "", " ", "-", ".", "\u3000", "－", "(", ")", "  "])
PREFIXES = st.sampled_from(["", "+86", "+86 ", "+86-", "0086", "0086 ", "86", "(+86)", "＋８６"])


@given(
    number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    prefix=PREFIXES,
    data=st.data(),
)
def test_normalize_mobile_property(number, prefix, data):
    parts = [prefix]
    for digit in number:
        if data.draw(st.booleans()):
            digit = full_width(digit)
        parts.append(digit + data.draw(SEPARATORS))
    text = data.draw(st.sampled_from(["", " ", "\u3000"])) + "".join(parts)
    assert v.normalize_mobile(text) == number


# --- landline ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("010-12345678", "010-12345678"),
        ("0755-1234567", "0755-1234567"),
        ("0755-12345678", "0755-12345678"),
        ("021-87654321", "021-87654321"),
        ("02087654321", "020-87654321"),
        ("029 8765 4321", "029-87654321"),
        ("01012345678", "010-12345678"),
        ("07551234567", "0755-1234567"),
        ("057188886666", "0571-88886666"),
        ("(010)12345678", "010-12345678"),
        ("(0755) 1234-5678", "0755-12345678"),
        ("010 12345678", "010-12345678"),
        ("010-1234-5678", "010-12345678"),
        ("０１０－１２３４５６７８", "010-12345678"),
        ("（０７５５）１２３４５６７", "0755-1234567"),
        ("+86-10-12345678", "010-12345678"),
        ("+86 755 1234567", "0755-1234567"),
        ("+86 (0)10 12345678", "010-12345678"),
        ("+86 010 12345678", "010-12345678"),
        ("0086 21 87654321", "021-87654321"),
        ("86 10 12345678", "010-12345678"),
        ("010-12345678-8001", "010-12345678-8001"),
        ("010-12345678转8001", "010-12345678-8001"),
        ("010-12345678 转 8001", "010-12345678-8001"),
        ("010-12345678ext8001", "010-12345678-8001"),
        ("010-12345678 ext. 8001", "010-12345678-8001"),
        ("010-12345678 EXT 8001", "010-12345678-8001"),
        ("010-12345678x8001", "010-12345678-8001"),
        ("010-12345678 X 1", "010-12345678-1"),
        ("010-12345678#8001", "010-12345678-8001"),
        ("0755-1234567-123456", "0755-1234567-123456"),
        ("+86 755 1234567 转 801", "0755-1234567-801"),
        ("0755 1234567", "0755-1234567"),
        ("010\u201312345678", "010-12345678"),  # en dash from a word processor
    ],
)
def test_normalize_landline_valid(raw, normalized):
    assert v.normalize_landline(raw) == normalized


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12345678", v.LANDLINE_AREA_CODE),  # no area code
        ("87654321", v.LANDLINE_AREA_CODE),
        ("0010-12345678", v.LANDLINE_AREA_CODE),  # area code 00
        ("010-02345678", v.LANDLINE_SUBSCRIBER),  # subscriber starts with 0
        ("010-123456", v.LANDLINE_SUBSCRIBER),  # 6 digits
        ("0755-123456", v.LANDLINE_SUBSCRIBER),
        ("010-123456789", v.LANDLINE_SUBSCRIBER),  # 9 digits
        ("0755-123456789", v.LANDLINE_SUBSCRIBER),
        ("010-12345678-1234567", v.LANDLINE_EXTENSION),  # 7-digit extension
        ("010-12345678转", v.LANDLINE_EXTENSION),
        ("010-12345678 ext abc", v.LANDLINE_EXTENSION),
        ("13800138000", v.LANDLINE_LOOKS_MOBILE),
        ("138-0013-8000", v.LANDLINE_LOOKS_MOBILE),
        ("+86 138 0013 8000", v.LANDLINE_LOOKS_MOBILE),
        ("013800138000", v.LANDLINE_LOOKS_MOBILE),
        ("", v.LANDLINE_INVALID),
        ("电话", v.LANDLINE_INVALID),
        ("010/12345678", v.LANDLINE_INVALID),
        ("+1 212 5551234", v.LANDLINE_INVALID),
        ("010+12345678", v.LANDLINE_INVALID),
    ],
)
def test_normalize_landline_invalid(raw, message):
    error = error_of(v.normalize_landline, raw)
    assert error.code == "invalid_phone"
    assert error.messages == [str(message)]


@given(
    area=st.sampled_from(["010", "020", "021", "029", "0755", "0571", "0898", "0371"]),
    subscriber=st.from_regex(r"[2-8][0-9]{6,7}", fullmatch=True),
    style=st.sampled_from(["{a}-{s}", "{a}{s}", "({a}){s}", "{a} {s}", "+86 {n} {s}"]),
    wide=st.booleans(),
)
def test_normalize_landline_property(area, subscriber, style, wide):
    text = style.format(a=area, s=subscriber, n=area[1:])
    if wide:
        text = full_width(text)
    assert v.normalize_landline(text) == f"{area}-{subscriber}"


# --- email ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("zhangsan@example.com", "zhangsan@example.com"),
        ("ZhangSan@Example.COM", "zhangsan@example.com"),
        ("  li.si+crm@mail.example.cn  ", "li.si+crm@mail.example.cn"),
        ("ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "wang@example.com"),
        ("user@sub.domain.com.cn", "user@sub.domain.com.cn"),
    ],
)
def test_normalize_email_valid(raw, normalized):
    assert v.normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    ["", "zhangsan", "zhangsan@", "@example.com", "zhang san@example.com", "a@b", "a@@b.com"],
)
def test_normalize_email_invalid(raw):
    error = error_of(v.normalize_email, raw)
    assert error.code == "invalid_email"
    assert error.messages == [str(v.EMAIL_INVALID)]


def test_normalize_email_too_long():
    error = error_of(v.normalize_email, "a" * 64 + "@" + "b" * 186 + ".com")  # 255 chars
    assert error.code == "invalid_email"
    assert error.messages == [str(v.EMAIL_TOO_LONG)]


def test_normalize_email_max_length_is_allowed():
    email = "a" * 60 + "@" + ".".join(["b" * 60] * 3) + ".com"
    assert len(email) <= 254
    assert v.normalize_email(email) == email


# --- USCC -------------------------------------------------------------------------------

VALID_USCCS = [
    make_uscc("91440300MA5DXXXX1"),
    make_uscc("91110108551385082"),
    make_uscc("12100000400000000"),  # public institution (事业单位)
    make_uscc("52310000MJ0000000"),  # social organisation
    make_uscc("N2330100MF0000000"),  # agricultural authority, letter in position 1
    "91350100M000100Y43",  # stdnum documentation example
    "91110000600037341L",
]


@pytest.mark.parametrize("code", VALID_USCCS)
def test_normalize_uscc_valid(code):
    assert v.normalize_uscc(code) == code


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("91350100m000100y43", "91350100M000100Y43"),
        ("9135 0100 M000 100Y 43", "91350100M000100Y43"),
        ("913501-00M000100Y43", "91350100M000100Y43"),
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),
    ],
)
def test_normalize_uscc_normalizes(raw, normalized):
    assert v.normalize_uscc(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "91350100I000100Y43",  # I is not in the alphabet
        "91350100O000100Y43",
        "91350100M000100S43",
        "9135010AM000100Y43",  # region code must be digits
        "91350100M000100Y4?",
    ],
)
def test_normalize_uscc_bad_format(raw):
    error = error_of(v.normalize_uscc, raw)
    assert error.code == "invalid_uscc"
    assert error.messages == [str(v.USCC_FORMAT)]


@pytest.mark.parametrize("code", VALID_USCCS)
def test_normalize_uscc_wrong_check_digit(code):
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    error = error_of(v.normalize_uscc, wrong)
    assert error.code == "invalid_uscc"
    assert error.messages == [str(v.USCC_CHECKSUM)]


# --- resident ID number -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number", "birth", "gender"),
    [
        ("11010519491231002X", "11010519491231002X", datetime.date(1949, 12, 31), "female"),
        ("11010519491231002x", "11010519491231002X", datetime.date(1949, 12, 31), "female"),
        (
            "１１０１０５１９４９１２３１００２ｘ",
            "11010519491231002X",
            datetime.date(1949, 12, 31),
            "female",
        ),
        ("110105 19491231 002X", "11010519491231002X", datetime.date(1949, 12, 31), "female"),
        (make_id(seq="123"), make_id(seq="123"), datetime.date(1990, 3, 7), "male"),
        (make_id(seq="124"), make_id(seq="124"), datetime.date(1990, 3, 7), "female"),
        (
            make_id("440305", "20000229"),
            make_id("440305", "20000229"),
            datetime.date(2000, 2, 29),
            "male",
        ),
        (
            make_id("310101", "19960229"),
            make_id("310101", "19960229"),
            datetime.date(1996, 2, 29),
            "male",
        ),
        (
            make_id("510104", "19000101"),
            make_id("510104", "19000101"),
            datetime.date(1900, 1, 1),
            "male",
        ),
        (make_id("110101", "20260615"), make_id("110101", "20260615"), TODAY, "male"),
    ],
)
def test_validate_id_number_valid(raw, number, birth, gender):
    info = v.validate_id_number(raw, today=TODAY)
    assert info == v.IdNumberInfo(number=number, birth_date=birth, gender=gender, warnings=())


def test_generated_ids_end_in_x_sometimes():
    numbers = [make_id(seq=f"{n:03d}") for n in range(200)]
    with_x = [n for n in numbers if n.endswith("X")]
    assert with_x
    for number in with_x:
        assert v.validate_id_number(number.lower()).number == number


@pytest.mark.parametrize(
    "number",
    [
        make_id("440305", "19600101"),  # 南山区 code exists only since 1983/1990
        make_id("130505", "19850610"),  # 任泽区, renamed from 任县 in 2020
        make_id("110103", "20150101"),  # 崇文区, merged into 东城区 in 2010
        make_id("469031", "19800101"),  # not in any code list at all
    ],
)
def test_validate_id_number_accepts_renamed_and_unknown_counties(number):
    with pytest.raises(ric_mod.ValidationError):
        ric_mod.validate(number)  # why we do not use stdnum's validate()
    info = v.validate_id_number(number)
    assert info.number == number
    assert info.warnings == ()


@pytest.mark.parametrize("area", ["000000", "990101", "300101", "910101"])
def test_validate_id_number_warns_on_unknown_province(area):
    number = make_id(area)
    info = v.validate_id_number(number)
    assert info.number == number
    assert info.warnings == (str(v.ID_UNKNOWN_PROVINCE % {"code": area[:2]}),)


@pytest.mark.parametrize("area", ["810000", "820000", "830000", "710000", "650102", "110101"])
def test_validate_id_number_known_provinces_do_not_warn(area):
    assert v.validate_id_number(make_id(area)).warnings == ()


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "11010519491231002",  # 17
        "11010519491231002X1",  # 19
        "110105491231002",  # old 15-digit number
        "1101051949123100X2",  # X not last
        "11010519491231002Y",
        "A1010519491231002X",
        "11010519491231002Ｙ",
    ],
)
def test_validate_id_number_bad_format(raw):
    error = error_of(v.validate_id_number, raw)
    assert error.code == "invalid_id_number"
    assert error.messages == [str(v.ID_FORMAT)]


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",
        make_id("440305", "19900307"),
        make_id("320102", "20000229"),
        make_id("650102", "19751111", "999"),
    ],
)
def test_validate_id_number_wrong_check_digit(number):
    error = error_of(v.validate_id_number, wrong_id_check(number))
    assert error.code == "invalid_id_number"
    assert error.messages == [str(v.ID_CHECKSUM)]


@pytest.mark.parametrize(
    "birth",
    [
        "19990229",  # not a leap year
        "19000229",  # 1900 is not a leap year either
        "20230229",
        "19901301",  # month 13
        "19900001",
        "19900431",  # 31 April
        "19900100",
        "18991231",  # before 1900
        "20260616",  # tomorrow relative to TODAY
        "20990101",  # far future
    ],
)
def test_validate_id_number_bad_birth_date(birth):
    error = error_of(v.validate_id_number, make_id("110105", birth), today=TODAY)
    assert error.code == "invalid_id_number"
    assert error.messages == [str(v.ID_BIRTH_DATE)]


def test_validate_id_number_future_against_the_real_clock():
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    error = error_of(v.validate_id_number, make_id("110105", tomorrow.strftime("%Y%m%d")))
    assert error.messages == [str(v.ID_BIRTH_DATE)]


def test_validate_id_number_birth_date_is_checked_before_check_digit():
    bad_date_and_check = wrong_id_check(make_id("110105", "19990229"))
    assert error_of(v.validate_id_number, bad_date_and_check).messages == [str(v.ID_BIRTH_DATE)]


def test_own_check_digit_agrees_with_stdnum():
    for n in range(300):
        number = make_id("110105", "19900307", f"{n:03d}")
        assert ric_mod.calc_check_digit(number) == number[-1]


def test_id_number_info_is_frozen():
    info = v.validate_id_number("11010519491231002X")
    with pytest.raises(AttributeError):
        info.number = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("11010519491231002x", "11010519491231002X"),
        (" 1101 0519 4912 3100 2X ", "11010519491231002X"),
        (make_id("440305", "19600101"), make_id("440305", "19600101")),
    ],
)
def test_normalize_id_number(raw, normalized):
    assert v.normalize_id_number(raw) == normalized


def test_normalize_id_number_raises():
    assert error_of(v.normalize_id_number, "123").code == "invalid_id_number"

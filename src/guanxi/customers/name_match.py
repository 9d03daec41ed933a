"""Company names reduced to what identifies the company, and how alike two of them are.

A Chinese company name is usually [行政区划][字号][行业][组织形式]: "深圳市华为技术有限公司".
Two records of one company differ in the parts around the trade name far more often than in
the trade name itself ("华为技术有限公司", "深圳华为技术股份有限公司", "华为技术（深圳）有限公司"),
so the *core* drops bracketed parts, legal-form suffixes and leading province/city names after
folding width, case, spaces and punctuation. Equal cores are a near-certain duplicate; cores a
small edit apart (a typo, a homophone, one character more) are similar.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from guanxi.core import search_keys
from guanxi.core.regions import place_names

# Longest first, so "股份有限公司" is removed whole rather than leaving "股份".
LEGAL_FORMS = tuple(
    sorted(
        {
            "集团股份有限公司",
            "集团有限责任公司",
            "集团有限公司",
            "股份有限公司",
            "有限责任公司",
            "股份合作公司",
            "有限公司",
            "股份公司",
            "集团公司",
            "分公司",
            "总公司",
            "公司",
            "集团",
            "有限合伙",
            "普通合伙",
            "合伙企业",
            "个人独资企业",
            "corporation",
            "company",
            "limited",
            "coltd",
            "corp",
            "ltd",
            "inc",
            "llc",
            "co",
        },
        key=len,
        reverse=True,
    )
)
MIN_CORE = 2
"""A core never shrinks below this many characters: "北京公司" stays "北京"."""

_NUMBERS = re.compile(r"[0-9]+")
_BRACKETED = re.compile(r"[(\[（【〔［][^)\]）】〕］]*[)\]）】〕］]")


def name_core(name: str) -> str:
    """The identifying part of a company name, for similar-name detection."""
    text = unicodedata.normalize("NFKC", name or "")
    core = search_keys.normalize(_BRACKETED.sub("", text)) or search_keys.normalize(text)
    core = _strip_legal_forms(core)
    for _ in range(2):  # a province, then a city: "广东省深圳市..."
        core = _strip_place(core)
    return core


def _strip_legal_forms(core: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for form in LEGAL_FORMS:
            if core.endswith(form) and len(core) - len(form) >= MIN_CORE:
                core = core[: -len(form)]
                stripped = True
                break
    return core


@lru_cache(maxsize=1)
def _places_by_length() -> tuple[tuple[int, frozenset[str]], ...]:
    """Place names grouped by length, longest first: a prefix is then a set lookup per
    length instead of a scan of every name (an import calls this twice a row)."""
    lengths: dict[int, set[str]] = {}
    for place in place_names():
        lengths.setdefault(len(place), set()).add(place)
    return tuple((n, frozenset(names)) for n, names in sorted(lengths.items(), reverse=True))


def _strip_place(core: str) -> str:
    """``core`` without the longest place name it opens with (if enough is left after it)."""
    for length, names in _places_by_length():
        if len(core) - length >= MIN_CORE and core[:length] in names:
            return core[length:]
    return core


def similarity(core_a: str, core_b: str) -> float:
    """0..1: normalised edit similarity of two cores, or 0.9 when the shorter one opens the
    longer ("华为" / "华为技术": the same trade name with the trade written out).

    Different numbers make different companies ("一号仓储3店" / "一号仓储4店"): 0."""
    if not core_a or not core_b or _NUMBERS.findall(core_a) != _NUMBERS.findall(core_b):
        return 0.0
    score = Levenshtein.normalized_similarity(core_a, core_b)
    short, long_ = sorted((core_a, core_b), key=len)
    if len(short) >= MIN_CORE and short != long_ and long_.startswith(short):
        score = max(score, 0.9)
    return round(score, 3)


KEYED_DELETIONS_FROM = 4
"""Cores this long get one-deletion keys: one edit in a shorter core is not similar."""
MAX_KEYED = 32


def deletion_keys(core: str) -> list[str]:
    """The core and, from KEYED_DELETIONS_FROM characters on, the core with each character
    left out in turn (distinct). Cores sharing a key are at most one edit apart."""
    if len(core) < MIN_CORE:
        return []
    keys = {core: None}
    if KEYED_DELETIONS_FROM <= len(core) <= MAX_KEYED:
        keys.update(dict.fromkeys(core[:i] + core[i + 1 :] for i in range(len(core))))
    return list(keys)


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (code points)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)

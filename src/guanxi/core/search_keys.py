"""Search keys for customer search: Chinese substrings, full pinyin and pinyin initials.

Both database back ends index the same thing: every record becomes one space-separated string
of exact tokens (SQLite FTS5 with the unicode61 tokenizer, PostgreSQL GIN over
``string_to_array(tokens, ' ')``), and every query becomes an OR of AND-groups of tokens.
Tokens are n-gram style, so candidates may over-match; :func:`matches` is the exact recheck.

Token kinds produced by :func:`document_tokens` for each normalized text:

* every CJK character (``张``), so one-character queries work;
* every bigram of adjacent characters, any script (``张三``, ``ab``, ``c科``);
* for every adjacent pair of CJK characters and every reading combination (at most
  ``MAX_READINGS`` readings per character, so at most 16 + 16 tokens per pair): the
  concatenated full pinyin (``zhangsan``) and the concatenated initials (``zs``);
* for a text that is one CJK character: its syllables (``zhang``).

Conventions (why they are what they are):

* An *initial* is the first letter of a syllable: ``zh``/``ch``/``sh`` count as ``z``/``c``/``s``
  (张三 → ``zs``), which is what users type in pinyin-initial search boxes.
* ``ü`` is written ``v`` (吕 → ``lv``, the IME convention) and also, as a second reading, ``u``
  (``lu``), since both spellings are typed.
* The vowelless interjection syllables (m, n, ng, hm, hng) are dropped from readings: they would
  make almost every pinyin query ambiguously segmentable (``zha|ng|san``). 嗯 is therefore only
  found by its character.
* Tokens are lowercase letters/digits after NFKC: ``[a-z0-9]`` and CJK ideographs for Chinese
  and Latin input (other scripts keep their letters). They never contain spaces or FTS5 syntax
  characters; FTS5 keywords are uppercase-only, but the database side should still quote tokens.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

__all__ = [
    "MAX_READINGS",
    "document_tokens",
    "is_cjk",
    "matches",
    "normalize",
    "query_plan",
    "readings",
]

MAX_READINGS = 4
"""Readings kept per character (most common first): bounds the tokens one record can produce."""

MAX_SEGMENTATIONS = 16
"""Pinyin segmentations turned into exact AND-groups; beyond this a coarser plan is used."""

MAX_PINYIN_QUERY = 256
"""Longer letter-only queries are not segmented into pinyin (bigram group only)."""

_VOWELLESS = frozenset({"m", "n", "ng", "hm", "hng"})
_MAX_SYLLABLE = 6  # zhuang, chuang, shuang

# CJK unified ideographs (incl. extensions and compatibility blocks) and 〇.
_CJK_CLASS = (
    "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\U00030000-\U000323af"
)
_ALL_CJK = re.compile(f"[{_CJK_CLASS}]+")
_CLEAN = re.compile(f"[a-z0-9{_CJK_CLASS}]*")


def is_cjk(ch: str) -> bool:
    """True for one CJK ideograph (the characters that get pinyin and unigram tokens)."""
    if "\u4e00" <= ch <= "\u9fff":
        return True
    if len(ch) != 1:
        return False
    cp = ord(ch)
    return (
        cp == 0x3007
        or 0x3400 <= cp <= 0x4DBF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x2FA1F
        or 0x30000 <= cp <= 0x323AF
    )


# --------------------------------------------------------------------------- normalization


class _CharMap(dict):
    """str.translate table filled on demand: per-character decisions are made once."""

    def __missing__(self, cp: int) -> int | str | None:
        ch = chr(cp)
        value: int | str | None
        if ch.isascii():
            value = cp if ch.isalnum() else None
        elif is_cjk(ch):
            value = cp
        elif unicodedata.category(ch)[0] in "LN":
            # Latin letters with diacritics fold to ASCII (é → e, ü → u); other scripts stay.
            base = "".join(
                c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
            )
            value = base if base.isascii() and base.isalnum() else cp
        else:
            value = None  # punctuation, symbols, spaces, marks, controls
        self[cp] = value
        return value


_CHAR_MAP = _CharMap()


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lowercase, keep only letters/digits/CJK.

    Documents and queries go through the same function, so "ＺＳ", "z s" and "Z-S" all equal "zs".
    """
    s = unicodedata.normalize("NFKC", text).lower()
    if _CLEAN.fullmatch(s):
        return s
    return s.translate(_CHAR_MAP)


# --------------------------------------------------------------------------- readings


@cache
def _raw_dict() -> dict[int, str]:
    # Imported lazily: pypinyin loads its phrase dictionary on import (~0.1 s).
    from pypinyin.constants import PINYIN_DICT

    return PINYIN_DICT


@lru_cache(maxsize=4096)
def _plain_syllables(raw: str) -> tuple[str, ...]:
    """Tone-marked syllable → plain ASCII spellings ("lǜ" → ("lv", "lu"), "ê̄" → ("e",))."""
    decomposed = unicodedata.normalize("NFD", raw.strip()).replace("u\u0308", "v")
    plain = "".join(c for c in decomposed if c.isascii() and c.isalpha()).lower()
    if not plain or plain in _VOWELLESS:
        return ()
    if "v" in plain:
        return (plain, plain.replace("v", "u"))
    return (plain,)


def _compute_readings(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    out: dict[str, None] = {}
    for syllable in raw.split(","):
        for plain in _plain_syllables(syllable):
            out[plain] = None
    return tuple(out)[:MAX_READINGS]


@lru_cache(maxsize=65536)
def readings(ch: str) -> tuple[str, ...]:
    """Plain ASCII pinyin readings of one character, most common first (empty if none).

    Built from pypinyin's per-character dictionary (order = pypinyin's, which lists the most
    common reading first); capped at MAX_READINGS so heteronyms cannot blow up the index.
    """
    if len(ch) != 1 or not is_cjk(ch):
        return ()
    return _compute_readings(_raw_dict().get(ord(ch)))


@lru_cache(maxsize=65536)
def _initials(ch: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r[0] for r in readings(ch)))


@cache
def _syllables() -> frozenset[str]:
    """Every syllable any character can be read as (about 420), for query segmentation."""
    out: set[str] = set()
    for raw in _raw_dict().values():
        out.update(_compute_readings(raw))
    return frozenset(out)


# --------------------------------------------------------------------------- documents


@lru_cache(maxsize=1 << 15)  # ~0.5 kB per entry: bounded at under 20 MB per process
def _pair_tokens(pair: str) -> dict[str, None]:
    """Full-pinyin and initials tokens of two adjacent CJK characters, all reading combinations.

    Cached as a dict so document_tokens can merge it with one C-level dict.update.
    """
    first, second = readings(pair[0]), readings(pair[1])
    out: dict[str, None] = {}
    for a in first:
        for b in second:
            out[a + b] = None
    for a in first:
        for b in second:
            out[a[0] + b[0]] = None
    return out


def document_tokens(*texts: str) -> str:
    """Space-separated, deduplicated, deterministically ordered index tokens for one record.

    Runs for every row of imports and benchmark loads, so it only uses cached per-character and
    per-pair tables (no pypinyin phrase segmentation per row).
    """
    out: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        s = normalize(text)
        n = len(s)
        if n < 2:
            if n == 1 and is_cjk(s):
                out[s] = None
                out.update(dict.fromkeys(readings(s)))
            continue
        if s.isascii():
            for i in range(n - 1):
                out[s[i : i + 2]] = None
            continue
        if _ALL_CJK.fullmatch(s):
            out.update(dict.fromkeys(s))
            for i in range(n - 1):
                pair = s[i : i + 2]
                out[pair] = None
                out.update(_pair_tokens(pair))
            continue
        flags = [is_cjk(c) for c in s]
        for i in range(n):
            if flags[i]:
                out[s[i]] = None
        for i in range(n - 1):
            pair = s[i : i + 2]
            out[pair] = None
            if flags[i] and flags[i + 1]:
                out.update(_pair_tokens(pair))
    return " ".join(out)


# --------------------------------------------------------------------------- queries


def _bigrams(s: str) -> list[str]:
    return list(dict.fromkeys(s[i : i + 2] for i in range(len(s) - 1)))


def _segmentations(q: str, limit: int) -> list[list[str]] | None:
    """All splits of q into syllables, longest syllable first; None if more than `limit`.

    A suffix table makes every explored branch succeed, so the search is linear in its output.
    """
    syllables = _syllables()
    n = len(q)
    ok = [False] * (n + 1)
    ok[n] = True
    for i in range(n - 1, -1, -1):
        ok[i] = any(
            ok[j] and q[i:j] in syllables for j in range(i + 1, min(n, i + _MAX_SYLLABLE) + 1)
        )
    if not ok[0]:
        return []
    found: list[list[str]] = []
    path: list[str] = []

    def walk(i: int) -> bool:
        if i == n:
            found.append(list(path))
            return len(found) <= limit
        for j in range(min(n, i + _MAX_SYLLABLE), i, -1):
            if ok[j] and q[i:j] in syllables:
                path.append(q[i:j])
                keep_going = walk(j)
                path.pop()
                if not keep_going:
                    return False
        return True

    return found if walk(0) else None


def _coarse_pinyin_groups(q: str) -> list[list[str]]:
    """Relaxed plan when q has too many segmentations: {first pair, last pair} per split.

    Each group is a subset of the exact group of some segmentation and every segmentation has
    such a group, so nothing is missed; the recheck removes the extra candidates.
    """
    syllables = _syllables()
    n = len(q)
    width = _MAX_SYLLABLE

    def syl(i: int, j: int) -> bool:
        return 0 <= i < j <= n and j - i <= width and q[i:j] in syllables

    def reachable(start: int) -> list[bool]:
        """Positions p such that q[start:p] splits into zero or more syllables."""
        reach = [False] * (n + 1)
        reach[start] = True
        for i in range(start, n):
            if reach[i]:
                for j in range(i + 1, min(n, i + width) + 1):
                    if q[i:j] in syllables:
                        reach[j] = True
        return reach

    heads = [(b1, b2) for b1 in range(1, width + 1) for b2 in range(b1 + 1, b1 + width + 1)]
    heads = [(b1, b2) for b1, b2 in heads if syl(0, b1) and syl(b1, b2)]
    tails = [(c - d, c) for c in range(n - width, n) for d in range(1, width + 1)]
    tails = [(a, c) for a, c in tails if syl(a, c) and syl(c, n)]
    reach_from: dict[int, list[bool]] = {}
    groups: list[list[str]] = []
    for b1, b2 in heads:
        if b2 == n:  # two syllables
            groups.append([q])
            continue
        if b2 not in reach_from:
            reach_from[b2] = reachable(b2)
        for a, c in tails:
            three = a == b1 and c == b2
            four_or_more = a >= b2 and reach_from[b2][a]
            if three or four_or_more:
                groups.append([q[:b2], q[a:]])
    return groups


def _pinyin_groups(q: str) -> list[list[str]]:
    segmentations = _segmentations(q, MAX_SEGMENTATIONS)
    if segmentations is None:
        return _coarse_pinyin_groups(q)
    groups = []
    for parts in segmentations:
        if len(parts) == 1:
            groups.append(parts)  # single-character texts index their syllables
        else:
            groups.append([parts[i] + parts[i + 1] for i in range(len(parts) - 1)])
    return groups


def _minimal(groups: list[list[str]]) -> list[list[str]]:
    """Deduplicate tokens and groups; drop groups that contain another group (A or A∧B = A)."""
    sets: list[tuple[list[str], frozenset[str]]] = []
    for group in groups:
        tokens = list(dict.fromkeys(group))
        if tokens:
            sets.append((tokens, frozenset(tokens)))
    out: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for tokens, key in sets:
        if key in seen or any(other < key for _, other in sets):
            continue
        seen.add(key)
        out.append(tokens)
    return out


def query_plan(q: str) -> list[list[str]]:
    """Turn a search box query into an OR of AND-groups of index tokens ([] = no token search).

    A record is a candidate when all tokens of at least one group are among its tokens; the
    caller then rechecks candidates with :func:`matches`.
    """
    s = normalize(q)
    if not s:
        return []
    if any(is_cjk(c) for c in s):
        return [[s]] if len(s) == 1 else [_bigrams(s)]
    if len(s) < 2:
        return []
    groups: list[list[str]] = []
    if s.isascii() and s.isalpha() and len(s) <= MAX_PINYIN_QUERY:
        groups.extend(_pinyin_groups(s))
    # Pinyin initials ("hwjs" → hw, wj, js) and Latin substrings ("abc" → ab, bc) share the
    # letter-bigram tokens, so one group serves both; digits and mixed queries use it too.
    groups.append(_bigrams(s))
    return _minimal(groups)


# --------------------------------------------------------------------------- recheck


@lru_cache(maxsize=65536)
def _full_options(ch: str) -> tuple[str, ...]:
    return readings(ch) if is_cjk(ch) else (ch,)


@lru_cache(maxsize=65536)
def _initial_options(ch: str) -> frozenset[str]:
    return frozenset(_initials(ch)) if is_cjk(ch) else frozenset(ch)


def _in_any_pinyin(q: str, text: str) -> bool:
    """q is a substring of the full pinyin of text under some choice of readings.

    NFA over character boundaries: a state is how much of q is matched so far, so the cost is
    O(len(text) * len(q) * readings) however many reading combinations exist.
    """
    head = q[0]
    states: set[int] = set()
    for ch in text:
        nxt: set[int] = set()
        for r in _full_options(ch):
            if head in r:
                if q in r:
                    return True
                # q starts inside r: a suffix of r is a prefix of q.
                for k in range(len(r)):
                    if r[k] == head and q.startswith(r[k:]):
                        nxt.add(len(r) - k)
            for j in states:
                rest = q[j:]
                if r.startswith(rest):
                    return True
                if rest.startswith(r):
                    nxt.add(j + len(r))
        states = nxt
    return False


def _in_any_initials(q: str, text: str) -> bool:
    """q is a substring of the initials of text under some choice of readings (NFA)."""
    n = len(q)
    states: set[int] = set()
    for ch in text:
        options = _initial_options(ch)
        nxt = {j + 1 for j in states if q[j] in options}
        if q[0] in options:
            nxt.add(1)
        if n in nxt:
            return True
        states = nxt
    return False


def matches(q: str, *texts: str) -> bool:
    """Exact recheck of an index candidate: q is a substring of a text, of its full pinyin or of
    its initials (any reading of heteronyms), after normalizing both sides."""
    s = normalize(q)
    if not s:
        return True
    pinyin_query = s.isascii()
    for text in texts:
        t = normalize(text)
        if s in t:
            return True
        if pinyin_query and not t.isascii() and (_in_any_initials(s, t) or _in_any_pinyin(s, t)):
            return True
    return False

"""Search keys: the index (document_tokens + query_plan) must never miss a true match, and the
recheck (matches) must remove what the n-gram index over-matches."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.core import search_keys
from guanxi.core.search_keys import (
    document_tokens,
    is_cjk,
    matches,
    normalize,
    query_plan,
    readings,
)

# Common name/company characters, including heteronyms (单 曾 长 行 重 乐 朴 解 查 区 仇 盛).
COMMON = (
    "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈彭吕苏"
    "单曾长行重乐朴解查区仇盛翟尉万"
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰萍红志国建文辉力永健世广义兴良海山"
    "北京上深圳州杭成都武汉南西安天津沙厦门宁波"
    "为技术有限公司科贸易电子信息网络银发展集团股份实业中恒达鑫源金泰瑞丰博远嘉禾"
)
TOKEN = re.compile(r"[a-z0-9\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af]+")

names = st.lists(st.sampled_from(COMMON), min_size=1, max_size=8).map("".join)


def tokens_of(*texts: str) -> set[str]:
    return set(document_tokens(*texts).split(" "))


def index_finds(q: str, *texts: str) -> bool:
    """What the database does: some AND-group is fully contained in the record's tokens."""
    tokens = tokens_of(*texts)
    return any(set(group) <= tokens for group in query_plan(q))


def found(q: str, *texts: str) -> bool:
    return index_finds(q, *texts) and matches(q, *texts)


# --------------------------------------------------------------------------- building blocks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        ("ＺＳ", "zs"),
        ("Zhang San", "zhangsan"),
        ("华为技术（深圳）有限公司", "华为技术深圳有限公司"),
        ("  A.B-C 科技!  ", "abc科技"),
        ("１３８ ００１３", "1380013"),
        ("Café Müller", "cafemuller"),
        ("张\u3000三", "张三"),
        ("《》、，。？！", ""),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("ch", "expected"),
    [("张", True), ("〇", True), ("\U00020000", True), ("a", False), ("1", False), ("，", False)],
)
def test_is_cjk(ch: str, expected: bool) -> None:
    assert is_cjk(ch) is expected


@pytest.mark.parametrize(
    ("ch", "must_include"),
    [
        ("张", {"zhang"}),
        ("单", {"shan", "dan"}),
        ("曾", {"zeng", "ceng"}),
        ("长", {"chang", "zhang"}),
        ("行", {"xing", "hang"}),
        ("重", {"zhong", "chong"}),
        ("乐", {"le", "yue"}),
        ("吕", {"lv", "lu"}),
    ],
)
def test_readings_cover_heteronyms(ch: str, must_include: set[str]) -> None:
    got = readings(ch)
    assert must_include <= set(got)
    assert len(got) <= search_keys.MAX_READINGS
    assert all(re.fullmatch("[a-z]+", r) for r in got)


@pytest.mark.parametrize("ch", ["a", "1", "，", "张三", ""])
def test_readings_of_non_characters_are_empty(ch: str) -> None:
    assert readings(ch) == ()


def test_vowelless_interjection_syllables_are_not_readings() -> None:
    assert readings("嗯") == ()
    assert "n" not in search_keys._syllables()
    assert readings("哼") == ("heng",)


def test_document_tokens_example() -> None:
    tokens = document_tokens("北京华为技术有限公司", "张三").split(" ")
    assert len(tokens) == len(set(tokens))
    for expected in ["北", "司", "北京", "华为", "公司", "huawei", "hw", "jishu", "js", "zhangsan"]:
        assert expected in tokens
    assert "zs" in tokens and "张三" in tokens
    assert "北京华" not in tokens  # no trigrams


def test_document_tokens_is_deterministic_and_ordered() -> None:
    a = document_tokens("重庆长安汽车", "单雄信")
    assert a == document_tokens("重庆长安汽车", "单雄信")
    assert a.split(" ")[:3] == ["重", "庆", "长"]


def test_single_character_text_indexes_its_syllables() -> None:
    assert set(document_tokens("单").split(" ")) == {"单", *readings("单")}


def test_latin_and_digit_texts_give_bigrams_only() -> None:
    assert document_tokens("ABC") == "ab bc"
    assert document_tokens("a") == ""
    assert document_tokens("", "  ", "，") == ""


def test_tokens_per_pair_are_bounded() -> None:
    # Four heteronyms in a row: at most 16 full + 16 initials per pair, plus n-grams.
    text = "行重长单"
    tokens = document_tokens(text).split(" ")
    assert len(tokens) <= len(text) + (len(text) - 1) * (1 + 2 * search_keys.MAX_READINGS**2)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("", []),
        ("  ", []),
        ("a", []),
        ("7", []),
        ("张", [["张"]]),
        ("张三", [["张三"]]),
        ("华为技术", [["华为", "为技", "技术"]]),
        ("华为 技术", [["华为", "为技", "技术"]]),
        ("啊啊啊", [["啊啊"]]),
        ("zs", [["zs"]]),
        ("ＺＳ", [["zs"]]),
        ("hwjs", [["hw", "wj", "js"]]),
        ("abc", [["ab", "bc"]]),
        ("abab", [["ab", "ba"]]),
        ("138", [["13", "38"]]),
        ("a1b", [["a1", "1b"]]),
        ("zhangsan", [["zhangsan"], ["zh", "ha", "an", "ng", "gs", "sa"]]),
        (
            "zhangsanfeng",
            [["zhangsan", "sanfeng"], ["zh", "ha", "an", "ng", "gs", "sa", "nf", "fe", "en"]],
        ),
        ("xian", [["xian"], ["xi", "ia", "an"]]),
    ],
)
def test_query_plan(q: str, expected: list[list[str]]) -> None:
    assert query_plan(q) == expected


def test_query_plan_huawei_has_every_segmentation() -> None:
    plan = query_plan("huawei")
    assert ["huawei"] in plan  # hua|wei
    assert ["hua", "awei"] in plan  # hu|a|wei
    assert ["hu", "ua", "aw", "we", "ei"] in plan


def test_query_plan_groups_are_minimal() -> None:
    for q in ["xiangang", "fangan", "beijinghuaweijishuyouxiangongsi", "xian" + "gang" * 7]:
        plan = query_plan(q)
        sets = [frozenset(g) for g in plan]
        assert len(set(sets)) == len(sets)
        assert not any(a < b for a in sets for b in sets)
        assert all(" " not in t and t for g in plan for t in g)


# --------------------------------------------------------------------------- found / not found


@pytest.mark.parametrize(
    ("q", "texts"),
    [
        ("张", ("张三",)),
        ("张三", ("张三",)),
        ("zs", ("张三",)),
        ("ZS", ("张三",)),
        ("ＺＳ", ("张三",)),
        ("z s", ("张三",)),
        ("zhangsan", ("张三",)),
        ("Zhang San", ("张三",)),
        ("zhang", ("张",)),
        ("hwjs", ("华为技术有限公司",)),
        ("huawei", ("华为技术有限公司",)),
        ("huawei", ("北京华为技术有限公司", "张三")),
        ("zs", ("北京华为技术有限公司", "张三")),
        ("youxiangongsi", ("华为技术有限公司",)),
        ("yxgs", ("华为技术有限公司",)),
        ("技术有限", ("华为技术有限公司",)),
        ("华为（技术）", ("华为技术有限公司",)),
        ("华为", ("华为 技术",)),
        ("abc", ("ABC科技",)),
        ("c科", ("ABC科技",)),
        ("keji", ("ABC科技",)),
        ("shanxiongxin", ("单雄信",)),
        ("danxiongxin", ("单雄信",)),
        ("sxx", ("单雄信",)),
        ("dxx", ("单雄信",)),
        ("zengguofan", ("曾国藩",)),
        ("cengguofan", ("曾国藩",)),
        ("zgf", ("曾国藩",)),
        ("cgf", ("曾国藩",)),
        ("zhongqing", ("重庆",)),
        ("chongqing", ("重庆",)),
        ("changsha", ("长沙",)),
        ("yinhang", ("招商银行",)),
        ("yinxing", ("招商银行",)),
        ("xian", ("西安",)),
        ("xian", ("先",)),
        ("lvbu", ("吕布",)),
        ("lubu", ("吕布",)),
        ("138", ("138-0013",)),
        ("xian" + "gang" * 7, ("西安" + "刚" * 7,)),
        ("xianangangangangangang", ("西安安刚安刚安刚",)),
    ],
)
def test_found(q: str, texts: tuple[str, ...]) -> None:
    assert index_finds(q, *texts)
    assert matches(q, *texts)


@pytest.mark.parametrize(
    ("q", "texts"),
    [
        ("李四", ("张三",)),
        ("三张", ("张三",)),
        ("sz", ("张三",)),
        ("zhangsi", ("张三",)),
        ("lisi", ("张三",)),
        ("科技公司", ("公司科技",)),
        ("hwjx", ("华为技术",)),
        ("ba", ("ab",)),
        ("abc", ("abab",)),
        ("xiongshan", ("单雄信",)),
        ("huaweizs", ("华为", "张三")),
        ("华为张", ("华为", "张三")),
    ],
)
def test_not_matched(q: str, texts: tuple[str, ...]) -> None:
    assert not matches(q, *texts)


def test_overmatching_candidates_are_removed_by_recheck() -> None:
    # Bigram ANDs over-match: every bigram of the query is in the record, the string is not.
    assert index_finds("abab", "aba")
    assert not matches("abab", "aba")
    assert index_finds("华为华为", "为华为")
    assert not matches("华为华为", "为华为")
    # Initials and Latin bigrams share tokens: "zs" is a candidate for the text "ZS1".
    assert index_finds("zs", "ZS1") and matches("zs", "ZS1")
    # Full-pinyin pair tokens of different pairs can combine: youxian + xianzhi vs 有限 … 限制.
    assert index_finds("youxianzhi", "有限公司限制")
    assert not matches("youxianzhi", "有限公司限制")


def test_long_ambiguous_pinyin_uses_coarse_plan_without_misses() -> None:
    # xi|an|an|gang... splits 128 ways: too many exact groups, so {first, last pair} groups.
    name = "西安" + "安刚" * 3
    q = "xianangangangangangang"
    assert search_keys._segmentations(q, search_keys.MAX_SEGMENTATIONS) is None
    assert len(query_plan(q)) <= 2 * search_keys.MAX_SEGMENTATIONS
    assert found(q, name)
    assert found(q, "先" + "安刚" * 3)  # xian|an|gang|...: same letters, other split
    assert found(q, "北京" + name + "有限公司")
    assert index_finds("fanganfanganfanganfanganfangan", "方案" * 5)


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(name=names, data=st.data())
def test_every_substring_is_found(name: str, data: st.DataObject) -> None:
    length = data.draw(st.integers(1, min(4, len(name))))
    start = data.draw(st.integers(0, len(name) - length))
    q = name[start : start + length]
    assert found(q, name)


@settings(max_examples=300, deadline=None)
@given(name=names.filter(lambda s: len(s) >= 2), data=st.data())
def test_full_pinyin_of_any_run_is_found(name: str, data: st.DataObject) -> None:
    length = data.draw(st.integers(2, len(name)))
    start = data.draw(st.integers(0, len(name) - length))
    run = name[start : start + length]
    q = "".join(data.draw(st.sampled_from(readings(ch))) for ch in run)
    assert found(q, name), (q, query_plan(q))
    assert found(q, "某某", name)  # any of the record's texts


@settings(max_examples=300, deadline=None)
@given(name=names.filter(lambda s: len(s) >= 2), data=st.data())
def test_initials_of_any_run_are_found(name: str, data: st.DataObject) -> None:
    length = data.draw(st.integers(2, len(name)))
    start = data.draw(st.integers(0, len(name) - length))
    run = name[start : start + length]
    q = "".join(data.draw(st.sampled_from(readings(ch)))[0] for ch in run)
    assert found(q, name), (q, query_plan(q))


@settings(max_examples=200, deadline=None)
@given(name=names, q=st.text(alphabet=COMMON, min_size=1, max_size=4))
def test_matches_rejects_non_substrings(name: str, q: str) -> None:
    assert matches(q, name) is (q in name)


@settings(max_examples=200, deadline=None)
@given(name=names, noise=st.lists(st.sampled_from(" \u3000,.，。（）()-·/"), max_size=4))
def test_punctuation_and_spaces_are_ignored(name: str, noise: list[str]) -> None:
    noisy = "".join(ch + (noise[i] if i < len(noise) else "") for i, ch in enumerate(name))
    assert document_tokens(noisy) == document_tokens(name)
    assert query_plan(noisy) == query_plan(name)
    assert matches(noisy, name)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(max_size=20), max_size=3))
def test_tokens_are_clean_for_any_text(texts: list[str]) -> None:
    out = document_tokens(*texts)
    tokens = out.split(" ") if out else []
    assert len(tokens) == len(set(tokens))
    assert all(t and not any(c.isspace() for c in t) for t in tokens)
    assert all(not set(t) & set('"*^():+-{}') for t in tokens)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.text(alphabet=COMMON + "abcXYZ0189 ，、（）Ａ１", max_size=20), max_size=3)
)
def test_tokens_are_ascii_alnum_or_cjk(texts: list[str]) -> None:
    out = document_tokens(*texts)
    assert all(TOKEN.fullmatch(t) for t in (out.split(" ") if out else []))

"""Cost of building search tokens per customer row (guanxi.core.search_keys).

document_tokens runs for every row of an import and of the 1,000,000-row benchmark load, so it
must stay in the tens of microseconds. Prints figures only; it asserts nothing about time.

    python bench/bench_search_keys.py [--calls 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from guanxi.core.search_keys import document_tokens, matches, query_plan

CITIES = "北京 上海 深圳 广州 杭州 成都 武汉 南京 西安 重庆 苏州 天津 长沙 郑州 东莞 青岛 厦门 宁波"
WORDS = (
    "华为 腾讯 阿里 恒信 宏达 鑫源 金泰 瑞丰 博远 天成 嘉禾 盛世 中联 汇通 永安 新华 长虹 美佳 "
    "东方 安信 众合 鼎盛 和泰 创新 海纳 聚力 锦程 同仁 佳和 长乐 银行 重工 单元 曾氏 乐天"
)
TRADES = "科技 贸易 电子 建材 物流 餐饮 医药 服装 机械 软件 信息技术 食品 家具 文化传媒 网络"
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司", "商行", "工作室"]
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏单"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红志国建文辉力永健世广义兴"
    "良海山仁波宁贵福生龙元全胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂"
    "进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨"
    "奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧"
    "冠策腾楠榕风航弘"
)


def make_names(count: int, seed: int) -> list[tuple[str, str]]:
    """(company, contact) pairs built from common parts, so per-pair caches see realistic reuse."""
    rng = random.Random(seed)
    cities, words, trades = CITIES.split(), WORDS.split(), TRADES.split()
    rows = []
    for _ in range(count):
        company = (
            rng.choice(cities)
            + rng.choice(words)
            + rng.choice(GIVEN)
            + rng.choice(trades)
            + rng.choice(SUFFIXES)
        )
        if rng.random() < 0.1:
            company = (
                f"{rng.choice('ABCDXYZ')}{rng.choice('ABCDXYZ')}{company}（{rng.choice(cities)}）"
            )
        contact = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        rows.append((company, contact))
    return rows


def per_call_us(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1000


def report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95)]
    print(
        f"{label:<44} median {statistics.median(samples):6.2f} µs   p95 {p95:6.2f} µs   "
        f"mean {statistics.fmean(samples):6.2f} µs   n={len(samples)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rows = make_names(args.calls, args.seed)

    # First pass: per-character and per-pair caches start empty (an import's first rows).
    cold = [per_call_us(lambda r=row: document_tokens(*r)) for row in rows]
    warm = [per_call_us(lambda r=row: document_tokens(*r)) for row in rows]
    report("document_tokens, varied names, first pass", cold)
    report("document_tokens, varied names, second pass", warm)
    fixed = [per_call_us(lambda: document_tokens("北京华为技术有限公司", "张三")) for _ in rows]
    report('document_tokens("北京华为技术有限公司", "张三")', fixed)
    tokens = [len(document_tokens(*row).split()) for row in rows]
    print(
        f"tokens per row: median {statistics.median(tokens):.0f}, max {max(tokens)}, "
        f"mean {statistics.fmean(tokens):.1f}"
    )

    queries = ["zs", "zhangsan", "huawei", "hwjs", "华为", "科技公司", "beijinghuawei"]
    plan = [per_call_us(lambda q=q: query_plan(q)) for q in queries * 200]
    report("query_plan, mixed queries", plan)
    recheck = [
        per_call_us(lambda q=q, r=row: matches(q, *r)) for q in queries for row in rows[:300]
    ]
    report("matches (2 texts per call), mixed queries", recheck)


if __name__ == "__main__":
    main()

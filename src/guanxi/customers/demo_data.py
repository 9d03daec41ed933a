"""Realistic, valid, reproducible customer rows for the demo and the benchmarks.

Company names follow the usual registered pattern 城市 + 字号 + 行业 + 组织形式; people get
common surnames (heteronyms included: 单, 曾, 解) and given names; regions are real and
consistent; mobiles, landlines and USCCs pass the same validators as user input.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from stdnum.cn import uscc as uscc_mod

from guanxi.core.regions import random_region

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤单解查"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉玲建国红梅斌宇浩凯文博思嘉"
    "欣怡子涵雨轩梓晨一诺佳琪俊熙天佑志远海峰晓东春燕永红家豪雪婷立新振华德胜宏伟丹丹"
)
BRANDS = (
    "华盛",
    "腾达",
    "鑫源",
    "恒通",
    "瑞丰",
    "博远",
    "卓越",
    "宏图",
    "天成",
    "金鼎",
    "立信",
    "中科",
    "新锐",
    "永泰",
    "嘉禾",
    "安达",
    "远航",
    "聚力",
    "星辰",
    "明德",
    "锦程",
    "凯旋",
    "德信",
    "广信",
    "海纳",
    "万邦",
    "东方",
    "兴业",
    "长城",
    "华夏",
    "神州",
    "九州",
    "百川",
    "启明",
    "同创",
    "精诚",
    "众合",
    "盛世",
    "鼎新",
    "信达",
    "汇通",
    "光明",
    "蓝海",
    "智联",
    "云帆",
    "正和",
    "鸿运",
    "金桥",
    "和信",
    "银河",
    "朝阳",
    "翔宇",
    "润泽",
    "昊天",
    "志诚",
    "优创",
    "佳和",
    "乐家",
    "重光",
    "行远",
)
TRADES = (
    ("电子科技", "C"),
    ("信息技术", "I"),
    ("软件开发", "I"),
    ("网络科技", "I"),
    ("商贸", "F"),
    ("贸易", "F"),
    ("建筑工程", "E"),
    ("装饰工程", "E"),
    ("餐饮管理", "H"),
    ("酒店管理", "H"),
    ("物流", "G"),
    ("供应链管理", "G"),
    ("生物医药", "C"),
    ("医疗器械", "C"),
    ("教育咨询", "P"),
    ("文化传媒", "R"),
    ("广告", "L"),
    ("环保科技", "N"),
    ("机械制造", "C"),
    ("新材料", "C"),
    ("食品", "C"),
    ("服装", "C"),
    ("家居", "F"),
    ("汽车服务", "O"),
    ("投资管理", "J"),
    ("房地产开发", "K"),
    ("物业管理", "K"),
    ("农业发展", "A"),
    ("能源", "D"),
    ("检测技术", "M"),
    ("人力资源", "L"),
    ("企业管理咨询", "L"),
    ("健康管理", "Q"),
    ("体育发展", "R"),
    ("矿业", "B"),
)
FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
STATUS_WEIGHTS = (("potential", 30), ("not_cooperating", 25), ("cooperating", 35), ("lost", 10))
CATEGORIES = ("key", "normal", "normal", "normal", "vip", "partner", "agent")
SOURCES = ("web", "referral", "exhibition", "cold_call", "visit", "partner", "ad", "other")
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
TAGS = ("重点跟进", "老客户", "高潜力", "价格敏感", "需要回访", "展会客户", "华南区", "大客户")
STREETS = (
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "长江路",
    "科技园路",
    "创业大道",
    "滨海大道",
    "学府路",
    "新华街",
    "和平路",
    "工业园区",
    "高新大道",
    "金融街",
)
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random) -> str:
    area = rng.choice(("010", "021", "020", "022", "023", "0755", "0571", "0512", "028", "027"))
    first = str(rng.randint(2, 8))
    rest = f"{rng.randrange(10**6):06d}" if len(area) == 4 else f"{rng.randrange(10**7):07d}"
    return f"{area}-{first}{rest}"


def uscc(rng: random.Random, district_code: str) -> str:
    body = "91" + (district_code or "110108")[:6].ljust(6, "0")
    body += "".join(rng.choice(USCC_CHARS) for _ in range(9))
    return body + uscc_mod.calc_check_digit(body)


def company_name(rng: random.Random, city: str) -> tuple[str, str]:
    trade, industry = rng.choice(TRADES)
    prefix = city.removesuffix("市") if city and rng.random() < 0.8 else ""
    return f"{prefix}{rng.choice(BRANDS)}{trade}{rng.choice(FORMS)}", industry


def customer_rows(
    count: int, *, seed: int = 2026, start: datetime | None = None, days: int = 365
) -> Iterator[tuple[dict[str, Any], datetime]]:
    """Yield ``count`` (row, created_at) pairs with unique names, spread over ``days``."""
    rng = random.Random(seed)
    start = start or datetime.now().astimezone() - timedelta(days=days)
    seen: set[str] = set()
    statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
    step = days * 86400 / max(count, 1)
    for i in range(count):
        region = random_region(rng)
        individual = rng.random() < 0.12
        contact = person_name(rng)
        if individual:
            name, industry = contact, ""
        else:
            name, industry = company_name(rng, region.city)
        base, n = name, 2
        while name in seen:
            name = (
                f"{base.removesuffix('有限公司')}第{n}分公司"
                if "有限公司" in base
                else f"{base}{n}"
            )
            n += 1
        seen.add(name)
        row: dict[str, Any] = {
            "name": name,
            "customer_type": "individual" if individual else "enterprise",
            "contact_name": contact,
            "mobile": mobile(rng),
            "phone": landline(rng) if rng.random() < 0.3 else "",
            "email": f"user{i}@example.com" if rng.random() < 0.4 else "",
            "uscc": "" if individual else uscc(rng, region.district_code),
            "province": region.province,
            "city": region.city,
            "district": region.district,
            "address": f"{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            "industry": industry,
            "category": rng.choice(CATEGORIES),
            "source": rng.choice(SOURCES),
            "status": rng.choice(statuses),
            "tags": rng.sample(TAGS, k=rng.choice((0, 0, 1, 1, 2))),
        }
        created_at = start + timedelta(seconds=i * step + rng.random() * step)
        yield row, created_at

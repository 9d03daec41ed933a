"""Demo contacts: besides the primary contact every demo customer gets from its own contact
fields, many customers get one to three more people with realistic names and titles."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from guanxi.customers.contacts import bulk_insert_contacts, contact_row

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
    "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单"
)
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "华", "红梅", "志强", "晓东",
    "海燕", "雪", "婷婷", "宇", "浩然", "子涵", "欣怡", "思远", "佳", "晨", "一鸣", "嘉怡",
)  # fmt: skip
ROLES = (
    ("总经理", "总经办"),
    ("副总经理", "总经办"),
    ("采购经理", "采购部"),
    ("采购专员", "采购部"),
    ("财务主管", "财务部"),
    ("会计", "财务部"),
    ("技术总监", "技术部"),
    ("项目经理", "项目部"),
    ("行政助理", "行政部"),
    ("人事专员", "人力资源部"),
    ("运营经理", "运营部"),
    ("市场经理", "市场部"),
)
MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "158", "186", "188", "189")


def _person(rng: random.Random, today: dt.date) -> dict[str, Any]:
    title, department = rng.choice(ROLES)
    values: dict[str, Any] = {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "title": title,
        "department_name": department,
        "mobile": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
    }
    if rng.random() < 0.4:
        values["email"] = f"contact{rng.randrange(10**6):06d}@example.com"
    if rng.random() < 0.5:
        values["wechat"] = f"wx{rng.randrange(10**8):08d}"
    if rng.random() < 0.6:
        values["birthday"] = today - dt.timedelta(days=rng.randrange(22 * 365, 60 * 365))
    return values


def seed_demo_contacts(
    customer_ids: Sequence[int], *, actor_id: int | None, seed: int = 11, share: float = 0.6
) -> int:
    """Give about ``share`` of the customers 1–3 extra (non-primary) contacts, in one bulk
    insert; returns how many were created."""
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    rows = [
        contact_row(_person(rng, today), customer_id=pk, actor_id=actor_id, created_at=now)
        for pk in customer_ids
        if rng.random() < share
        for _ in range(rng.randint(1, 3))
    ]
    bulk_insert_contacts(rows)
    return len(rows)

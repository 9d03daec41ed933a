"""Demo follow-ups and interactions: a few per customer for most customers, spread over the
year, the latest one's next step due today, overdue or ahead, so 我的跟进 and the timeline
have something to show. Bulk inserts (thousands of customers); the customers' last/next
follow-up stamps are set from the rows, as the service would have set them."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from django.utils import timezone

from guanxi.audit.services import audit_record
from guanxi.customers.models import Contact, Customer, FollowUp, Interaction

METHODS = ("phone", "phone", "phone", "wechat", "wechat", "visit", "email", "meeting")
RESULTS = ("interest", "requirement", "resolved", "quote", "no_answer", "declined", "")
CONTENT = {
    "phone": (
        "电话沟通采购计划，客户表示下季度有需求",
        "电话回访使用情况，反馈良好",
        "电话未接通，稍后再联系",
    ),
    "wechat": ("微信发送产品资料和报价单", "微信沟通合同条款细节", "微信确认样品已收到"),
    "visit": ("上门拜访，演示新版本系统", "拜访采购负责人，了解预算安排"),
    "email": ("邮件发送正式报价及资质文件",),
    "meeting": ("参加客户项目评审会，确认技术方案",),
}
PLANS = (
    "发送报价单",
    "安排上门演示",
    "确认合同条款",
    "回访使用情况",
    "邀请参加产品发布会",
    "跟进付款进度",
)
INTERACTIONS = (
    ("event", "参加2026春季新品发布会"),
    ("complaint", "咨询发票开具进度"),
    ("complaint", "反映到货延迟"),
    ("order", "通过官网下单"),
    ("visit", "来公司参观考察"),
    ("after_sales", "设备安装调试"),
)


def _work_time(day: dt.datetime, rng: random.Random) -> dt.datetime:
    local = timezone.localtime(day)
    return local.replace(hour=rng.randint(9, 17), minute=rng.randrange(60), second=0, microsecond=0)


def _latest_times(
    rng: random.Random, now: dt.datetime, floor: dt.datetime
) -> tuple[dt.datetime, dt.datetime | None]:
    """(followed_at, next_follow_up_at) of a customer's latest follow-up: next step due
    today ~15%, overdue ~20%, ahead ~45%, none ~20%."""
    roll = rng.random()
    if roll < 0.15:
        next_at: dt.datetime | None = _work_time(now, rng)
        followed = next_at - dt.timedelta(days=rng.randint(2, 14))
    elif roll < 0.35:
        next_at = _work_time(now - dt.timedelta(days=rng.randint(1, 30)), rng)
        followed = next_at - dt.timedelta(days=rng.randint(2, 14))
    elif roll < 0.8:
        followed = _work_time(now - dt.timedelta(days=rng.randint(1, 30)), rng)
        next_at = _work_time(now + dt.timedelta(days=rng.randint(1, 30)), rng)
    else:
        followed, next_at = _work_time(now - dt.timedelta(days=rng.randint(1, 90)), rng), None
    followed = min(max(followed, floor), now)
    if next_at is not None and next_at <= followed:
        next_at = followed + dt.timedelta(days=rng.randint(1, 7))
    return followed, next_at


def seed_demo_follow_ups(
    customer_ids: list[int], *, service_staff_id: int, actor: Any = None, seed: int = 11
) -> tuple[int, int]:
    """Insert demo follow-ups and interactions for ``customer_ids``; (follow-ups, interactions)."""
    rng = random.Random(seed)
    now = timezone.now()
    year_ago = now - dt.timedelta(days=365)
    contacts: dict[int, list[int]] = defaultdict(list)
    for customer_id, contact_id in Contact.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "id"
    ):
        contacts[customer_id].append(contact_id)
    customers = Customer.objects.filter(pk__in=customer_ids).values_list(
        "pk", "owner_id", "created_at"
    )
    follow_ups: list[FollowUp] = []
    interactions: list[Interaction] = []
    stamps: list[Customer] = []
    for pk, owner_id, created_at in customers:
        floor = max(created_at, year_ago) + dt.timedelta(hours=1)
        if rng.random() < 0.75 and floor < now:
            latest, next_at = _latest_times(rng, now, floor)
            times = sorted(
                min(_work_time(floor + (latest - floor) * rng.random(), rng), latest)
                for _ in range(rng.randint(0, 3))
            )
            rows = [(t, t + dt.timedelta(days=rng.randint(3, 20))) for t in times]
            rows.append((latest, next_at))
            for followed, planned in rows:
                method = rng.choice(METHODS)
                follow_ups.append(
                    FollowUp(
                        customer_id=pk,
                        owner_id=owner_id,
                        contact_id=rng.choice(contacts[pk]) if contacts[pk] else None,
                        method=method,
                        result=rng.choice(RESULTS),
                        content=rng.choice(CONTENT.get(method, CONTENT["phone"])),
                        followed_at=followed,
                        next_follow_up_at=planned,
                        next_plan=rng.choice(PLANS) if planned else "",
                        created_at=followed,
                        updated_at=followed,
                        created_by_id=owner_id,
                        updated_by_id=owner_id,
                    )
                )
            stamps.append(Customer(pk=pk, last_follow_up_at=latest, next_follow_up_at=next_at))
        if rng.random() < 0.25 and floor < now:
            kind, subject = rng.choice(INTERACTIONS)
            at = floor + (now - floor) * rng.random()
            interactions.append(
                Interaction(
                    customer_id=pk,
                    kind=kind,
                    subject=subject,
                    details="",
                    occurred_at=at,
                    staff_id=service_staff_id if kind in ("complaint", "after_sales") else owner_id,
                    created_at=at,
                    updated_at=at,
                )
            )
    FollowUp.objects.bulk_create(follow_ups, batch_size=2000)
    Interaction.objects.bulk_create(interactions, batch_size=2000)
    Customer.objects.bulk_update(stamps, ["last_follow_up_at", "next_follow_up_at"], batch_size=500)
    if actor is not None:
        audit_record(
            actor=actor,
            action="follow_up.demo_seed",
            object_type="follow_up",
            params={"follow_ups": len(follow_ups), "interactions": len(interactions)},
        )
    return len(follow_ups), len(interactions)

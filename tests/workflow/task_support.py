"""Shared set-up for the task, reminder and digest tests: a fixed local clock and rows
made straight in the database (contacts and follow-up times belong to other modules)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from guanxi.customers.models import Contact, Customer
from guanxi.workflow.models import Task

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Tuesday 2026-11-24 10:00 in Shanghai: the clock every time-dependent test runs at.
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    """A Shanghai time in November 2026 (or ``month``)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def set_customer(customer: Any, **fields: Any) -> Customer:
    """Write fields the follow-up module keeps (next/last follow-up, status, created_at)."""
    Customer.objects.filter(pk=customer.pk).update(**fields)
    return Customer.objects.get(pk=customer.pk)


def make_contact(customer: Any, name: str = "李四", birthday: dt.date | None = None) -> Contact:
    return Contact.objects.create(
        customer=customer,
        name=name,
        mobile="",
        phone="",
        email="",
        wechat="",
        birthday=birthday,
        birthday_md=birthday.strftime("%m-%d") if birthday else "",
    )


def make_task(assignee: Any, *, due_at: dt.datetime, **fields: Any) -> Task:
    return Task.objects.create(
        title=fields.pop("title", "回访客户"),
        assignee=assignee,
        department_id=assignee.department_id,
        due_at=due_at,
        **fields,
    )

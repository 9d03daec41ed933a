"""What the recycle bin tests share: deleted customers, a rep who may delete, clock moves."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Permission
from django.utils import timezone

from guanxi.accounts.models import Role, User
from guanxi.customers import services
from guanxi.customers.models import Customer
from tests.conftest import make_user


def deleted_customer(make_customer: Any, actor: User, **overrides: Any) -> Customer:
    """A 未合作 customer created by ``actor`` (or for ``owner_id``), then moved to the bin
    by ``deleter`` (default: the creator)."""
    deleter = overrides.pop("deleter", actor)
    customer = make_customer(actor, status="not_cooperating", **overrides)
    services.customer_delete(actor=deleter, customer=customer)
    customer.refresh_from_db()
    return customer


def rep_who_may_delete(department: Any) -> User:
    """A sales rep (own records only) whose role also grants delete: the bin's scope test."""
    role, _ = Role.objects.get_or_create(
        code="rep_deleter",
        defaults={"name": "可删除的销售代表", "read_scope": "own", "write_scope": "own"},
    )
    codenames = ["view_customer", "add_customer", "change_customer", "delete_customer"]
    role.permissions.set(
        Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
    )
    user = make_user(None, department)
    user.roles.add(role)
    return user


def age(customer: Customer, days: float, now: dt.datetime | None = None) -> None:
    """Pretend ``customer`` went to the bin ``days`` days before ``now``."""
    when = (now or timezone.now()) - dt.timedelta(days=days)
    Customer.objects.filter(pk=customer.pk).update(deleted_at=when)
    customer.deleted_at = when

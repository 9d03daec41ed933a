"""Demo organisation, one user per default role, and a year of customers."""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction

from guanxi.accounts.models import Role, User
from guanxi.accounts.seeds import ensure_default_roles
from guanxi.accounts.services import department_create
from guanxi.customers.bulk import bulk_create_customers
from guanxi.customers.contact_demo import seed_demo_contacts
from guanxi.customers.demo_data import TAGS, customer_rows
from guanxi.customers.follow_up_demo import seed_demo_follow_ups
from guanxi.customers.models import Customer, CustomerTag, StatusChange, Tag
from guanxi.customers.tag_rules import evaluate_all

_DEMO_PEOPLE = {
    "admin": ("系统管理员", "总公司"),
    "data_admin": ("数据管理员", "总公司"),
    "sales_manager": ("王经理", "销售部"),
    "sales_rep": ("李销售", "销售一组"),
    "service_rep": ("赵客服", "客服部"),
    "marketing": ("孙市场", "市场部"),
    "finance": ("钱财务", "财务部"),
    "analyst": ("周分析", "总公司"),
}
TAG_COLOURS = (
    "#dc3545",
    "#0d6efd",
    "#198754",
    "#fd7e14",
    "#6f42c1",
    "#20c997",
    "#0dcaf0",
    "#d63384",
)


def _departments() -> dict[str, Any]:
    head = department_create(name="总公司")
    sales = department_create(name="销售部", parent=head)
    depts = {"总公司": head, "销售部": sales}
    for name, parent in (
        ("销售一组", sales),
        ("销售二组", sales),
        ("客服部", head),
        ("市场部", head),
        ("财务部", head),
    ):
        depts[name] = department_create(name=name, parent=parent)
    return depts


def seed_demo(
    *, credentials: dict[str, str], customers: int, usernames: dict[str, str], stdout: Any
) -> None:
    """Create everything in one transaction so a failed seed leaves nothing behind."""
    ensure_default_roles()
    rng = random.Random(7)
    with transaction.atomic():
        depts = _departments()
        users: dict[str, User] = {}
        for code, username in usernames.items():
            name, dept = _DEMO_PEOPLE[code]
            user = User.objects.create_user(
                username=username,
                password=credentials[code],
                name=name,
                department=depts[dept],
                is_staff=code == "admin",
                is_superuser=code == "admin",
            )
            user.roles.add(Role.objects.get(code=code))
            users[code] = user
        extra_rep = User.objects.create_user(
            username="sales2",
            password=credentials["sales_rep"],
            name="陈销售",
            department=depts["销售二组"],
        )
        extra_rep.roles.add(Role.objects.get(code="sales_rep"))
        owners = [users["sales_rep"], extra_rep, users["sales_manager"]]
        tags = {
            name: Tag.objects.create(name=name, color=TAG_COLOURS[i % len(TAG_COLOURS)])
            for i, name in enumerate(TAGS)
        }
        rows, stamps, tag_names = [], [], []
        for row, created_at in customer_rows(customers):
            owner = rng.choice(owners)
            tag_names.append(row.pop("tags"))
            rows.append({**row, "owner_id": owner.pk, "department_id": owner.department_id})
            stamps.append(created_at)
        result = bulk_create_customers(
            rows,
            actor=users["admin"],
            owner=users["admin"],
            created_at=stamps,
            audit_action="customer.demo_seed",
        )
        by_code = dict(Customer.objects.filter(code__in=result.codes).values_list("code", "pk"))
        links, events = [], []
        for code, names, row, stamp in zip(result.codes, tag_names, rows, stamps, strict=True):
            pk = by_code[code]
            links.extend(CustomerTag(customer_id=pk, tag=tags[n]) for n in names)
            events.append(
                StatusChange(
                    customer_id=pk,
                    from_status="",
                    to_status=row["status"],
                    changed_by=users["admin"],
                    changed_at=stamp,
                )
            )
        CustomerTag.objects.bulk_create(links, batch_size=2000)
        StatusChange.objects.bulk_create(events, batch_size=2000)
        seed_demo_contacts(sorted(by_code.values()), actor_id=users["admin"].pk)
        seed_demo_follow_ups(
            sorted(by_code.values()),
            service_staff_id=users["service_rep"].pk,
            actor=users["admin"],
        )
    # The rule-based tags (高价值客户, 流失风险) as the nightly job would leave them.
    tagged = evaluate_all()
    stdout.write(f"Seeded {len(result.codes)} demo customers; rule tags: {tagged}.")

"""The customer timeline at size: one customer with --events timeline events (follow-ups,
status changes, interactions) among --customers customers that each carry --background
events, then the requests a user makes on that customer page, server-side (Django
in-process, full stack), as p50/p95 over --repeat requests.

    python bench/bench_timeline.py --db sqlite
    python bench/bench_timeline.py --db postgres --events 1000 --customers 5000

Creates its own database (var/bench/timeline-*.sqlite3, or guanxi_bench_timeline_* on
PostgreSQL) and reuses it when it is already loaded. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def configure(db: str, tag: str) -> None:
    data_dir = ROOT / "var" / "bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANXI_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GUANXI_LOG_LEVEL", "WARNING")
    os.environ["GUANXI_ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / f'timeline-{tag}.sqlite3'}"
    else:
        name = f"guanxi_bench_timeline_{tag}"
        base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _events(customer_ids: list[int], per_customer: int, user_ids: list[int], rng: Any) -> None:
    """``per_customer`` events for each customer: 40% follow-ups, 30% status changes, 30%
    interactions, spread over two years (bulk inserts)."""
    from django.utils import timezone

    from guanxi.customers.models import FollowUp, Interaction, StatusChange

    now = timezone.now()
    statuses = ["potential", "not_cooperating", "cooperating", "lost"]
    follow_ups, changes, interactions = [], [], []
    for pk in customer_ids:
        for i in range(per_customer):
            at = now - dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            who = rng.choice(user_ids)
            share = i % 10
            if share < 4:
                follow_ups.append(
                    FollowUp(
                        customer_id=pk,
                        owner_id=who,
                        method=rng.choice(["phone", "wechat", "visit", "email"]),
                        result=rng.choice(["interest", "requirement", "resolved", ""]),
                        content="电话沟通采购计划，客户表示下季度有需求" * rng.randint(1, 3),
                        followed_at=at,
                        next_follow_up_at=at + dt.timedelta(days=7),
                        next_plan="发送报价单",
                    )
                )
            elif share < 7:
                changes.append(
                    StatusChange(
                        customer_id=pk,
                        from_status=rng.choice(statuses),
                        to_status=rng.choice(statuses),
                        reason="年度复核",
                        changed_by_id=who,
                        changed_at=at,
                    )
                )
            else:
                interactions.append(
                    Interaction(
                        customer_id=pk,
                        kind=rng.choice(["event", "complaint", "order", "visit"]),
                        subject="参加春季新品发布会",
                        details="现场交流了三款新品",
                        occurred_at=at,
                        staff_id=who,
                    )
                )
    FollowUp.objects.bulk_create(follow_ups, batch_size=5000)
    StatusChange.objects.bulk_create(changes, batch_size=5000)
    Interaction.objects.bulk_create(interactions, batch_size=5000)


def load(customers: int, events: int, background: int) -> int:
    """Load once; the id of the customer carrying ``events`` events."""
    from django.core.management import call_command
    from django.db import transaction

    from guanxi.accounts.models import Role, User
    from guanxi.accounts.seeds import ensure_default_roles
    from guanxi.accounts.services import department_create
    from guanxi.customers.bulk import bulk_create_customers
    from guanxi.customers.demo_data import customer_rows
    from guanxi.customers.models import Customer

    call_command("migrate", interactive=False, verbosity=0)
    heavy = Customer.objects.filter(notes="bench-timeline").values_list("pk", flat=True).first()
    if heavy:
        print(f"reusing {Customer.objects.count():,} customers; timeline customer #{heavy}")
        return heavy
    started = time.perf_counter()
    ensure_default_roles()
    rng = random.Random(3)
    with transaction.atomic():
        head = department_create(name="总公司")
        team = department_create(name="销售一组", parent=head)
        admin = User.objects.create_user(
            username="admin", password="bench-pass-2026", name="管理员", department=head
        )
        admin.roles.add(Role.objects.get(code="admin"))
        rep = User.objects.create_user(
            username="rep", password="bench-pass-2026", name="李销售", department=team
        )
        rep.roles.add(Role.objects.get(code="sales_rep"))
        rows = [
            {**row, "owner_id": rep.pk, "department_id": team.pk}
            for row, _ in customer_rows(customers)
        ]
        for row in rows:
            row.pop("tags", None)
        result = bulk_create_customers(
            rows, actor=admin, owner=rep, audit_action="customer.bench_seed"
        )
        ids = list(Customer.objects.filter(code__in=result.codes).values_list("pk", flat=True))
        heavy = ids[len(ids) // 2]
        Customer.objects.filter(pk=heavy).update(notes="bench-timeline")
        _events([pk for pk in ids if pk != heavy], background, [admin.pk, rep.pk], rng)
        _events([heavy], events, [admin.pk, rep.pk], rng)
    print(f"loaded {customers:,} customers and events in {time.perf_counter() - started:.1f} s")
    return heavy


def measure(client: Any, url: str, params_list: list[dict], headers: dict) -> tuple:
    timings, sizes = [], []
    for params in params_list:
        started = time.perf_counter()
        response = client.get(url, params, **headers)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code} {response.content[:300]!r}")
        sizes.append(len(response.content))
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return statistics.median(timings), p95, statistics.mean(sizes) / 1024


def run(heavy: int, repeat: int) -> None:
    from django.db import connection
    from django.test import Client

    from guanxi.accounts.models import User
    from guanxi.accounts.tokens import token_issue
    from guanxi.customers import timeline
    from guanxi.customers.models import Customer, FollowUp, Interaction, StatusChange

    counts = {
        "follow-ups": FollowUp.objects.filter(customer_id=heavy).count(),
        "status changes": StatusChange.objects.filter(customer_id=heavy).count(),
        "interactions": Interaction.objects.filter(customer_id=heavy).count(),
    }
    total_rows = FollowUp.objects.count() + StatusChange.objects.count()
    total_rows += Interaction.objects.count()
    api = f"/api/v1/customers/{heavy}/timeline"
    page = f"/customers/{heavy}/timeline/"
    detail = f"/customers/{heavy}/"
    print(
        f"\n{connection.vendor} — {Customer.objects.count():,} customers, {total_rows:,} "
        f"timeline rows; customer #{heavy}: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f"; {repeat} requests per case, server-side ms"
    )
    print(f"{'case':<40}{'who':<7}{'p50':>8}{'p95':>8}{'KiB':>8}")
    for who in ("admin", "rep"):
        user = User.objects.get(username=who)
        raw, _ = token_issue(user=user)
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        browser = Client()
        browser.force_login(user)
        htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "timeline"}
        client = Client()
        client.get(api, {}, **bearer)  # warm caches
        mid = timeline.timeline_page(user=user, customer=Customer.objects.get(pk=heavy), limit=500)
        deep = mid.next_cursor
        cases = [
            ("API first page (50)", client, api, [{}] * repeat, bearer),
            ("API page after 500 (cursor, 50)", client, api, [{"cursor": deep}] * repeat, bearer),
            ("API kind=follow_up", client, api, [{"kind": "follow_up"}] * repeat, bearer),
            ("API limit=500", client, api, [{"limit": 500}] * repeat, bearer),
            ("HTML timeline section (20, htmx)", browser, page, [{}] * repeat, htmx),
            (
                "HTML 加载更多 after 500",
                browser,
                page,
                [{"more": 1, "cursor": deep}] * repeat,
                htmx,
            ),
            ("HTML customer page (whole)", browser, detail, [{}] * repeat, {}),
        ]
        for label, c, url, params, headers in cases:
            p50, p95, kib = measure(c, url, params, headers)
            print(f"{label:<40}{who:<7}{p50:>8.2f}{p95:>8.2f}{kib:>8.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--background", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    configure(args.db, f"{args.customers}-{args.events}-{args.background}")
    heavy = load(args.customers, args.events, args.background)
    run(heavy, args.repeat)


if __name__ == "__main__":
    main()

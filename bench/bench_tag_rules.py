"""Rule-based tags at size: the two seeded rules (高价值客户, 流失风险) evaluated over --rows
customers (default 100000) with follow-ups and complaints, printing seconds per rule for the
first run (every tag row inserted) and a steady-state re-run (nothing changes), plus the
per-customer re-evaluation a data change triggers.

    python bench/bench_tag_rules.py --db sqlite
    python bench/bench_tag_rules.py --db postgres --rows 100000

Creates its own database (var/bench/tagrules-<rows>.sqlite3, or guanxi_bench_tagrules_<rows>
on PostgreSQL) and reuses it when already loaded. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def configure(db: str, rows: int) -> None:
    data_dir = ROOT / "var" / "bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANXI_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GUANXI_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / f'tagrules-{rows}.sqlite3'}"
    else:
        name = f"guanxi_bench_tagrules_{rows}"
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


def load(rows: int) -> None:
    """Customers straight into the table (the services are not what is measured): a third
    cooperating, 30% never followed up, follow-ups for 40%, a complaint for 5%."""
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from guanxi.accounts.models import User
    from guanxi.customers.models import Customer, FollowUp, Interaction

    call_command("migrate", interactive=False, verbosity=0)
    have = Customer.objects.count()
    if have >= rows:
        print(f"reusing {have:,} customers")
        return
    started = time.perf_counter()
    rng = random.Random(7)
    now = timezone.now()
    user = User.objects.filter(username="bench").first() or User.objects.create_user(
        username="bench", password="bench-pass-2026", name="基准"
    )
    statuses = ["potential", "not_cooperating", "cooperating", "lost"]
    with transaction.atomic():
        batch = []
        for i in range(rows):
            last = None if rng.random() < 0.3 else now - dt.timedelta(hours=rng.randrange(24 * 120))
            batch.append(
                Customer(
                    code=f"BENCHTR{i:012d}",
                    name=f"基准客户{i}",
                    name_key=f"基准客户{i}",
                    contact_name="张三",
                    status=statuses[i % 3 if i % 7 else 3],
                    review_status="approved",
                    province="广东省",
                    owner=user,
                    last_follow_up_at=last,
                    created_by=user,
                    updated_by=user,
                )
            )
            if len(batch) == 10_000:
                Customer.objects.bulk_create(batch)
                batch = []
        Customer.objects.bulk_create(batch)
        ids = list(Customer.objects.values_list("pk", flat=True))
        follow_ups, complaints = [], []
        for pk in rng.sample(ids, int(len(ids) * 0.4)):
            for _ in range(rng.randint(1, 5)):
                follow_ups.append(
                    FollowUp(
                        customer_id=pk,
                        owner=user,
                        method="phone",
                        content="电话沟通",
                        followed_at=now - dt.timedelta(hours=rng.randrange(24 * 150)),
                        created_by=user,
                        updated_by=user,
                    )
                )
        for pk in rng.sample(ids, int(len(ids) * 0.05)):
            complaints.append(
                Interaction(
                    customer_id=pk,
                    kind="complaint",
                    subject="投诉",
                    staff=user,
                    created_by=user,
                    updated_by=user,
                )
            )
        FollowUp.objects.bulk_create(follow_ups, batch_size=10_000)
        Interaction.objects.bulk_create(complaints, batch_size=10_000)
    took = time.perf_counter() - started
    print(f"loaded {rows:,} customers, {len(follow_ups):,} follow-ups in {took:.1f} s")


def run() -> None:
    from django.db import connection

    from guanxi.customers import tag_rules
    from guanxi.customers.models import Customer, CustomerTag, TagRule
    from guanxi.customers.tag_rule_services import ensure_seed_rules

    ensure_seed_rules()
    rules = list(TagRule.objects.filter(name__in=["高价值客户", "流失风险"]))
    CustomerTag.objects.filter(rule__in=rules).delete()
    print(f"{connection.vendor}: {Customer.objects.count():,} customers")
    for label in ("first run", "re-run"):
        for rule in rules:
            started = time.perf_counter()
            result = tag_rules.evaluate(rule)
            took = time.perf_counter() - started
            print(
                f"  {label:9} {rule.name}: {took:7.2f} s  matched {result.matched:,} "
                f"(+{result.added:,} −{result.removed:,})"
            )
    sample = list(Customer.objects.order_by("?").values_list("pk", flat=True)[:20])
    started = time.perf_counter()
    for pk in sample:
        tag_rules.evaluate_for_customers([pk])
    per = (time.perf_counter() - started) / len(sample) * 1000
    print(f"  one customer changed: {per:.1f} ms for all enabled rules")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    configure(args.db, args.rows)
    load(args.rows)
    run()


if __name__ == "__main__":
    main()

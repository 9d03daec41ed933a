"""Dashboard and standard reports at size: load N customers and M follow-ups through raw
bulk inserts (COPY on PostgreSQL), count the tallies by the rebuild path, then time the report
API requests and the report pages server-side (Django's test client, full stack: auth,
scope, selectors, JSON or HTML) as p50/p95 for an admin (all), a department manager
(department tree) and a sales rep (own).

    python bench/bench_reports.py --db sqlite --customers 1000000 --follow-ups 5000000
    python bench/bench_reports.py --db postgres --customers 1000000 --follow-ups 5000000

The loaded database is kept (var/bench/) and reused when it already holds the data. The bench
database has no customer full-text index (reports do not search). Prints figures only.
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
TEAMS, REPS_PER_TEAM = 20, 10
STATUSES = ("potential", "not_cooperating", "cooperating", "lost")
CATEGORIES = ("normal", "vip", "key", "")
INDUSTRIES = ("A", "C", "F", "I", "K", "M", "")
SOURCES = ("web", "exhibition", "referral", "phone", "")
REGIONS = [
    ("广东省", "深圳市"),
    ("广东省", "广州市"),
    ("浙江省", "杭州市"),
    ("江苏省", "南京市"),
    ("江苏省", "苏州市"),
    ("北京市", "北京市"),
    ("上海市", "上海市"),
    ("四川省", "成都市"),
    ("湖北省", "武汉市"),
    ("", ""),
]


def configure(db: str, customers: int, follow_ups: int) -> None:
    data_dir = ROOT / "var" / "bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANXI_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GUANXI_LOG_LEVEL", "WARNING")
    os.environ["GUANXI_ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    tag = f"reports-{customers}-{follow_ups}"
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / f'bench-{tag}.sqlite3'}"
    else:
        name = os.environ.get("BENCH_PG_NAME", f"guanxi_bench_{tag.replace('-', '_')}")
        base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"
    import django

    django.setup()


def _people() -> dict[str, Any]:
    from guanxi.accounts.models import Role, User
    from guanxi.accounts.seeds import ensure_default_roles
    from guanxi.accounts.services import department_create

    ensure_default_roles()
    head = department_create(name="总公司")
    regions = [department_create(name=f"销售{r}区", parent=head) for r in range(1, 5)]
    teams = [department_create(name=f"销售{t}组", parent=regions[t % 4]) for t in range(TEAMS)]
    roles = {code: Role.objects.get(code=code) for code in ("admin", "sales_manager", "sales_rep")}

    def user(username: str, role: str, dept: Any) -> Any:
        made = User.objects.create_user(
            username=username, password="bench-pass-2026", name=username, department=dept
        )
        made.roles.add(roles[role])
        return made

    reps = [user(f"rep{i}", "sales_rep", teams[i % TEAMS]) for i in range(TEAMS * REPS_PER_TEAM)]
    return {
        "admin": user("admin", "admin", head),
        "manager": user("manager", "sales_manager", regions[0]),
        "reps": reps,
    }


def _stamp(value: dt.datetime) -> Any:
    from django.db import connection

    return connection.ops.adapt_datetimefield_value(value)


def load(customers: int, follow_ups: int, batch: int = 20000) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from guanxi.core.bulk_sql import insert_many
    from guanxi.customers import search
    from guanxi.customers.bulk import COLUMNS
    from guanxi.customers.models import Customer, FollowUp
    from guanxi.reports import tally_admin

    call_command("migrate", interactive=False, verbosity=0)
    have = Customer.objects.count()
    if have >= customers and FollowUp.objects.count() >= follow_ups:
        print(f"reusing {have:,} customers in {connection.settings_dict['NAME']}")
        return
    if have:
        raise SystemExit(f"database holds {have:,} customers; delete it to reload")
    people = _people()
    reps, admin = people["reps"], people["admin"]
    started = time.perf_counter()
    search.uninstall()
    tally_admin.uninstall()  # counted once at the end, by the rebuild path
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA cache_size=-2000000")
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    columns = (*COLUMNS, "next_follow_up_at")
    owners: list[tuple[int, int]] = []
    rows, changes = [], []
    change_cols = (
        "customer_id",
        "from_status",
        "to_status",
        "reason",
        "changed_by_id",
        "changed_at",
    )
    first_id = None
    for i in range(customers):
        rep = reps[rng.randrange(len(reps))]
        province, city = REGIONS[rng.randrange(len(REGIONS))]
        created = now - dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))
        status = STATUSES[rng.randrange(4)]
        due = None
        if rng.random() < 0.3:
            due = _stamp(now + dt.timedelta(hours=rng.randrange(-60 * 24, 60 * 24)))
        name = f"报表测试客户{i:07d}"
        values = {
            "code": f"BENCH{i:010d}",
            "name": name,
            "name_key": name,
            "name_core": "",
            "customer_type": "enterprise" if rng.random() < 0.8 else "individual",
            "contact_name": "张三",
            "province": province,
            "city": city,
            "district": "",
            "address": "",
            "industry": INDUSTRIES[rng.randrange(len(INDUSTRIES))],
            "category": CATEGORIES[rng.randrange(len(CATEGORIES))],
            "source": SOURCES[rng.randrange(len(SOURCES))],
            "status": status,
            "review_status": "approved",
            "owner_id": rep.pk,
            "department_id": rep.department_id,
            "notes": "",
            "search_tokens": "",
            "custom_fields": "{}",
            "completeness": 50,
            "created_at": _stamp(created),
            "updated_at": _stamp(created),
            "created_by_id": admin.pk,
            "updated_by_id": admin.pk,
            "version": 1,
            "import_batch_id": None,
            "next_follow_up_at": due,
        }
        for field in ("mobile", "phone", "email", "uscc", "id_number"):
            values[field] = values[f"{field}_bidx"] = ""
        rows.append(tuple(values[c] for c in columns))
        owners.append((rep.pk, created))
        if len(rows) >= batch or i == customers - 1:
            with transaction.atomic():
                insert_many("customers_customer", columns, rows)
            rows = []
    first_id = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    print(f"  customers: {time.perf_counter() - started:.1f} s", flush=True)
    t = time.perf_counter()
    for offset, (owner_id, created) in enumerate(owners):
        cid = first_id + offset
        changes.append((cid, "", "potential", "", admin.pk, _stamp(created)))
        if rng.random() < 0.4:
            when = created + (now - created) * rng.random()
            to = STATUSES[rng.randrange(1, 4)]
            changes.append((cid, "potential", to, "", owner_id, _stamp(when)))
        if len(changes) >= batch:
            with transaction.atomic():
                insert_many("customers_statuschange", change_cols, changes)
            changes = []
    with transaction.atomic():
        insert_many("customers_statuschange", change_cols, changes)
    print(f"  status changes: {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    fu_cols = (
        "customer_id", "owner_id", "method", "result", "content", "followed_at", "next_plan",
        "created_at", "updated_at", "created_by_id", "updated_by_id", "version",
    )  # fmt: skip
    methods = ("phone", "visit", "wechat", "email")
    fus = []
    for n in range(follow_ups):
        offset = rng.randrange(customers)
        owner_id = owners[offset][0]
        when = _stamp(now - dt.timedelta(seconds=rng.randrange(2 * 365 * 86400)))
        fus.append(
            (first_id + offset, owner_id, methods[n % 4], "", "沟通", when, "", when, when,
             owner_id, owner_id, 1)
        )  # fmt: skip
        if len(fus) >= batch:
            with transaction.atomic():
                insert_many("customers_followup", fu_cols, fus)
            fus = []
            if (n + 1) % 1_000_000 == 0:
                print(f"  follow-ups {n + 1:,}: {time.perf_counter() - t:.1f} s", flush=True)
    with transaction.atomic():
        insert_many("customers_followup", fu_cols, fus)
    print(f"  follow-ups: {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    tally_admin.rebuild()
    print(f"  tallies rebuilt: {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"  (VACUUM) ANALYZE: {time.perf_counter() - t:.1f} s")
    print(f"loaded in {time.perf_counter() - started:.1f} s", flush=True)


def warm() -> None:
    """Read the database into the OS page cache first (a server's working set in memory)."""
    from django.db import connection

    t = time.perf_counter()
    if connection.vendor == "sqlite":
        with open(connection.settings_dict["NAME"], "rb") as fh:
            while fh.read(16 << 20):
                pass
    else:
        with connection.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cur.execute(
                "SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c "
                "WHERE c.relname LIKE 'reports_%%' OR c.relname LIKE 'customers_customer%%'"
            )
    print(f"  page cache warmed in {time.perf_counter() - t:.1f} s")


def cases() -> list[tuple[str, str, dict[str, str]]]:
    from django.utils import timezone

    today = timezone.localdate()
    month = (today - dt.timedelta(days=29)).isoformat()
    year = (today.replace(day=1) - dt.timedelta(days=334)).isoformat()
    out = [("dashboard", "/api/v1/reports/dashboard", {})]
    for by in ("status", "category", "industry", "source", "customer_type", "province",
               "city", "owner", "department"):  # fmt: skip
        out.append((f"distribution {by}", "/api/v1/reports/customers/distribution", {"by": by}))
    api = "/api/v1/reports"
    out += [
        ("growth month/1y", f"{api}/customers/growth", {"period": "month", "from": year}),
        ("activity owner/30d", f"{api}/follow-ups/activity", {"by": "owner", "from": month}),
        ("activity dept/30d", f"{api}/follow-ups/activity", {"by": "department", "from": month}),
        ("transitions/30d", f"{api}/customers/status-transitions", {"from": month}),
        # The HTML pages a manager opens: the dashboard builds every chart at once.
        ("page: dashboard /", "/", {}),
        ("page: distribution", "/reports/distribution/", {"by": "status"}),
        ("page: status", "/reports/status/", {}),
        ("page: region", "/reports/region/", {}),
        ("page: growth", "/reports/growth/", {}),
        ("page: activity", "/reports/activity/", {}),
    ]
    return out


def run(repeat: int, only: str = "") -> None:
    from django.test import Client

    from guanxi.accounts.models import User

    users = {
        "admin": User.objects.get(username="admin"),
        "manager": User.objects.get(username="manager"),
        "rep": User.objects.get(username="rep0"),
    }
    print(f"{'request':<26}{'user':<9}{'p50 ms':>9}{'p95 ms':>9}{'total':>10}")
    worst = 0.0
    for label, url, params in cases():
        if only and only not in label:
            continue
        for who, user in users.items():
            client = Client()
            client.force_login(user)
            client.get(url, params)  # first request: session, role cache
            timings, total = [], 0
            for _ in range(repeat):
                t = time.perf_counter()
                response = client.get(url, params)
                timings.append((time.perf_counter() - t) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{label}: HTTP {response.status_code} {response.content!r}")
                if response["Content-Type"].startswith("application/json"):
                    body = response.json()
                    total = body.get("total", body.get("customers", body.get("new_total", 0)))
            timings.sort()
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            worst = max(worst, p95)
            print(
                f"{label:<26}{who:<9}{statistics.median(timings):>9.1f}{p95:>9.1f}{total:>10,}",
                flush=True,
            )
    print(f"worst p95: {worst:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--follow-ups", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", default="", help="run the cases whose label contains this")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    configure(args.db, args.customers, args.follow_ups)
    load(args.customers, args.follow_ups)
    warm()
    run(args.repeat, args.only)


if __name__ == "__main__":
    main()

"""Customer list and search at size: load N customers through the fast path, then time the
API requests a user makes most, server-side (Django in-process, full stack), as p50/p95.

    python bench/bench_customers.py --db sqlite --rows 1000000
    python bench/bench_customers.py --db postgres --rows 1000000

The loaded database is kept (var/bench/) and reused when it already holds N rows.
Prints figures only; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def configure(db: str, rows: int) -> None:
    data_dir = ROOT / "var" / "bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANXI_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GUANXI_LOG_LEVEL", "WARNING")
    os.environ["GUANXI_ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / f'bench-{rows}.sqlite3'}"
    else:
        name = f"guanxi_bench_{rows}"
        base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"
    import django

    django.setup()


def load(rows: int, batch: int = 5000) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from guanxi.accounts.models import Role, User
    from guanxi.accounts.seeds import ensure_default_roles
    from guanxi.accounts.services import department_create
    from guanxi.customers import search
    from guanxi.customers.bulk import insert_rows, prepare_row
    from guanxi.customers.codes import reserve_customer_codes
    from guanxi.customers.demo_data import customer_rows
    from guanxi.customers.models import Customer
    from guanxi.customers.name_keys import sync_name_keys

    call_command("migrate", interactive=False, verbosity=0)
    have = Customer.objects.count()
    if have >= rows:
        print(f"reusing {have:,} customers in {connection.settings_dict['NAME']}")
        return
    if have:
        raise SystemExit(f"database holds {have:,} rows (< {rows:,}); delete it to reload")
    ensure_default_roles()
    head = department_create(name="总公司")
    teams = [department_create(name=f"销售{i}组", parent=head) for i in range(1, 6)]
    rep_role = Role.objects.get(code="sales_rep")
    owners = []
    for i in range(20):
        user = User.objects.create_user(
            username=f"rep{i}", password="bench-pass-2026", name=f"销售{i}", department=teams[i % 5]
        )
        user.roles.add(rep_role)
        owners.append(user)
    admin = User.objects.create_superuser(
        username="admin", password="bench-pass-2026", name="管理员", department=head
    )
    started = time.perf_counter()
    # Build the search index once after the load instead of row by row (both databases).
    search.uninstall()
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA cache_size=-4000000")
    buffer: list[tuple] = []
    rng = random.Random(1)
    codes: list[str] = []
    done = 0

    def flush() -> None:
        nonlocal buffer
        with transaction.atomic():
            if connection.vendor == "postgresql":
                from guanxi.customers.bulk import COLUMNS

                with (
                    connection.cursor() as cur,
                    cur.cursor.copy(
                        f"COPY customers_customer ({', '.join(COLUMNS)}) FROM STDIN"
                    ) as copy,
                ):
                    for row in buffer:
                        copy.write_row(row)
            else:
                insert_rows(buffer)
        buffer = []

    for row, created_at in customer_rows(rows, seed=11):
        if not codes:
            codes = reserve_customer_codes(batch)
        owner = owners[rng.randrange(len(owners))]
        row.pop("tags")
        buffer.append(
            prepare_row(
                row,
                code=codes.pop(0),
                owner_id=owner.pk,
                department_id=owner.department_id,
                actor_id=admin.pk,
                created_at=created_at,
            )
        )
        if len(buffer) >= batch:
            flush()
            done += batch
            if done % 100_000 == 0:
                rate = done / (time.perf_counter() - started)
                print(f"  loaded {done:,} rows ({rate:,.0f} rows/s)", flush=True)
    if buffer:
        flush()
    t = time.perf_counter()
    last = 0
    while chunk := list(
        Customer.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "name_core")[:20000]
    ):
        sync_name_keys(chunk, fresh=True)  # what bulk_create_customers does per batch
        last = chunk[-1][0]
    print(f"  name keys: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    search.install()
    with connection.cursor() as cur:
        # PostgreSQL: VACUUM too, as autovacuum would on a live database (the visibility map
        # makes index-only scans possible); a freshly COPYed table has none.
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"  search index + (VACUUM) ANALYZE: {time.perf_counter() - t:.1f} s")
    print(f"loaded {rows:,} customers in {time.perf_counter() - started:.1f} s")


def warm(quiet: bool = False) -> None:
    """Read the database into the OS page cache first: the figures are for a server whose
    working set is in memory (a 2 GB database on a 24 GB machine), not for cold disk reads.
    Called again before each case: a host that reclaims idle page cache (virtual machines
    with proactive reclaim drop pages unread for a minute) would otherwise turn later cases
    into disk-read benchmarks."""
    from django.db import connection

    t = time.perf_counter()
    if connection.vendor == "sqlite":
        with open(connection.settings_dict["NAME"], "rb") as fh:
            while fh.read(16 << 20):
                pass
    else:
        with connection.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            tables = "'customers_customer'::regclass, 'customers_customernamekey'::regclass"
            cur.execute(
                "SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c "
                f"WHERE c.oid IN ({tables}) OR c.oid IN "
                f"(SELECT indexrelid FROM pg_index WHERE indrelid IN ({tables}))"
            )
    if not quiet:
        print(f"  page cache warmed in {time.perf_counter() - t:.1f} s")


def measure(label: str, requests: list[tuple[str, dict]], client, headers) -> tuple:
    timings = []
    counts = []
    for url, params in requests:
        t = time.perf_counter()
        response = client.get(url, params, **headers)
        timings.append((time.perf_counter() - t) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{label}: HTTP {response.status_code} {response.content[:300]!r}")
        counts.append(len(response.json()["items"]))
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return label, p50, p95, statistics.mean(counts)


def run(rows: int, repeat: int) -> None:
    from django.db import connection
    from django.test import Client

    from guanxi.accounts.models import User
    from guanxi.accounts.tokens import token_issue
    from guanxi.core.pagination import _encode
    from guanxi.customers.models import Customer

    admin = User.objects.get(username="admin")
    rep = User.objects.get(username="rep3")
    client = Client()
    rng = random.Random(5)
    sample = list(
        Customer.objects.filter(pk__in=[rng.randint(1, rows) for _ in range(repeat * 3)]).values(
            "pk", "name", "contact_name", "province", "status"
        )
    )
    rng.shuffle(sample)
    from guanxi.core import search_keys

    def two_chars(name: str) -> str:
        i = rng.randrange(0, max(1, len(name) - 2))
        return name[i : i + 2]

    def four_chars(name: str) -> str:
        i = rng.randrange(0, max(1, len(name) - 4))
        return name[i : i + 4]

    def initials(name: str) -> str:
        chars = [c for c in name if search_keys.is_cjk(c)]
        i = rng.randrange(0, max(1, len(chars) - 3))
        return "".join(search_keys.readings(c)[0][0] for c in chars[i : i + 3])

    mobiles = []
    for c in Customer.objects.filter(pk__in=[s["pk"] for s in sample[:repeat]]):
        mobiles.append(c.mobile)
    max_id = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    u = "/api/v1/customers"
    cases = {
        "list page 1": [(u, {})] * repeat,
        "deep page (keyset)": [
            (u, {"cursor": _encode(None, rng.randint(1000, max_id - 1000), "-id", False)})
            for _ in range(repeat)
        ],
        "status+province filter": [
            (u, {"status": s["status"], "province": s["province"]}) for s in sample[:repeat]
        ],
        "2-char Chinese search": [(u, {"q": two_chars(s["name"])}) for s in sample[:repeat]],
        "4-char Chinese search": [(u, {"q": four_chars(s["name"])}) for s in sample[:repeat]],
        "pinyin-initials search": [(u, {"q": initials(s["name"])}) for s in sample[:repeat]],
        "exact phone search": [(u, {"q": m}) for m in mobiles],
    }
    print(
        f"\n{connection.vendor} — {Customer.objects.count():,} customers, "
        f"{repeat} requests per case, server-side ms (full Django stack, in-process)"
    )
    print(f"{'case':<26}{'who':<8}{'p50':>9}{'p95':>9}{'rows/page':>11}")
    for who, user in (("admin", admin), ("rep", rep)):
        raw, _ = token_issue(user=user)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        client.get(u, {}, **headers)  # warm caches
        for label, requests in cases.items():
            warm(quiet=True)
            name, p50, p95, per_page = measure(label, requests, client, headers)
            print(f"{name:<26}{who:<8}{p50:>9.2f}{p95:>9.2f}{per_page:>11.1f}", flush=True)


def bench_main(description: str, run_cases: Any, repeat: int) -> None:
    """Parse --db/--rows/--repeat, load (or reuse) the database, warm it, run the cases."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=repeat)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    configure(args.db, args.rows)
    load(args.rows)
    warm()
    run_cases(args.rows, args.repeat)


def main() -> None:
    bench_main(__doc__ or "", run, repeat=60)


if __name__ == "__main__":
    main()

"""Backup and restore at size: full backup, an incremental of 10,000 changes, and restoring
the chain, with 1,000,000 customers (default).

    .venv/bin/python bench/bench_backup.py [--rows 1000000] [--db sqlite|postgresql]
    .venv/bin/python bench/bench_backup.py --rows 100000 --load-only [--no-change-log]
    .venv/bin/python bench/bench_backup.py --rows 100000 --trigger-cost [--insert 20000]

Loads customers the way bench_customers.py does (into its own data dir, GUANXI_DATA_DIR or
var/bench-backup; PostgreSQL database BENCH_BACKUP_PG_DB, default o1bench), then prints the
seconds and bytes of each step. The restore figure includes its safety backup (a full one),
printed separately too.

``--load-only`` times the load alone into a fresh database (delete it first); with
``--no-change-log`` the backup change-log triggers are dropped before it: the difference of
the two runs is what the triggers add to bulk writes. ``--trigger-cost`` measures the same
more steadily: inserts rolled back, with and without the triggers, alternating in one process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def configure(db: str, rows: int, prefix: str = "backup") -> None:
    data_dir = Path(os.environ.get("GUANXI_DATA_DIR") or ROOT / "var" / "bench-backup")
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GUANXI_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GUANXI_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    os.environ["GUANXI_BACKUP_OFFSITE_DIR"] = ""
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / f'{prefix}-{rows}.sqlite3'}"
    else:
        import psycopg

        base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
        name = os.environ.get("BENCH_BACKUP_PG_DB", "o1bench")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"
    import django

    django.setup()


def change(rows: int) -> int:
    """10,000 changes per million rows: 90% edited customers, 10% deleted ones (values and
    rows differ on every run, so a re-run on a restored database changes rows again)."""
    import random

    from django.apps import apps
    from django.db import connection, transaction

    from guanxi.customers.models import Customer

    step = max(1, rows // 10_000)
    offset = random.randrange(step)
    token = f"bench change {time.time()}"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE customers_customer SET notes = %s WHERE id %% %s = %s AND id %% %s <> %s",
            [token, step, offset, step * 10, offset],
        )
        updated = cur.rowcount
        doomed = "SELECT id FROM customers_customer WHERE id %% %s = %s"
        pointing = [  # name keys, contacts ...: every row that refers to a customer
            (model._meta.db_table, field.column)
            for model in apps.get_models(include_auto_created=True)
            for field in model._meta.concrete_fields
            if field.remote_field and field.remote_field.model is Customer
        ]
        for table, column in pointing:
            cur.execute(f"DELETE FROM {table} WHERE {column} IN ({doomed})", [step * 10, offset])
        cur.execute(f"DELETE FROM customers_customer WHERE id IN ({doomed})", [step * 10, offset])
        return updated + cur.rowcount


def load_only(rows: int, change_log: bool) -> None:
    """Time loading ``rows`` customers, with or without the change-log triggers."""
    from bench_customers import load
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection
    from django.db.models.signals import post_migrate

    from guanxi.ops import backup_changelog

    if not change_log:
        ops = apps.get_app_config("ops")
        assert post_migrate.disconnect(sender=ops, dispatch_uid="guanxi-change-log")
        call_command("migrate", interactive=False, verbosity=0)
        backup_changelog.uninstall(connection)
    t = time.perf_counter()
    load(rows)
    seconds = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM ops_row_change")
        logged = cur.fetchone()[0]
    print(
        f"load {rows:,} customers, change log {'on' if change_log else 'off'}: "
        f"{seconds:.1f} s ({rows / seconds:,.0f} rows/s), {logged:,} log entries"
    )


def trigger_cost(rows: int, rounds: int = 3) -> None:
    """Insert ``rows`` customers (rows, then name keys) in a transaction that is rolled back,
    alternating without and with the change-log triggers in one process, so both see the
    same database and the same machine load; prints the median of each."""
    import random
    import statistics

    from django.db import connection, transaction

    from guanxi.accounts.models import User
    from guanxi.customers.bulk import insert_rows, prepare_row
    from guanxi.customers.codes import reserve_customer_codes
    from guanxi.customers.demo_data import customer_rows
    from guanxi.customers.models import Customer
    from guanxi.customers.name_keys import sync_name_keys
    from guanxi.ops import backup_changelog
    from guanxi.ops.backup_service import table_specs

    owners = list(User.objects.filter(username__startswith="rep"))
    rng = random.Random(2)
    codes = reserve_customer_codes(rows)
    prepared = []
    pairs = zip(customer_rows(rows, seed=23), codes, strict=True)
    for i, ((row, created_at), code) in enumerate(pairs):
        owner = owners[rng.randrange(len(owners))]
        row.pop("tags")
        row["name"] = f"{row['name']}第{i}分号"  # names of the loaded rows are taken
        prepared.append(
            prepare_row(
                row,
                code=code,
                owner_id=owner.pk,
                department_id=owner.department_id,
                actor_id=owner.pk,
                created_at=created_at,
            )
        )
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for on in (False, True):
            with transaction.atomic():
                if on:
                    backup_changelog.install(connection, table_specs())
                else:
                    backup_changelog.uninstall(connection)
                t = time.perf_counter()
                for start in range(0, rows, 5000):
                    insert_rows(prepared[start : start + 5000])
                made = Customer.objects.filter(code__in=codes).values_list("pk", "name_core")
                sync_name_keys(list(made), fresh=True)
                times[on].append(time.perf_counter() - t)
                transaction.set_rollback(True)
    off, on_ = statistics.median(times[False]), statistics.median(times[True])
    print(
        f"insert {rows:,} customers + name keys (median of {rounds}): "
        f"no change log {off:.1f} s, change log {on_:.1f} s, +{(on_ / off - 1) * 100:.0f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--no-change-log", action="store_true")
    parser.add_argument("--trigger-cost", action="store_true")
    parser.add_argument("--insert", type=int, default=20_000, help="rows per --trigger-cost run")
    args = parser.parse_args()
    if args.trigger_cost:  # on the database a --load-only run left
        configure(args.db, args.rows, "log")
        trigger_cost(args.insert)
        return
    if args.load_only:
        configure(args.db, args.rows, "nolog" if args.no_change_log else "log")
        load_only(args.rows, not args.no_change_log)
        return
    configure(args.db, args.rows)
    from bench_customers import load

    from guanxi.ops.backup_models import Backup
    from guanxi.ops.backup_service import backup_create
    from guanxi.ops.restore_service import restore_backup
    from guanxi.ops.verification import verify_backup

    load(args.rows)
    Backup.objects.all().delete()
    t = time.perf_counter()
    full = backup_create(kind="full")
    full_s = time.perf_counter() - t
    print(f"full backup:        {full_s:7.1f} s  {full.bytes / 1e6:8.1f} MB")
    t = time.perf_counter()
    changed = change(args.rows)
    print(f"changes:            {changed:,} rows in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    inc = backup_create(kind="incremental")
    inc_s = time.perf_counter() - t
    print(f"incremental backup: {inc_s:7.1f} s  {inc.bytes / 1e6:8.1f} MB  ({inc.kind})")
    print(f"incremental / full: {inc_s / full_s:.2f} time, {inc.bytes / full.bytes:.4f} size")
    t = time.perf_counter()
    log = restore_backup(backup=inc, confirmed=True)
    restore_s = time.perf_counter() - t
    safety = Backup.objects.get(backup_id=log.safety_backup_id)
    print(
        f"restore full+inc:   {restore_s:7.1f} s  (of which safety backup {safety.seconds:.1f} s)"
        f"  ok={log.ok} {log.message}"
    )
    t = time.perf_counter()
    record = verify_backup(inc)
    print(f"verify (scratch):   {time.perf_counter() - t:7.1f} s  ok={record.ok} {record.message}")


if __name__ == "__main__":
    main()

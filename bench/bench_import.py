"""Customer import at size: a 100,000-row XLSX through the whole import (file copy, type and
bound checks, reading, mapping, validation, normalisation, encryption, pinyin keys, duplicate
checks, bulk write, primary contacts, audit), timed end to end, then the same rows inserted
by a raw ``executemany`` into the same indexed table in the same run, and the ratio.

    python bench/bench_import.py --db sqlite --rows 100000
    python bench/bench_import.py --db postgres --rows 100000
    python bench/bench_import.py --db sqlite --memory-rows 1000000   # peak RSS of a CSV import
    python bench/bench_import.py --db sqlite --rows 100000 --phases  # where the time goes
    python bench/bench_import.py --db postgres --rows 100000 --no-raw  # the import alone

Each run starts from an empty database (var/bench-import/). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import csv
import functools
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench-import"
HEADERS = [
    "客户名称",
    "客户类型",
    "所属行业",
    "联系人",
    "职务",
    "手机号",
    "邮箱",
    "客户来源",
    "客户标签",
    "地址",
    "备注",
]


def configure(db: str) -> str:
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    os.environ["GUANXI_DATA_DIR"] = str(DATA)
    os.environ.setdefault("GUANXI_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    os.environ["GUANXI_WORKER_IMMEDIATE"] = "1"
    if db == "sqlite":
        url = f"sqlite:///{DATA / 'bench.sqlite3'}"
    else:
        import psycopg

        base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "guanxi_bench_import"')
            conn.execute('CREATE DATABASE "guanxi_bench_import"')
        url = f"{base}/guanxi_bench_import"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return url


def admin_user():
    from guanxi.accounts.models import User
    from guanxi.accounts.seeds import ensure_default_roles
    from guanxi.accounts.services import department_create

    ensure_default_roles()
    head = department_create(name="总公司")
    return User.objects.create_superuser(
        username="admin", password="bench-pass-2026", name="管理员", department=head
    )


def source_rows(rows: int):
    """Realistic template rows: the demo generator's companies, one-column addresses."""
    from guanxi.core.dictionaries import dictionary_labels
    from guanxi.customers.demo_data import customer_rows

    industries = dictionary_labels("industry")
    sources = dictionary_labels("customer_source")
    for n, (row, _created) in enumerate(customer_rows(rows, seed=5)):
        yield [
            row["name"],
            "企业客户" if row["customer_type"] == "enterprise" else "个人客户",
            industries.get(row["industry"], ""),
            row["contact_name"],
            "经理" if n % 3 else "",
            row["mobile"],
            row.get("email", ""),
            sources.get(row["source"], ""),
            "重点" if n % 10 == 0 else "",
            f"{row['province']}{row['city']}{row['district']}{row['address']}",
            "",
        ]


def _write_with_xlsxwriter(path: Path, rows: int) -> float:
    import xlsxwriter

    started = time.perf_counter()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, HEADERS)
    for r, values in enumerate(source_rows(rows), start=1):
        sheet.write_row(r, 0, values)
    book.close()
    return time.perf_counter() - started


PHASES: collections.Counter[str] = collections.Counter()


def time_phases() -> None:
    """Wrap the import's steps so their total seconds can be printed after the run (the
    steps nest: after_insert holds the name keys, contacts and search index). ``clean`` counts
    only what this process cleaned; ``collect`` is the wait for the helper's chunks."""
    from guanxi.customers import bulk, tag_rules
    from guanxi.dataio import clean_helper, engine
    from guanxi.dataio.importers.customers import CustomerImporter

    def wrap(owner: object, name: str) -> None:
        inner = getattr(owner, name)

        @functools.wraps(inner)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                PHASES[name] += time.perf_counter() - started

        setattr(owner, name, timed)

    for owner, names in (
        (engine.Pass, ("decide",)),
        (clean_helper._Helper, ("collect",)),
        (CustomerImporter, ("clean", "match", "write")),
        (
            bulk,
            (
                "prepare_row",
                "insert_rows",
                "after_insert",
                "insert_name_keys",
                "bulk_primary_contacts",
            ),
        ),
        (bulk.search, ("index_imported",)),
        (tag_rules, ("evaluate_for_customers",)),
    ):
        for name in names:
            wrap(owner, name)


def import_file(path: Path, user) -> tuple[float, object]:
    from guanxi.dataio import engine, import_services

    started = time.perf_counter()
    batch = import_services.import_upload(
        actor=user, object_type="customer", source=path, file_name=path.name
    )
    batch = import_services.import_configure(
        actor=user, batch=batch, mapping_data=batch.mapping, dedupe="skip"
    )
    import_services.import_start(actor=user, batch=batch, queue=False)
    batch = engine.run_batch(batch.pk)
    return time.perf_counter() - started, batch


def raw_insert_seconds() -> tuple[float, int]:
    """Read the imported rows back, empty the table, insert them again with executemany."""
    from django.db import connection, transaction

    from guanxi.customers.bulk import COLUMNS

    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM customers_customer")
        rows = [tuple(r) for r in cur.fetchall()]
        cur.execute("DELETE FROM customers_contact")
        cur.execute("DELETE FROM customers_customertag")
        for table in connection.introspection.table_names():
            if table.startswith("customers_") and "name" in table and "key" in table:
                cur.execute(f"DELETE FROM {table}")
        cur.execute("DELETE FROM customers_customer")
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    sql = f"INSERT INTO customers_customer ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        for i in range(0, len(rows), 5000):
            cur.executemany(sql, rows[i : i + 5000])
    return time.perf_counter() - started, len(rows)


def memory_run(db_url: str, rows: int) -> None:
    """A CSV import of ``rows`` rows in a child process; its peak RSS."""
    path = DATA / f"memory-{rows}.csv"
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for n in range(rows):
            writer.writerow(
                [
                    f"内存测试{n:07d}贸易有限公司",
                    "企业客户",
                    "批发和零售业",
                    f"联系人{n % 97}",
                    "经理",
                    f"13{n % 10}{n:08d}",
                    "",
                    "展会",
                    "",
                    "广东省深圳市南山区科技园",
                    "",
                ]
            )
    print(
        f"  wrote {rows:,}-row CSV ({path.stat().st_size / 1e6:.0f} MB) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    # A million rows of CSV pass the default upload bound (100 MB): raise it for this run.
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "GUANXI_DATA_DIR": str(DATA),
        "GUANXI_IMPORT_MAX_BYTES": str(1024**3),
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "guanxi.cli",
            "import",
            "customers",
            str(path),
            "--as",
            "admin",
            "--json",
        ],
        env=env,
        stderr=subprocess.PIPE,
    )
    peak_pss = peak_anon = peak_file = 0
    while proc.poll() is None:
        pss = _tree_pss_kib(proc.pid)
        if pss["Pss"] > peak_pss:
            peak_pss, peak_file = pss["Pss"], pss["Pss_File"]
        peak_anon = max(peak_anon, pss["Pss_Anon"])
        time.sleep(0.2)
    if proc.returncode:
        raise SystemExit(proc.stderr.read().decode()[-2000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"  {rows:,}-row CSV import: {time.perf_counter() - started:.1f} s, peak RSS of one "
        f"process {peak:.0f} MB, peak PSS of the import and its helper {peak_pss / 1024:.0f} MB "
        f"(of it file pages, SQLite's memory-mapped database among them: "
        f"{peak_file / 1024:.0f} MB); peak anonymous PSS (heaps) {peak_anon / 1024:.0f} MB"
    )


PSS_KINDS = ("Pss", "Pss_Anon", "Pss_File")


def _tree_pss_kib(pid: int) -> dict[str, int]:
    """Proportional set size (KiB) of ``pid`` and its children (the import and its cleaning
    helper, which share pages copy-on-write), in all and split into anonymous memory and
    file pages, from /proc; zeros where /proc is missing."""
    total = dict.fromkeys(PSS_KINDS, 0)
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        return total
    for each in pids:
        try:
            with open(f"/proc/{each}/smaps_rollup") as f:
                for line in f:
                    name, _, rest = line.partition(":")
                    if name in total:
                        total[name] += int(rest.split()[0])
        except OSError:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory-rows", type=int, default=0)
    parser.add_argument("--phases", action="store_true", help="print seconds per import step")
    parser.add_argument(
        "--no-raw",
        action="store_true",
        help="skip the raw executemany baseline (on PostgreSQL it does not finish: one INSERT "
        "a row makes the report tallies' statement triggers quadratic, see docs/operations.md)",
    )
    args = parser.parse_args()
    url = configure(args.db)
    from django.db import connection

    user = admin_user()
    print(f"== import bench on {connection.vendor}, {args.memory_rows or args.rows:,} rows")
    if args.memory_rows:
        memory_run(url, args.memory_rows)
        return
    path = DATA / f"customers-{args.rows}.xlsx"
    print(f"  wrote the XLSX in {_write_with_xlsxwriter(path, args.rows):.1f} s")
    if args.phases:
        time_phases()
    seconds, batch = import_file(path, user)
    print(
        f"  import end to end: {seconds:.2f} s ({batch.rows_done / seconds:,.0f} rows/s): "
        f"{batch.created_count:,} created, {batch.skipped_count:,} skipped, "
        f"{batch.error_count:,} errors"
    )
    for name, spent in PHASES.most_common():
        print(f"    {name:24s} {spent:6.2f} s")
    if args.no_raw:
        return
    raw, count = raw_insert_seconds()
    print(f"  raw executemany of the same {count:,} rows: {raw:.2f} s ({count / raw:,.0f} rows/s)")
    print(f"  ratio import / raw insert: {seconds / raw:.1f}x")


if __name__ == "__main__":
    main()

"""Custom fields, data quality and exports at size, on the database bench_customers.py loads.

    python bench/bench_governance.py --db sqlite --rows 1000000
    python bench/bench_governance.py --db postgres --rows 1000000

Defines three custom fields (a choice, an amount, a searchable text) and gives every customer
values with one UPDATE (timed), then times, as p50/p95 over --repeat runs: the first list page
filtered on each kind of custom field (alone and with a status filter) for an admin (all
customers) and a sales rep (own customers); the 数据质量 overview for both; the completeness
backfill as the migration runs it; and a page-sized CSV and XLSX export. Prints figures only.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_customers import bench_main  # noqa: E402

LEVELS = ("key", "normal", "vip", "partner", "agent")


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)], result


def define_fields(admin: Any) -> None:
    from guanxi.core.custom_field_services import custom_field_create
    from guanxi.core.models import CustomField, DictionaryType

    if CustomField.objects.filter(key="level").exists():
        return
    category = DictionaryType.objects.get(code="customer_category")
    common = {"object_type": "customer", "filterable": True, "show_in_list": True}
    custom_field_create(
        actor=admin,
        data={
            **common,
            "key": "level",
            "label": "合作等级",
            "field_type": "choice",
            "dictionary_id": category.pk,
        },
    )
    custom_field_create(
        actor=admin, data={**common, "key": "credit", "label": "授信额度", "field_type": "money"}
    )
    custom_field_create(
        actor=admin,
        data={**common, "key": "region_code", "label": "大区编码", "field_type": "text"},
    )


def fill_values() -> float:
    """Every customer gets a level, an amount and a region code, in one UPDATE."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "UPDATE customers_customer SET custom_fields = jsonb_build_object("
                "'level', (ARRAY['key','normal','vip','partner','agent'])[id % 5 + 1], "
                "'credit', to_char((id % 1000) * 1000, 'FM9999990.00'), "
                "'region_code', 'R' || (id % 97))"
            )
        else:
            cur.execute(
                "UPDATE customers_customer SET custom_fields = json_object("
                "'level', CASE id % 5 WHEN 0 THEN 'key' WHEN 1 THEN 'normal' WHEN 2 THEN 'vip' "
                "WHEN 3 THEN 'partner' ELSE 'agent' END, "
                "'credit', printf('%.2f', (id % 1000) * 1000.0), "
                "'region_code', 'R' || (id % 97))"
            )
    return time.perf_counter() - started


def run(rows: int, repeat: int) -> None:
    from django.db import connection

    from guanxi.accounts.models import User
    from guanxi.customers import quality, selectors
    from guanxi.customers.models import Customer
    from guanxi.customers.quality_score import completeness_sql
    from guanxi.dataio.customer_export import customer_export

    admin = User.objects.get(username="admin")
    rep = User.objects.get(username="rep3")
    define_fields(admin)
    if not Customer.objects.filter(custom_fields__has_key="level").exists():
        print(f"custom values for {rows:,} customers in one UPDATE: {fill_values():.1f} s")
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    started = time.perf_counter()
    Customer.objects.update(completeness=completeness_sql())
    print(
        f"completeness backfill (one UPDATE, as the migration): "
        f"{time.perf_counter() - started:.1f} s"
    )

    cases = {
        "cf_level=vip": {"cf_level": "vip"},
        "cf_level=vip & status=cooperating": {"cf_level": "vip", "status": "cooperating"},
        "cf_credit 500000..600000": {"cf_credit__from": "500000", "cf_credit__to": "600000"},
        "cf_region_code contains R42": {"cf_region_code": "R42"},
        "rare: cf_level=vip & province=西藏自治区": {"cf_level": "vip", "province": "西藏自治区"},
    }
    print(f"\nfirst list page (20 rows), ms p50 / p95 over {repeat} runs")
    for label, params in cases.items():
        for who, user in (("admin", admin), ("rep", rep)):
            p50, p95, page = timed(
                lambda u=user, p=params: selectors.customer_list(user=u, params=p, limit=20),
                repeat,
            )
            print(f"  {label:<42} {who:<5} {p50:8.1f} / {p95:8.1f}  ({len(page.items)} rows)")

    print("\n数据质量 overview, ms p50 / p95")
    for who, user in (("admin", admin), ("rep", rep)):
        user.has_perm = lambda perm: True  # the bench rep is shown the page for its scope
        p50, p95, numbers = timed(lambda u=user: quality.overview(u), max(3, repeat // 10))
        print(f"  {who:<5} {p50:8.1f} / {p95:8.1f}  ({numbers['count']:,} customers)")

    print("\nexport of the rep's customers (own scope)")
    for fmt in ("csv", "xlsx"):
        started = time.perf_counter()
        result = customer_export(actor=admin, params={"owner_id": str(rep.pk)}, fmt=fmt, cap=None)
        size = result.file.seek(0, 2)
        result.file.close()
        seconds = time.perf_counter() - started
        print(
            f"  {fmt:<4} {result.rows:,} rows in {seconds:.1f} s "
            f"({result.rows / seconds:,.0f} rows/s, {size / 1e6:.1f} MB)"
        )


def main() -> None:
    bench_main(__doc__ or "", run, repeat=30)


if __name__ == "__main__":
    main()

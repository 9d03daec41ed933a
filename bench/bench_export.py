"""Exports at size: every format of the customer export, on the database bench_customers.py
loads (50,000 customers unless --rows says otherwise).

    python bench/bench_export.py --db sqlite --rows 50000
    python bench/bench_export.py --db postgres --rows 50000

Gives the customers the three custom fields of bench_governance.py and a tag to four in nine
of them (both once, kept in the database), then times, as medians over --repeat runs,
the whole service call an 导出 click makes (scope, filters, masking, labels, file written)
for an admin exporting every customer, per format, and for a sales rep exporting their own
customers (PDF only for the rep: a PDF has its own, lower row cap). Prints figures only.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_customers import bench_main  # noqa: E402

FORMATS = ("csv", "xlsx", "json", "xml", "pdf")
TAGS = ("重点客户", "老客户", "华南大区", "展会获客", "待激活")


def tag_some() -> None:
    """A tag on every third customer and on every ninth of the others (one statement per
    tag and step)."""
    from django.db import connection

    from guanxi.customers.models import CustomerTag, Tag

    if CustomerTag.objects.exists():
        return
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    started = time.perf_counter()
    with connection.cursor() as cur:
        for step, offset in ((3, 0), (9, 1)):
            for i, tag in enumerate(tags):
                cur.execute(
                    "INSERT INTO customers_customertag (customer_id, tag_id, tagged_at) "
                    "SELECT id, %s, created_at FROM customers_customer "
                    f"WHERE id %% {step * len(tags)} = {(i * step + offset) % (step * len(tags))}",
                    [tag.pk],
                )
        cur.execute("ANALYZE")
    print(f"tags for a third of the customers: {time.perf_counter() - started:.1f} s")


def timed(call: Any, repeat: int) -> tuple[float, float, Any]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), min(timings), result


def export_once(user: Any, fmt: str) -> tuple[int, int]:
    from guanxi.dataio.customer_export import customer_export

    result = customer_export(actor=user, params={}, fmt=fmt, cap=None)
    size = result.file.seek(0, 2)
    result.file.close()
    return result.rows, size


def run(rows: int, repeat: int) -> None:
    from bench_governance import define_fields, fill_values
    from django.contrib.auth.models import Permission
    from django.core.exceptions import ValidationError
    from django.db import connection

    from guanxi.accounts.models import User
    from guanxi.customers.models import Customer

    admin = User.objects.get(username="admin")
    rep = User.objects.get(username="rep3")
    # Sales reps do not export by default; the bench rep may, to show the own-scope path.
    rep.user_permissions.add(Permission.objects.get(codename="export_customer"))
    rep = User.objects.get(pk=rep.pk)  # permission cache
    define_fields(admin)
    if not Customer.objects.filter(custom_fields__has_key="level").exists():
        print(f"custom values in one UPDATE: {fill_values():.1f} s")
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    tag_some()
    print(
        f"\n{connection.vendor} — {Customer.objects.count():,} customers; "
        f"seconds, median / best of {repeat} runs"
    )
    print(f"{'format':<7}{'who':<7}{'median':>8}{'best':>8}{'rows':>9}{'rows/s':>10}{'MB':>7}")
    # Every format for the admin (all customers), except PDF, which is capped far below
    # that: it is timed on the rep's own customers, with the rep's CSV and XLSX beside it.
    cases = [(fmt, "admin", admin) for fmt in FORMATS if fmt != "pdf"]
    cases += [(fmt, "rep", rep) for fmt in ("csv", "xlsx", "pdf")]
    for fmt, who, user in cases:
        try:
            median, best, (count, size) = timed(lambda u=user, f=fmt: export_once(u, f), repeat)
        except ValidationError as exc:  # a format the code does not offer (yet)
            print(f"{fmt:<7}{who:<7}  not available: {exc}")
            continue
        print(
            f"{fmt:<7}{who:<7}{median:>8.2f}{best:>8.2f}{count:>9,}"
            f"{count / median:>10,.0f}{size / 1e6:>7.1f}",
            flush=True,
        )


def main() -> None:
    if "--rows" not in sys.argv:
        sys.argv += ["--rows", "50000"]
    bench_main(__doc__ or "", run, repeat=5)


if __name__ == "__main__":
    main()

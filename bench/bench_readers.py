"""The import readers alone, at size: an N-row XLSX (the demo generator's customers, written
with xlsxwriter) timed through inspect_table, count_rows and iter_rows as the import engine
calls them; and an M-row CSV read in a child process, whose peak RSS must not grow with M
(the CSV path streams).

    python bench/bench_readers.py --rows 100000 --csv-rows 1000000

Files go to a temporary directory, removed afterwards. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ["客户名称", "客户类型", "所属行业", "联系人", "职务", "手机号", "邮箱", "客户来源"]
HEADERS += ["客户标签", "地址", "备注"]

CHILD = """
import os, resource, sys, time
import django
django.setup()
from guanxi.dataio.readers import count_rows, inspect_table, iter_rows
path = sys.argv[1]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
info = inspect_table(path)
total = count_rows(info, path)
seen = sum(1 for _row in iter_rows(info, path))
took = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(info.encoding, total, seen, f"{took:.2f}", before // 1024, peak // 1024)
"""


def setup_django(data_dir: Path) -> None:
    os.environ["GUANXI_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    os.environ.setdefault("GUANXI_LOG_LEVEL", "WARNING")
    os.environ["GUANXI_IMPORT_MAX_BYTES"] = str(2 * 1024**3)
    os.environ["GUANXI_IMPORT_MAX_ROWS"] = str(10**7)
    import django

    django.setup()


def write_xlsx(path: Path, rows: int) -> float:
    import xlsxwriter

    from guanxi.customers.demo_data import customer_rows

    started = time.perf_counter()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, HEADERS)
    for r, (row, _created) in enumerate(customer_rows(rows, seed=5), start=1):
        sheet.write_row(
            r,
            0,
            [
                row["name"],
                "企业客户" if row["customer_type"] == "enterprise" else "个人客户",
                row["industry"],
                row["contact_name"],
                "经理" if r % 3 else "",
                int(row["mobile"]),  # a number cell, as when someone types a phone number
                row.get("email", ""),
                row["source"],
                "重点" if r % 10 == 0 else "",
                f"{row['province']}{row['city']}{row['district']}{row['address']}",
                "",
            ],
        )
    book.close()
    return time.perf_counter() - started


def bench_xlsx(path: Path, rows: int) -> None:
    from guanxi.dataio.readers import count_rows, inspect_table, iter_rows

    wrote = write_xlsx(path, rows)
    print(f"XLSX {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB (written in {wrote:.1f} s)")
    started = time.perf_counter()
    info = inspect_table(path)
    inspected = time.perf_counter() - started
    total = count_rows(info, path)
    counted = time.perf_counter() - started - inspected
    seen = 0
    for _number, cells in iter_rows(info, path):
        seen += len(cells) > 0
    read = time.perf_counter() - started - inspected - counted
    print(f"  inspect_table (checks + parse + header): {inspected:.2f} s")
    print(f"  count_rows: {counted:.2f} s ({total:,} rows)")
    print(f"  iter_rows:  {read:.2f} s ({seen:,} rows)")
    print(f"  total:      {inspected + counted + read:.2f} s")
    again = time.perf_counter()
    fresh = inspect_table(path)
    sum(1 for _row in iter_rows(fresh, path))
    second = time.perf_counter() - again
    print(f"  a second pass (inspect + iter, as the engine's run): {second:.2f} s")


REST = ["经理", "13800138000", "", "展会", "", "广东省深圳市南山区科技园", ""]


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for n in range(rows):
            writer.writerow(
                [f"测试{n:07d}贸易有限公司", "企业客户", "批发和零售业", f"联系人{n % 97}", *REST]
            )


def bench_csv(path: Path, rows: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for count in sorted({min(rows, 10_000), rows}):
        write_csv(path, count)
        size = path.stat().st_size / 1e6
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        encoding, total, seen, took, before, peak = out
        print(
            f"CSV {count:,} rows ({size:.0f} MB, {encoding}): inspect+count+iter {took} s, "
            f"{seen}/{total} rows; peak RSS {peak} MB (after imports {before} MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="XLSX data rows")
    parser.add_argument("--csv-rows", type=int, default=1_000_000, help="CSV data rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as tmp:
        setup_django(Path(tmp) / "data")
        if args.rows:
            bench_xlsx(Path(tmp) / "customers.xlsx", args.rows)
        if args.csv_rows:
            bench_csv(Path(tmp) / "customers.csv", args.csv_rows)


if __name__ == "__main__":
    main()

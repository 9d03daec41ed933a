"""Duplicate checks at size: the check a create, an edit or an import row runs, against N
customers (the same database bench_customers.py loads and keeps in var/bench/).

    python bench/bench_duplicates.py --db sqlite --rows 1000000
    python bench/bench_duplicates.py --db postgres --rows 1000000

Times ``customers.duplicates.check`` (exact contact/USCC matches through the blind indexes,
the name key, and similar names from the name-core neighbours), in-process, and the same check
through HTTP (``POST /api/v1/customers/duplicate-check``, full Django stack), as p50/p95 per
case, for an admin (all customers) and a sales rep (own customers). Also times the first page
of the duplicates report. Prints figures only; it asserts nothing about time.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_customers import bench_main  # noqa: E402


def percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def variants(rng: random.Random, name: str) -> dict[str, str]:
    """The same company written differently, and with a one-character typo in its core."""
    from guanxi.customers.name_match import name_core

    core = name_core(name)
    suffix = rng.choice(["股份有限公司", "有限责任公司", "（集团）有限公司"])
    chars = list(core)
    i = rng.randrange(len(chars))
    chars[i] = "鑫" if chars[i] != "鑫" else "森"
    return {"restyled": core + suffix, "typo": "".join(chars) + "有限公司"}


def run(rows: int, repeat: int) -> None:
    from django.db import connection
    from django.test import Client

    from guanxi.accounts.models import User
    from guanxi.accounts.tokens import token_issue
    from guanxi.customers import duplicates, merge_selectors
    from guanxi.customers.models import Customer

    rng = random.Random(7)
    max_id = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    sample = list(Customer.objects.filter(pk__in=[rng.randint(1, max_id) for _ in range(repeat)]))
    cases: dict[str, list[dict[str, str]]] = {
        "new customer (no match)": [
            {
                "name": f"新客户测试{rng.randrange(10**6):06d}号商贸有限公司",
                "mobile": f"199{rng.randrange(10**8):08d}",
                "email": f"x{rng.randrange(10**9)}@example.net",
            }
            for _ in range(repeat)
        ],
        "same name, restyled": [{"name": variants(rng, c.name)["restyled"]} for c in sample],
        "name with a typo": [{"name": variants(rng, c.name)["typo"]} for c in sample],
        "exact mobile": [{"mobile": c.mobile} for c in sample],
        "name+mobile+email": [
            {"name": c.name, "mobile": c.mobile, "email": c.email or ""} for c in sample
        ],
    }
    admin = User.objects.get(username="admin")
    rep = User.objects.get(username="rep3")
    print(
        f"\n{connection.vendor} — {Customer.objects.count():,} customers, {repeat} checks "
        "per case, ms"
    )
    print(f"{'case':<26}{'who':<7}{'p50':>8}{'p95':>8}{'HTTP p50':>10}{'HTTP p95':>10}{'hits':>7}")
    client = Client()
    duplicates.check(actor=admin, values=cases["name+mobile+email"][0])  # load tables once
    for who, user in (("admin", admin), ("rep", rep)):
        raw, _ = token_issue(user=user)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        for label, values_list in cases.items():
            timings, http, hits = [], [], 0
            for values in values_list:
                t = time.perf_counter()
                report = duplicates.check(actor=user, values=values)
                timings.append((time.perf_counter() - t) * 1000)
                found = report.blocking or report.blocking_hidden or report.warnings
                hits += bool(found)
                t = time.perf_counter()
                response = client.post(
                    "/api/v1/customers/duplicate-check",
                    values,
                    content_type="application/json",
                    **headers,
                )
                http.append((time.perf_counter() - t) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{label}: HTTP {response.status_code} {response.content!r}")
            p50, p95 = percentiles(timings)
            h50, h95 = percentiles(http)
            print(
                f"{label:<26}{who:<7}{p50:>8.2f}{p95:>8.2f}{h50:>10.2f}{h95:>10.2f}"
                f"{hits:>4}/{len(values_list)}",
                flush=True,
            )
    from django.conf import settings

    from guanxi.customers.name_match import name_core, similarity

    threshold = settings.GUANXI_DUPLICATE_NAME_SIMILARITY
    reachable = found = 0
    for c, values in zip(sample, cases["name with a typo"], strict=False):
        if similarity(name_core(c.name), name_core(values["name"])) >= threshold:
            reachable += 1
            original = name_core(c.name)  # or a record of the same core: many share one
            rows = duplicates.similar_names(values["name"])
            found += any(name_core(r["name"]) == original for r in rows)
    print(
        f"typo recall: the original's core found for {found} of {reachable} typos that stay "
        f"similar by definition (score >= {threshold}; the rest hit short cores or numbers)"
    )
    for key in ("name_core", "mobile_bidx"):
        t = time.perf_counter()
        groups, _ = merge_selectors.duplicate_groups(admin, key)
        print(
            f"duplicates report page 1 ({key}): {(time.perf_counter() - t) * 1000:.0f} ms, "
            f"{len(groups)} groups"
        )


def main() -> None:
    bench_main(__doc__ or "", run, repeat=200)


if __name__ == "__main__":
    main()

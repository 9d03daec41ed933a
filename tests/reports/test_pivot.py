"""数据透视: cells and totals equal direct counts and sums per scope, every cell's drill-down
filter opens exactly its records in the list, and bad parameters are refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from guanxi.core.custom_field_services import custom_field_create
from guanxi.customers import follow_ups
from guanxi.customers.follow_up_selectors import follow_up_filter
from guanxi.customers.models import Customer, CustomerTag, FollowUp, Tag
from guanxi.customers.selectors import customer_filter
from guanxi.reports import pivot as pivot_module
from guanxi.reports.pivot import PivotParamsError, pivot
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
API = "/api/v1/reports/pivot"


@pytest.fixture
def data(org, make_customer):
    """Customers of two teams and head office, with blanks, a money field, tags, dates and
    follow-ups, so every dimension has several buckets."""
    custom_field_create(
        actor=org["admin"],
        data={
            "object_type": "customer",
            "label": "授信额度",
            "key": "credit",
            "field_type": "money",
        },
    )
    a, b, boss = org["rep_a"], org["rep_b"], org["admin"]
    made = [
        make_customer(a, status="potential", category="vip", custom_fields={"credit": "100.50"}),
        make_customer(
            a, status="potential", category="", industry="", province="", city="", district=""
        ),
        make_customer(a, status="cooperating", category="vip", custom_fields={"credit": "20"}),
        make_customer(
            b,
            status="cooperating",
            category="normal",
            province="北京市",
            city="北京市",
            district="",
        ),
        make_customer(b, status="lost", category="", custom_fields={"credit": "7.25"}),
        make_customer(
            boss,
            status="potential",
            category="normal",
            province="浙江省",
            city="杭州市",
            district="",
        ),
        make_customer(boss, status="cooperating", category="vip", custom_fields={"credit": "1000"}),
    ]
    gone = make_customer(a, status="potential", category="vip")
    Customer.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    # 2026-03-31 17:30 UTC is 2026-04-01 01:30 in Shanghai: April, second quarter.
    Customer.objects.filter(pk=made[0].pk).update(
        created_at=dt.datetime(2026, 3, 31, 17, 30, tzinfo=dt.UTC)
    )
    Customer.objects.filter(pk=made[3].pk).update(
        created_at=dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.UTC)
    )
    Customer.objects.filter(pk=made[5].pk).update(department=None)
    red, blue = Tag.objects.create(name="重点"), Tag.objects.create(name="老客户")
    CustomerTag.objects.create(customer=made[0], tag=red)
    CustomerTag.objects.create(customer=made[0], tag=blue)
    CustomerTag.objects.create(customer=made[3], tag=blue)
    now = timezone.now()
    for actor, customer, method, result in (
        (a, made[0], "phone", "requirement"),
        (a, made[0], "visit", ""),
        (a, made[2], "phone", ""),
        (b, made[3], "wechat", "requirement"),
        (boss, made[6], "phone", ""),
    ):
        follow_ups.follow_up_create(
            actor=actor,
            customer_id=customer.pk,
            data={"method": method, "result": result, "content": "沟通", "followed_at": now},
        )
    return made


def visible(org: dict[str, Any], who: str) -> Any:
    """Customers each role sees, written out by hand (not through the scope code)."""
    alive = Customer.objects.filter(deleted_at__isnull=True)
    if who == "admin":
        return alive
    if who == "manager":
        teams = [org["sales"].pk, org["team_a"].pk, org["team_b"].pk]
        return alive.filter(Q(department_id__in=teams) | Q(owner=org["manager"]))
    return alive.filter(owner=org[who])


def run(user: Any, **kwargs: Any) -> dict[str, Any]:
    args = {"source": "customers", "columns": None, "measure": "count", "field": None}
    args.update(kwargs)
    args.setdefault("params", {})
    return pivot(user=user, **args)


def list_count(user: Any, params: dict[str, str]) -> int:
    bound = customer_filter(user, params)
    assert bound.is_valid(), bound.errors
    return bound.qs.count()


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_cells_and_totals_equal_direct_counts_per_scope(org, data, who):
    user = org[who]
    mine = visible(org, who)
    result = run(user, rows="status", columns="category")
    assert result["grand_total"]["value"] == mine.count() > 0
    for row, cells, total in zip(
        result["row_keys"], result["cells"], result["row_totals"], strict=True
    ):
        assert total["value"] == mine.filter(status=row["key"]).count()
        assert list_count(user, row["filter"]) == total["value"]
        for column, cell in zip(result["col_keys"], cells, strict=True):
            expected = mine.filter(status=row["key"], category=column["key"]).count()
            assert cell["value"] == cell["count"] == expected
            assert list_count(user, cell["filter"]) == expected
    for column, total in zip(result["col_keys"], result["col_totals"], strict=True):
        assert total["value"] == mine.filter(category=column["key"]).count()
        assert list_count(user, column["filter"]) == total["value"]
    assert sum(t["value"] for t in result["row_totals"]) == result["grand_total"]["value"]
    assert sum(t["value"] for t in result["col_totals"]) == result["grand_total"]["value"]


def test_rep_sees_only_own_numbers(org, data):
    result = run(org["rep_a"], rows="owner")
    assert [r["key"] for r in result["row_keys"]] == [str(org["rep_a"].pk)]
    assert result["row_keys"][0]["label"] == org["rep_a"].display_name
    assert result["grand_total"]["value"] == 3


def test_blank_values_are_a_bucket_the_list_can_open(org, data):
    admin = org["admin"]
    for dim, param in (
        ("category", "category"),
        ("industry", "industry"),
        ("province", "province"),
        ("department", "department_id"),
    ):
        result = run(admin, rows=dim)
        blank = next(r for r in result["row_keys"] if r["key"] == "")
        assert blank["label"] == "未填写"
        assert blank["filter"][param] == "__blank__"
        assert list_count(admin, blank["filter"]) == blank["total"]["value"] >= 1
        assert result["row_keys"][-1] is blank  # 未填写 comes last


def test_city_keys_carry_province_and_city(org, data):
    admin = org["admin"]
    result = run(admin, rows="city", columns="status")
    labels = {r["key"]: r["label"] for r in result["row_keys"]}
    assert labels["北京市/北京市"] == "北京市 北京市"
    for row in result["row_keys"]:
        assert list_count(admin, row["filter"]) == row["total"]["value"]


def test_created_month_and_quarter_in_local_time(org, data):
    admin = org["admin"]
    months = run(admin, rows="created_month", columns="created_quarter")
    keys = [r["key"] for r in months["row_keys"]]
    assert keys == sorted(keys)
    assert "2026-04" in keys and "2026-03" in keys
    april = next(r for r in months["row_keys"] if r["key"] == "2026-04")
    march = next(r for r in months["row_keys"] if r["key"] == "2026-03")
    assert april["total"]["value"] == 1 and march["total"]["value"] == 1
    assert april["filter"] == {"created_from": "2026-04-01", "created_to": "2026-04-30"}
    q2 = next(c for c in months["col_keys"] if c["key"] == "2026-Q2")
    assert q2["filter"] == {"created_from": "2026-04-01", "created_to": "2026-06-30"}
    for cells in months["cells"]:
        for cell in cells:
            assert list_count(admin, cell["filter"]) == cell["count"]
    # A date range chosen by the user narrows each bucket's drill-down.
    narrowed = run(admin, rows="created_year", params={"created_from": "2026-04-01"})
    assert narrowed["row_keys"][0]["filter"]["created_from"] == "2026-04-01"
    for row in narrowed["row_keys"]:
        assert list_count(admin, row["filter"]) == row["total"]["value"]


def test_sum_and_average_of_a_money_field_and_completeness(org, data):
    manager = org["manager"]
    mine = list(visible(org, "manager"))
    result = run(manager, rows="status", measure="sum", field="cf_credit")
    for row in result["row_keys"]:
        expected = sum(
            Decimal(c.custom_fields.get("credit", "0")) for c in mine if c.status == row["key"]
        )
        assert Decimal(str(row["total"]["value"])) == expected
    assert Decimal(str(result["grand_total"]["value"])) == Decimal("127.75")
    averages = run(manager, rows="status", measure="avg", field="cf_credit")
    potential = next(r for r in averages["row_keys"] if r["key"] == "potential")
    assert potential["total"]["value"] == 100.5  # the one with a value; blanks are not zeros
    assert potential["total"]["count"] == 2
    lost = run(manager, rows="status", measure="avg", field="completeness")
    for row in lost["row_keys"]:
        values = [c.completeness for c in mine if c.status == row["key"]]
        assert row["total"]["value"] == round(sum(values) / len(values), 2)


def test_tags_count_a_customer_in_each_of_its_tags_once_in_the_total(org, data):
    admin = org["admin"]
    result = run(admin, rows="tag")
    by_key = {r["key"]: r for r in result["row_keys"]}
    assert by_key["重点"]["total"]["value"] == 1
    assert by_key["老客户"]["total"]["value"] == 2
    assert by_key[""]["total"]["value"] == 5  # no tag at all
    assert result["grand_total"]["value"] == 7  # each customer once
    assert any("多个标签" in note for note in result["notes"])
    for row in result["row_keys"]:
        assert list_count(admin, row["filter"]) == row["total"]["value"]


def test_filters_narrow_every_number(org, data):
    admin = org["admin"]
    result = run(admin, rows="status", columns="owner", params={"category": "vip"})
    assert result["grand_total"]["value"] == 3
    for cells in result["cells"]:
        for cell in cells:
            assert cell["filter"]["category"] == "vip"
            assert list_count(admin, cell["filter"]) == cell["count"]


def test_follow_ups_by_owner_and_method_per_scope(org, data):
    for who in ("admin", "manager", "rep_a"):
        user = org[who]
        result = run(user, source="follow_ups", rows="owner", columns="method")
        direct = FollowUp.objects.filter(deleted_at__isnull=True, customer__in=visible(org, who))
        if who == "rep_a":
            direct = direct.filter(owner=user)
        assert result["grand_total"]["value"] == direct.count()
        for row, cells in zip(result["row_keys"], result["cells"], strict=True):
            for column, cell in zip(result["col_keys"], cells, strict=True):
                expected = direct.filter(owner_id=row["key"], method=column["key"]).count()
                assert cell["value"] == expected
                bound = follow_up_filter(user, cell["filter"])
                assert bound.is_valid(), bound.errors
                assert bound.qs.count() == expected


@pytest.mark.parametrize(
    "rows", ["department", "result", "customer_status", "customer_category", "followed_month"]
)
def test_follow_up_dimensions_drill_down(org, data, rows):
    admin = org["admin"]
    result = run(admin, source="follow_ups", rows=rows)
    assert result["grand_total"]["value"] == 5
    for row in result["row_keys"]:
        bound = follow_up_filter(admin, row["filter"])
        assert bound.is_valid(), bound.errors
        assert bound.qs.count() == row["total"]["value"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"source": "orders", "rows": "status"}, "source"),
        ({"rows": "owner__password"}, "rows"),
        ({"rows": ""}, "rows"),
        ({"rows": "status", "columns": "name"}, "columns"),
        ({"rows": "status", "columns": "status"}, "columns"),
        ({"rows": "status", "measure": "median"}, "measure"),
        ({"rows": "status", "measure": "sum"}, "field"),
        ({"rows": "status", "measure": "avg", "field": "name"}, "field"),
        ({"source": "follow_ups", "rows": "owner", "measure": "sum", "field": "x"}, "measure"),
        ({"rows": "status", "params": {"created_from": "yesterday"}}, "created_from"),
    ],
)
def test_bad_parameters_are_refused(org, data, kwargs, field):
    with pytest.raises(PivotParamsError) as caught:
        run(org["admin"], **kwargs)
    assert field in caught.value.errors


def test_keys_are_capped_with_a_note(org, data, monkeypatch):
    monkeypatch.setattr(pivot_module, "ROW_CAP", 2)
    monkeypatch.setattr(pivot_module, "COLUMN_CAP", 1)
    result = run(org["admin"], rows="owner", columns="status")
    assert len(result["row_keys"]) == 2 and len(result["cells"][0]) == 1
    assert result["truncated"] == {"rows": 3, "columns": 3}
    assert result["grand_total"]["value"] == 7  # totals still cover everything
    assert len(result["notes"]) == 2


# --- HTTP -------------------------------------------------------------------------------------


def test_api_answers_the_pivot_and_refuses_bad_input(org, data, client_for):
    client = client_for(org["manager"])
    answer = client.get(API, {"rows": "status", "columns": "category"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["grand_total"]["value"] == visible(org, "manager").count()
    assert body["cells"][0][0]["filter"]
    bad = client.get(API, {"rows": "owner__password"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "ERR-006" and "rows" in bad.json()["errors"]
    assert client.get(API, {"rows": "status", "owner_id": "x"}).status_code == 422


def test_api_needs_login_and_the_report_permission(org, data, client_for):
    from django.test import Client

    assert Client().get(API, {"rows": "status"}).status_code == 401
    nobody = make_user(None, org["head"])
    assert client_for(nobody).get(API, {"rows": "status"}).status_code == 403


def test_page_renders_the_table_with_links_that_open_the_same_counts(org, data, client_for):
    client = client_for(org["manager"])
    page = client.get(reverse("reports:pivot"), {"rows": "status", "columns": "category"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "数据透视" in html and 'data-testid="pivot-table"' in html
    result = page.context["pivot"]
    cell = next(c for row in result["table_rows"] for c in row["cells"] if c["count"])
    assert cell["url"].startswith(reverse("customers:list") + "?")
    assert f'href="{cell["url"].replace("&", "&amp;")}"' in html
    listed = client.get(cell["url"])
    assert listed.status_code == 200
    assert listed.context["count"] == cell["count"]


def test_page_defaults_errors_and_permission(org, data, client_for):
    client = client_for(org["analyst"])
    first = client.get(reverse("reports:pivot"))
    assert first.status_code == 200 and first.context["pivot"]["columns"]["name"] == "category"
    bad = client.get(reverse("reports:pivot"), {"rows": "status", "measure": "sum"})
    assert bad.status_code == 200
    assert "求和与平均值需要选择一个数值字段" in bad.content.decode()
    follow = client.get(reverse("reports:pivot"), {"source": "follow_ups"})
    assert follow.status_code == 200 and follow.context["pivot"]["rows"]["name"] == "owner"
    nobody = make_user(None, org["head"])
    assert client_for(nobody).get(reverse("reports:pivot")).status_code == 403


def test_pivot_is_a_report_for_exports(org, data):
    from guanxi.reports.definitions import build_report

    built = build_report(
        user=org["admin"], key="pivot", params={"rows": "status", "columns": "category"}
    )
    table = built.tables[0]
    assert table.totals[-1] == 7
    assert [row[-1] for row in table.rows] == [sum(row[1:-1]) for row in table.rows]
    assert ("行", "客户状态") in built.filters
    with pytest.raises(PivotParamsError):
        build_report(user=org["admin"], key="pivot", params={"rows": "nope"})


def test_follow_up_cells_open_the_follow_up_list_with_the_same_count(org, data, client_for):
    client = client_for(org["manager"])
    page = client.get(
        reverse("reports:pivot"), {"source": "follow_ups", "rows": "result", "columns": "method"}
    )
    assert page.status_code == 200
    cells = [c for row in page.context["pivot"]["table_rows"] for c in row["cells"] if c["count"]]
    assert cells
    for cell in cells:
        assert cell["url"].startswith(reverse("reports:follow_ups") + "?")
        listed = client.get(cell["url"])
        assert listed.status_code == 200
        assert listed.context["count"] == cell["count"]


def test_query_count_does_not_grow_with_the_buckets(org, data, django_assert_max_num_queries):
    admin = org["admin"]
    run(admin, rows="owner", columns="status")  # warm per-request caches (roles, fields)
    with django_assert_max_num_queries(8):
        result = run(admin, rows="city", columns="owner", measure="sum", field="cf_credit")
    assert len(result["row_keys"]) >= 3 and len(result["col_keys"]) == 3

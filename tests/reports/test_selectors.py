"""Every report's numbers equal a direct count of the rows, for users of different scopes;
every bucket's drill-down filter shows exactly its rows in the list."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.customers.follow_up_selectors import follow_up_filter
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_filter
from guanxi.reports import selectors
from guanxi.reports.selectors import DISTRIBUTION_DIMENSIONS, ReportParamsError

from ..conftest import make_user
from .support import (
    assert_tallies_fresh,
    changes_in,
    customers_in,
    follow_ups_in,
    seed,
    today,
)

pytestmark = pytest.mark.django_db
USERS = ("admin", "manager", "rep_a", "rep_b", "service_rep", "analyst")
FIELD = {"owner": "owner_id", "department": "department_id"}


def _list_count(user, params) -> int:
    filterset = customer_filter(user, params)
    assert filterset.is_valid(), filterset.errors
    return filterset.qs.count()


@pytest.mark.parametrize("who", USERS)
def test_distribution_totals_and_buckets_equal_direct_counts(org, make_customer, who):
    seed(org, make_customer)
    user = org[who]
    expected = customers_in(org, who)
    assert expected.exists()
    for by in DISTRIBUTION_DIMENSIONS:
        report = selectors.customer_distribution(user=user, by=by)
        assert report["total"] == expected.count() == _list_count(user, {}), by
        assert sum(i["count"] for i in report["items"]) == report["total"]
        for item in report["items"]:
            assert _list_count(user, item["filter"]) == item["count"], (by, item)
            if by == "city":
                continue
            value = item["key"] if by not in FIELD else (int(item["key"]) if item["key"] else None)
            assert expected.filter(**{FIELD.get(by, by): value}).count() == item["count"]
    assert_tallies_fresh()


def test_blank_buckets_are_labelled_and_drill_down(org, make_customer):
    seed(org, make_customer)
    report = selectors.customer_distribution(user=org["admin"], by="category")
    blank = next(i for i in report["items"] if i["key"] == "")
    assert blank["label"] == "未填写" and blank["filter"] == {"category": "__blank__"}
    assert blank["count"] == Customer.objects.filter(category="", deleted_at=None).count() == 1
    city = selectors.customer_distribution(user=org["admin"], by="city")
    blank_city = next(i for i in city["items"] if i["key"] == "")
    assert blank_city["filter"] == {"province": "__blank__", "city": "__blank__"}
    hangzhou = next(i for i in city["items"] if i["key"] == "浙江省/杭州市")
    assert hangzhou["count"] == 1 and hangzhou["filter"] == {"province": "浙江省", "city": "杭州市"}


def test_filters_narrow_every_report_like_the_list(org, make_customer):
    seed(org, make_customer)
    params = {"province": "广东省", "category": "normal"}
    for who in ("admin", "manager", "rep_a"):
        user = org[who]
        expected = customers_in(org, who).filter(province="广东省", category="normal")
        report = selectors.customer_distribution(user=user, by="status", params=params)
        assert report["total"] == expected.count() == _list_count(user, params)
        for item in report["items"]:
            assert _list_count(user, {**params, **item["filter"]}) == item["count"]
        growth = selectors.customer_growth(
            user=user, period="day", date_from=today(), date_to=today(), params=params
        )
        assert growth["new_total"] == expected.count()


def test_user_without_customer_rights_sees_nothing(org, make_customer):
    seed(org, make_customer)
    nobody = make_user(None, org["sales"])
    assert selectors.customer_distribution(user=nobody, by="status")["total"] == 0
    summary = selectors.dashboard_summary(user=nobody)
    assert summary["customers"] == summary["new_week"] == summary["due_today"] == 0
    span = {"date_from": today() - dt.timedelta(days=30), "date_to": today()}
    assert selectors.follow_up_activity(user=nobody, by="owner", **span)["total"] == 0
    assert selectors.status_transitions(user=nobody, **span)["total"] == 0


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_growth_counts_new_and_lost_per_period(org, make_customer, who, period):
    seed(org, make_customer)
    start = today() - dt.timedelta(days=70)
    report = selectors.customer_growth(
        user=org[who], period=period, date_from=start, date_to=today()
    )
    assert report["new_total"] == customers_in(org, who).count()
    assert report["lost_total"] == changes_in(org, who).filter(to_status="lost").count()
    keys = [i["key"] for i in report["items"]]
    assert len(keys) == len(set(keys)) and report["items"][0]["start"] == start
    assert report["items"][-1]["end"] == today()
    last = report["items"][-1]
    assert _list_count(org[who], last["filter"]) == last["new"]


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("by", ["owner", "department", "day", "method"])
def test_follow_up_activity_equals_direct_count_and_drills_down(org, make_customer, who, by):
    seed(org, make_customer)
    start, end = today() - dt.timedelta(days=3), today()
    report = selectors.follow_up_activity(user=org[who], by=by, date_from=start, date_to=end)
    lo = selectors.local_start(start)
    hi = selectors.local_start(end + dt.timedelta(days=1))
    expected = follow_ups_in(org, who).filter(followed_at__gte=lo, followed_at__lt=hi)
    assert report["total"] == expected.count()
    if by == "day":
        assert [i["key"] for i in report["items"]] == [
            (start + dt.timedelta(days=d)).isoformat() for d in range(4)
        ]
    for item in report["items"]:
        filterset = follow_up_filter(org[who], item["filter"])
        assert filterset.is_valid(), filterset.errors
        assert filterset.qs.count() == item["count"], item


@pytest.mark.parametrize("who", USERS)
def test_status_transitions_equal_direct_count(org, make_customer, who):
    seed(org, make_customer)
    report = selectors.status_transitions(
        user=org[who], date_from=today() - dt.timedelta(days=1), date_to=today()
    )
    expected = changes_in(org, who)
    assert report["total"] == expected.count()
    for item in report["items"]:
        pair = expected.filter(from_status=item["from"], to_status=item["to"])
        assert pair.count() == item["count"]
    assert {s["key"] for s in report["statuses"]} == {
        "potential",
        "not_cooperating",
        "cooperating",
        "lost",
    }


@pytest.mark.parametrize("who", USERS)
def test_dashboard_kpis_equal_their_drill_down_lists(org, make_customer, who):
    made = seed(org, make_customer)
    now = selectors.local_start(today())
    Customer.objects.filter(pk=made[0].pk).update(next_follow_up_at=now + dt.timedelta(hours=3))
    Customer.objects.filter(pk=made[3].pk).update(next_follow_up_at=now - dt.timedelta(days=2))
    Customer.objects.filter(pk=made[6].pk).update(next_follow_up_at=now + dt.timedelta(days=2))
    summary = selectors.dashboard_summary(user=org[who])
    assert summary["customers"] == customers_in(org, who).count()
    for kpi, params in summary["kpi_filters"].items():
        assert _list_count(org[who], params) == summary[kpi], kpi
    due = customers_in(org, who).filter(pk=made[0].pk).count()
    assert summary["due_today"] == due
    assert summary["overdue"] == customers_in(org, who).filter(pk=made[3].pk).count()
    assert sum(i["count"] for i in summary["by_status"]) == summary["customers"]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda u: selectors.customer_distribution(user=u, by="colour"), "by"),
        (
            lambda u: selectors.customer_distribution(user=u, by="status", params={"status": "x"}),
            "status",
        ),
        (
            lambda u: selectors.customer_distribution(user=u, by="owner", params={"owner_id": "a"}),
            "owner_id",
        ),
        (
            lambda u: selectors.customer_growth(
                user=u, period="year", date_from=today(), date_to=today()
            ),
            "period",
        ),
        (
            lambda u: selectors.customer_growth(
                user=u, period="day", date_from=today(), date_to=today() - dt.timedelta(days=1)
            ),
            "to",
        ),
        (
            lambda u: selectors.customer_growth(
                user=u, period="day", date_from=today() - dt.timedelta(days=800), date_to=today()
            ),
            "to",
        ),
        (
            lambda u: selectors.follow_up_activity(
                user=u, by="owner", date_from=today(), date_to=today(), params={"owner_id": "x"}
            ),
            "owner_id",
        ),
    ],
)
def test_bad_parameters_raise_field_errors(org, call, field):
    with pytest.raises(ReportParamsError) as info:
        call(org["admin"])
    assert info.value.errors.get(field)

"""The customer timeline: merge order across sources, keyset paging without gaps or repeats
(ties on the timestamp included), the kind filter, permissions and scope, the registry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from guanxi.accounts.models import Role
from guanxi.core.pagination import BadCursor
from guanxi.customers import timeline
from guanxi.customers.models import FollowUp, Interaction, StatusChange
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _events(customer, user, base, *, follow_ups=0, changes=0, interactions=0, step=60):
    """Rows straight in the tables at chosen times (the services stamp 'now')."""
    FollowUp.objects.bulk_create(
        FollowUp(
            customer=customer,
            owner=user,
            method="phone",
            content=f"跟进{i}",
            followed_at=base - dt.timedelta(seconds=step * i),
        )
        for i in range(follow_ups)
    )
    StatusChange.objects.bulk_create(
        StatusChange(
            customer=customer,
            from_status="potential",
            to_status="cooperating",
            changed_by=user,
            changed_at=base - dt.timedelta(seconds=step * i),
        )
        for i in range(changes)
    )
    Interaction.objects.bulk_create(
        Interaction(
            customer=customer,
            staff=user,
            kind="event",
            subject=f"活动{i}",
            occurred_at=base - dt.timedelta(seconds=step * i),
        )
        for i in range(interactions)
    )


def _walk(user, customer, limit, kinds=None):
    seen, cursor, pages = [], None, 0
    while True:
        page = timeline.timeline_page(
            user=user, customer=customer, kinds=kinds, cursor=cursor, limit=limit
        )
        seen.extend(page.items)
        pages += 1
        if not page.next_cursor:
            return seen, pages
        cursor = page.next_cursor


def test_merged_newest_first_with_every_kind(org, make_customer):
    customer = make_customer(org["rep_a"])  # one status change at creation
    base = timezone.now() + dt.timedelta(hours=1)
    _events(customer, org["rep_a"], base, follow_ups=3, interactions=2, step=600)
    items = timeline.timeline_page(user=org["rep_a"], customer=customer).items
    assert len(items) == 6
    keys = [i.sort_key() for i in items]
    assert keys == sorted(keys, reverse=True)
    assert {i.kind for i in items} == {"follow_up", "interaction", "status_change"}
    assert items[-1].kind == "status_change"
    # Equal times order by kind, then id (descending): the order is total, hence stable.
    assert items[0].title == "活动参与 · 活动0" and items[1].title.startswith("电话")


def test_paging_has_no_gaps_or_repeats_even_with_equal_times(org, make_customer):
    customer = make_customer(org["rep_a"])
    base = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    # Many items share each timestamp, within and across kinds (step 0 = all the same time).
    _events(customer, org["rep_a"], base, follow_ups=13, changes=7, interactions=9, step=0)
    _events(customer, org["rep_a"], base, follow_ups=5, changes=5, interactions=5, step=30)
    total = 13 + 7 + 9 + 15 + 1
    for limit in (1, 4, 7, 50):
        seen, pages = _walk(org["rep_a"], customer, limit)
        ids = [(i.kind, i.id) for i in seen]
        assert len(ids) == len(set(ids)) == total, limit
        keys = [i.sort_key() for i in seen]
        assert keys == sorted(keys, reverse=True)
        assert pages == -(-total // limit)


def test_kind_filter(org, make_customer):
    customer = make_customer(org["rep_a"])
    _events(customer, org["rep_a"], timezone.now(), follow_ups=4, interactions=3)
    seen, _ = _walk(org["rep_a"], customer, 2, kinds=["interaction"])
    assert [i.kind for i in seen] == ["interaction"] * 3
    seen, _ = _walk(org["rep_a"], customer, 3, kinds=["interaction", "status_change"])
    assert sorted({i.kind for i in seen}) == ["interaction", "status_change"] and len(seen) == 4


def test_sources_need_their_view_permission(org, make_customer):
    customer = make_customer(org["rep_a"])
    _events(customer, org["rep_a"], timezone.now(), follow_ups=2, interactions=2)
    role = Role.objects.create(code="viewer", name="只读客户", read_scope="all")
    role.permissions.add(Permission.objects.get(codename="view_customer"))
    viewer = make_user(None, org["head"])
    viewer.roles.add(role)
    items = timeline.timeline_page(user=viewer, customer=customer).items
    assert {i.kind for i in items} == {"status_change"}


def test_bad_cursor_is_refused(org, make_customer):
    customer = make_customer(org["rep_a"])
    for cursor in ("garbage", "W10", timeline.Cursor(timezone.now(), "x", 1).encode()[:-3]):
        with pytest.raises(BadCursor):
            timeline.timeline_page(user=org["rep_a"], customer=customer, cursor=cursor)


def test_other_apps_can_register_a_source(org, make_customer):
    customer = make_customer(org["rep_a"])
    now = timezone.now() + dt.timedelta(minutes=1)

    def orders(customer, cursor, limit, labels):
        rows = [
            timeline.TimelineItem(kind="order", id=n, at=now, title=f"订单{n}") for n in (3, 2, 1)
        ]
        if cursor is not None:
            rows = [r for r in rows if r.sort_key() < (cursor.at, cursor.kind, cursor.id)]
        return rows[:limit]

    timeline.source("order", "订单", order=40)(orders)
    try:
        seen, _ = _walk(org["rep_a"], customer, 2)
        assert [i.kind for i in seen] == ["order", "order", "order", "status_change"]
    finally:
        timeline.SOURCES.pop("order")


def test_api_scope_and_paging(org, make_customer):
    from tests.customers.test_api import Api

    customer = make_customer(org["rep_a"])
    _events(customer, org["rep_a"], timezone.now(), follow_ups=6, interactions=4, step=0)
    url = f"/api/v1/customers/{customer.pk}/timeline"
    api = Api(org["manager"])
    first = api.get(url, limit=6).json()
    second = api.get(url, limit=6, cursor=first["next_cursor"]).json()
    assert len(first["items"]) == 6 and len(second["items"]) == 5
    keys = {(i["kind"], i["id"]) for i in first["items"] + second["items"]}
    assert len(keys) == 11 and second["next_cursor"] is None
    assert api.get(url, cursor="nope").status_code == 422
    assert Api(org["rep_b"]).get(url).status_code == 404
    assert Api(org["service_rep"]).get(url).status_code == 200


def test_customer_page_shows_the_newest_status_changes_and_links_to_all(
    org, make_customer, client_for
):
    """The page stays small however long a customer's history: the newest ten status
    changes, then a link to the timeline filtered to status changes, which has them all."""
    from django.urls import reverse

    customer = make_customer(org["rep_a"])
    _events(customer, org["rep_a"], timezone.now(), changes=12)
    client = client_for(org["rep_a"])
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    section = page.split('id="status-history"', 1)[1].split("</section>", 1)[0]
    assert section.count("<tr>") == 1 + 10  # header + the newest ten
    assert 'data-testid="status-history-more"' in section
    link = reverse("customers:timeline", args=[customer.pk]) + "?kind=status_change"
    assert link in section
    listed = client.get(link).content.decode()
    assert listed.count('data-testid="timeline-item"') == (
        StatusChange.objects.filter(customer=customer).count()
    )

    few = make_customer(org["rep_a"], name="状态记录很少的客户")
    page = client.get(reverse("customers:detail", args=[few.pk])).content.decode()
    assert 'data-testid="status-history-more"' not in page

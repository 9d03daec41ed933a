"""Pages: quick entry (htmx modal and plain POST), the timeline section, 我的跟进, the list's
row action; query counts that do not grow with rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.customers import follow_ups
from guanxi.customers.models import Customer, FollowUp, Interaction
from tests.customers.test_timeline import _events

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TIMELINE_BUDGET = 16
DUE_BUDGET = 16


def _html(response) -> str:
    return response.content.decode()


def test_detail_page_has_the_lazy_timeline(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    html = _html(client_for(org["rep_a"]).get(reverse("customers:detail", args=[customer.pk])))
    assert reverse("customers:timeline", args=[customer.pk]) in html
    assert 'id="gx-entry-modal"' in html


def test_follow_up_modal_get_and_post(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    client = client_for(org["rep_a"])
    url = reverse("customers:follow_up_create", args=[customer.pk])
    form = client.get(url, **HTMX)
    assert form.status_code == 200
    html = _html(form)
    assert "<html" not in html and "电话" in html and "意向反馈" in html
    assert f'hx-post="{url}"' in html
    # Errors: htmx gets 200 (it only swaps 2xx) with the messages in the form.
    bad = client.post(url, {"method": "", "content": ""}, **HTMX)
    assert bad.status_code == 200
    assert str(follow_ups.MSG_METHOD_REQUIRED) in _html(bad)
    assert str(follow_ups.MSG_CONTENT_REQUIRED) in _html(bad)
    next_at = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    ok = client.post(
        url,
        {
            "method": "phone",
            "content": "电话沟通，客户确认下周来访",
            "result": "requirement",
            "followed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "next_follow_up_at": next_at,
            "next_plan": "准备方案",
            "next": reverse("customers:list"),
        },
        **HTMX,
    )
    assert ok.status_code == 204, _html(ok)
    assert ok["HX-Redirect"] == reverse("customers:list")
    f = FollowUp.objects.get()
    assert f.next_plan == "准备方案" and f.owner == org["rep_a"]
    assert Customer.objects.get(pk=customer.pk).next_follow_up_at is not None


def test_plain_post_answers_422_then_redirects(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    client = client_for(org["rep_a"])
    url = reverse("customers:follow_up_create", args=[customer.pk])
    page = client.get(url)
    assert page.status_code == 200 and "<html" in _html(page)
    bad = client.post(url, {"method": "phone", "content": "x", "next": "https://evil.example/"})
    assert bad.status_code == 200 or bad.status_code == 302
    # An outside next URL is ignored: back to the customer.
    assert bad["Location"] == reverse("customers:detail", args=[customer.pk])
    future = (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(url, {"method": "phone", "content": "x", "followed_at": future})
    assert refused.status_code == 422 and str(follow_ups.MSG_FUTURE) in _html(refused)


def test_entry_refused_out_of_scope_and_without_permission(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    url = reverse("customers:follow_up_create", args=[customer.pk])
    assert client_for(org["rep_b"]).get(url).status_code == 404
    assert client_for(org["service_rep"]).get(url).status_code == 403
    post = client_for(org["service_rep"]).post(url, {"method": "phone", "content": "x"})
    assert post.status_code == 403 and not FollowUp.objects.exists()


def test_interaction_entry(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    client = client_for(org["service_rep"])
    url = reverse("customers:follow_up_interaction_create", args=[customer.pk])
    assert "投诉咨询" in _html(client.get(url, **HTMX))
    ok = client.post(url, {"kind": "complaint", "subject": "物流投诉", "details": "到货延迟"})
    assert ok.status_code == 302
    assert Interaction.objects.get().staff == org["service_rep"]


def test_timeline_fragment_chips_more_and_query_budget(
    org, make_customer, client_for, django_assert_max_num_queries
):
    customer = make_customer(org["rep_a"])
    client = client_for(org["rep_a"])
    url = reverse("customers:timeline", args=[customer.pk])
    _events(customer, org["rep_a"], timezone.now(), follow_ups=2, interactions=2)
    client.get(url, **HTMX)
    with CaptureQueriesContext(connection) as few:
        client.get(url, **HTMX)
    later = timezone.now() + dt.timedelta(hours=1)
    _events(customer, org["rep_a"], later, follow_ups=40, changes=10, interactions=30)
    with django_assert_max_num_queries(TIMELINE_BUDGET):
        html = _html(client.get(url, **HTMX))
    assert html.count('data-testid="timeline-item"') == 20
    assert "加载更多" in html and "新增跟进" in html and "记录互动" in html
    assert 'data-kind="interaction"' in html
    with CaptureQueriesContext(connection) as many:
        client.get(url, **HTMX)
    assert len(many.captured_queries) == len(few.captured_queries)
    # A chip shows one kind only; "加载更多" appends items and replaces its own button.
    chip = _html(client.get(url, {"kind": "interaction"}, **HTMX))
    assert chip.count('data-kind="interaction"') == 20 + 1  # items plus the active chip
    cursor = chip.split("cursor=")[1].split("&")[0].split('"')[0]
    from urllib.parse import unquote

    more = _html(
        client.get(url, {"kind": "interaction", "more": 1, "cursor": unquote(cursor)}, **HTMX)
    )
    assert more.count('data-testid="timeline-item"') == 12 and 'hx-swap-oob="true"' in more
    assert "加载更多" not in more
    assert client_for(org["rep_b"]).get(url, **HTMX).status_code == 404
    whole = client.get(url, {"cursor": "broken"})
    assert whole.status_code == 200 and "<html" in _html(whole)


def test_due_page_lists_overdue_first_with_plan(
    org, make_customer, client_for, django_assert_max_num_queries
):
    url = reverse("customers:follow_up_due")
    client = client_for(org["rep_a"])
    now = timezone.now()
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    customers = [make_customer(org["rep_a"]) for _ in range(6)]
    for i, customer in enumerate(customers):
        follow_ups.follow_up_create(
            actor=org["rep_a"],
            customer_id=customer.pk,
            data={
                "method": "wechat",
                "content": "微信沟通",
                "followed_at": now - dt.timedelta(days=20),
                "next_follow_up_at": now - dt.timedelta(days=i),
                "next_plan": f"计划{i}",
            },
        )
    other = make_customer(org["rep_b"])
    Customer.objects.filter(pk=other.pk).update(next_follow_up_at=now - dt.timedelta(days=2))
    with django_assert_max_num_queries(DUE_BUDGET):
        html = _html(client.get(url))
    assert html.count('data-testid="due-row"') == 6
    assert html.index("计划5") < html.index("计划1") < html.index("计划0")
    assert "逾期 5 天" in html and "今天" in html and other.name not in html
    assert "微信" in html
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_menu_and_list_row_action(org, make_customer, client_for):
    make_customer(org["rep_a"])
    rep = _html(client_for(org["rep_a"]).get(reverse("customers:list")))
    assert 'data-testid="row-follow-up"' in rep and "我的跟进" in rep
    assert 'id="gx-entry-modal"' in rep
    service = _html(client_for(org["service_rep"]).get(reverse("customers:list")))
    assert 'data-testid="row-follow-up"' not in service and "我的跟进" not in service


def test_edit_by_author_and_manager_only(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    f = follow_ups.follow_up_create(
        actor=org["manager"],
        customer_id=customer.pk,
        data={"method": "visit", "content": "经理拜访"},
    )
    url = reverse("customers:follow_up_edit", args=[f.pk])
    timeline_url = reverse("customers:timeline", args=[customer.pk])
    # The customer's rep sees the manager's follow-up but may not edit it.
    rep = client_for(org["rep_a"])
    assert 'data-testid="edit-follow-up"' not in _html(rep.get(timeline_url, **HTMX))
    assert rep.get(url, **HTMX).status_code == 403
    assert client_for(org["rep_b"]).get(url).status_code == 404
    assert client_for(org["service_rep"]).get(url).status_code == 403
    manager = client_for(org["manager"])
    assert 'data-testid="edit-follow-up"' in _html(manager.get(timeline_url, **HTMX))
    form = _html(manager.get(url, **HTMX))
    assert "经理拜访" in form and 'name="version" value="1"' in form
    fields = {
        "method": "visit",
        "content": "经理拜访，确认采购预算",
        "followed_at": timezone.localtime(f.followed_at).strftime("%Y-%m-%dT%H:%M"),
        "version": 1,
    }
    assert manager.post(url, fields).status_code == 302
    before = f.followed_at
    f.refresh_from_db()
    assert f.content == "经理拜访，确认采购预算" and f.version == 2
    assert f.followed_at == before  # minutes shown, seconds kept
    stale = manager.post(url, {**fields, "content": "旧版本"})
    assert stale.status_code == 422 and "ERR-007" in _html(stale)

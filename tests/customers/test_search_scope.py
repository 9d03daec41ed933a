"""A search inside a user's own or department scope: the index is asked for the scope's
rows too (PostgreSQL), and the pages are exactly the scoped matches on both databases."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.scopes import scope_members
from guanxi.customers import search
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_list, customer_queryset


@pytest.fixture
def spread_customers(org, make_customer):
    """Customers of both teams, one filed under another department than its owner's, and
    one with no department at all."""
    for i in range(9):
        owner = (org["rep_a"], org["rep_b"], org["manager"])[i % 3]
        make_customer(owner, name=f"云帆物流{i:02d}号有限公司")
    moved = make_customer(org["rep_a"], name="云帆物流调岗有限公司")
    Customer.objects.filter(pk=moved.pk).update(department=org["service"])
    orphan = make_customer(org["admin"], name="云帆物流总部有限公司")
    Customer.objects.filter(pk=orphan.pk).update(department=None)
    return org


def _ids(user, query: str) -> list[int]:
    ids, cursor = [], None
    while True:
        page = customer_list(user=user, params={"q": query}, cursor=cursor, limit=2)
        ids += [c.pk for c in page.items]
        if not (cursor := page.next_cursor):
            return ids


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a", "rep_b", "service_rep"])
@pytest.mark.parametrize("query", ["云帆", "物流", "云帆物流", "yfwl", "yunfan"])
def test_scoped_search_returns_exactly_the_scoped_matches(spread_customers, who, query):
    user = spread_customers[who]
    expected = sorted(
        customer_queryset(user).filter(name__contains="云帆物流").values_list("pk", flat=True),
        reverse=True,
    )
    assert _ids(user, query) == expected
    if who != "service_rep":
        assert expected, "every caller but the service rep sees some of these customers"


def test_rep_keeps_own_customer_filed_under_another_department(spread_customers):
    rep = spread_customers["rep_a"]
    moved = Customer.objects.get(name="云帆物流调岗有限公司")
    assert moved.pk in _ids(rep, "调岗")


def test_scope_members_follow_the_scope(spread_customers):
    org = spread_customers
    assert scope_members(org["admin"], Customer) == ([], [])
    assert scope_members(org["rep_a"], Customer) == ([org["rep_a"].pk], [])
    owners, departments = scope_members(org["manager"], Customer)
    assert owners == [org["manager"].pk]
    assert set(departments) == {org["sales"].pk, org["team_a"].pk, org["team_b"].pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's index path")
def test_scoped_search_asks_the_index_for_the_scope(spread_customers, monkeypatch):
    monkeypatch.setattr(search, "WINDOW_SIZES", {})  # the plain (index) path only
    rep = spread_customers["rep_a"]
    with CaptureQueriesContext(connection) as ctx:
        customer_list(user=rep, params={"q": "云帆物流"}, limit=5)
    assert any(f"@o{rep.pk}" in q["sql"] for q in ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        customer_list(user=spread_customers["admin"], params={"q": "云帆物流"}, limit=5)
    assert not any(re.search(r"@[od]\d", q["sql"]) for q in ctx.captured_queries)


def test_scope_search_skips_very_wide_scopes(db):
    with search.scope_search(list(range(10)), list(range(search.MAX_SCOPE_TOKENS))):
        assert search._scope_tokens.get() == ()
    with search.scope_search([7], [3]):
        assert search._scope_tokens.get() == ("@o7", "@d3")
    assert search._scope_tokens.get() == ()

"""Search pages drawn from a window of the newest candidates equal the plain query's pages."""

from __future__ import annotations

import pytest

from guanxi.customers import search
from guanxi.customers.selectors import customer_list


def _all_pages(user, query: str, limit: int) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = customer_list(user=user, params={"q": query}, cursor=cursor, limit=limit)
        pages.append([c.pk for c in page.items])
        cursor = page.next_cursor
        if not cursor:
            return pages


@pytest.fixture
def mixed_customers(org, make_customer):
    for i in range(24):
        owner = org["rep_a"] if i % 3 == 0 else org["rep_b"]
        name = f"华为科技{i:02d}号有限公司" if i % 7 == 0 else f"星河科技{i:02d}号有限公司"
        make_customer(owner, name=name)
    return org


@pytest.mark.parametrize("query", ["科技", "有限", "华为", "xhkj", "华为科技", "kj"])
@pytest.mark.parametrize("who", ["admin", "rep_a", "manager"])
@pytest.mark.parametrize("limit", [1, 4, 50])
def test_windowed_pages_equal_plain_pages(mixed_customers, monkeypatch, query, who, limit):
    user = mixed_customers[who]
    monkeypatch.setattr(search, "WINDOW_SIZES", {})
    expected = _all_pages(user, query, limit)
    monkeypatch.setattr(search, "WINDOW_SIZES", {"sqlite": (2, 5), "postgresql": (2, 5)})
    assert _all_pages(user, query, limit) == expected
    assert any(expected), "the query should match something for every caller"


def test_window_is_used_for_common_tokens(
    mixed_customers, monkeypatch, django_assert_max_num_queries
):
    """The window really applies: with it, the page query names a lower id bound."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(search, "WINDOW_SIZES", {"sqlite": (3, 6), "postgresql": (3, 6)})
    with CaptureQueriesContext(connection) as ctx:
        page = customer_list(user=mixed_customers["admin"], params={"q": "科技"}, limit=2)
    assert len(page.items) == 2 and page.next_cursor
    assert any(">=" in q["sql"] for q in ctx.captured_queries)


def test_index_read_sorts_matches_instead_of_walking_the_key(mixed_customers, monkeypatch):
    """When no window fills the page, PostgreSQL reads the page's ids in an order the primary
    key cannot serve (so the GIN index answers in one pass), then those rows by id; the page
    is the plain query's page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the GIN index read is PostgreSQL's")
    user = mixed_customers["admin"]
    monkeypatch.setattr(search, "WINDOW_SIZES", {})
    expected = customer_list(user=user, params={"q": "华为"}, limit=2)
    monkeypatch.setattr(search, "WINDOW_SIZES", {"postgresql": (1,)})
    with CaptureQueriesContext(connection) as ctx:
        page = customer_list(user=user, params={"q": "华为"}, limit=2)
    assert [c.pk for c in page.items] == [c.pk for c in expected.items]
    assert page.next_cursor == expected.next_cursor
    sql = [q["sql"] for q in ctx.captured_queries if "customers_customer" in q["sql"]]
    assert any('ORDER BY ("customers_customer"."id" + 0) DESC' in s for s in sql), sql


@pytest.mark.parametrize("who", ["rep_a", "manager"])
def test_scoped_index_read_lets_the_scope_tokens_narrow(mixed_customers, monkeypatch, who):
    """A scoped user's index read asks the GIN index for the scope's tokens and leaves the
    scope's own filter (which would add the owner index's bitmap) out of the ids query; the
    rows are still read through the scoped queryset, and every page equals the plain one."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the GIN index read is PostgreSQL's")
    user = mixed_customers[who]
    monkeypatch.setattr(search, "WINDOW_SIZES", {})
    expected = _all_pages(user, "科技", 3)
    monkeypatch.setattr(search, "WINDOW_SIZES", {"postgresql": (1,)})
    with CaptureQueriesContext(connection) as ctx:
        assert _all_pages(user, "科技", 3) == expected
    mine = {c.pk for c in mixed_customers["rep_a"].owned_customers.all()}
    if who == "rep_a":
        assert {pk for page in expected for pk in page} == mine
    sql = [q["sql"] for q in ctx.captured_queries if '"id" + 0) DESC' in q["sql"]]
    assert sql, "the pages should come from index reads"
    owner_filter = re.compile(r'"customers_customer"\."owner_id" = \d')
    assert not any(owner_filter.search(s) for s in sql), sql
    assert all(f"@o{user.pk}" in s for s in sql), sql
    rows = [q["sql"] for q in ctx.captured_queries if '"customers_customer"."id" IN (' in q["sql"]]
    assert rows and all(owner_filter.search(s) for s in rows), rows


@pytest.mark.parametrize(
    ("found", "scoped", "expected"),
    [
        (0, False, None),  # nothing among the newest rows: the index has little to read
        (40, False, 9_562),  # 0.8% of rows match: walking 9,562 ids beats reading 8,000
        (20, False, 19_125),  # 0.4%: walking 19,125 ids still beats reading 4,000 matches
        (12, False, None),  # 0.24%: reading 2,400 matches beats walking 31,875 ids
        (12, True, 31_875),  # inside a scope a walked row costs less, so walking wins
        (1, False, None),  # the next window would pass MAX_WINDOW
    ],
)
def test_next_window_follows_the_share_the_first_window_saw(monkeypatch, found, scoped, expected):
    monkeypatch.setattr(search, "_token_frequencies", lambda: ({}, 1_000_000.0))
    with search.scope_search([7] if scoped else [], []):
        assert search._next_window(5_000, found, 50, 1_000_000) == expected

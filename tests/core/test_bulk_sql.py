"""The bulk insert behind imports: every row lands, in order, with its values as given, on
both databases, also when the rows need more than one statement."""

from __future__ import annotations

import pytest

from guanxi.core import bulk_sql
from guanxi.core.models import DictionaryItem, DictionaryType

COLUMNS = ("dict_type_id", "code", "label", "label_en", "sort", "is_active")


@pytest.fixture
def kind(db: object) -> DictionaryType:
    return DictionaryType.objects.create(code="bulk_test", name="批量测试")


def rows_for(kind: DictionaryType, count: int) -> list[tuple[object, ...]]:
    return [
        (kind.pk, f"c{n:05d}", f"标签“{n}”,'引号'", "" if n % 2 else "Label", n, n % 3 != 0)
        for n in range(count)
    ]


def stored(kind: DictionaryType) -> list[tuple[object, ...]]:
    return [
        (kind.pk, *values)
        for values in DictionaryItem.objects.filter(dict_type=kind)
        .order_by("pk")
        .values_list("code", "label", "label_en", "sort", "is_active")
    ]


def test_rows_land_in_order_with_their_values(kind: DictionaryType) -> None:
    rows = rows_for(kind, 250)
    bulk_sql.insert_many(DictionaryItem._meta.db_table, COLUMNS, rows)
    assert stored(kind) == rows


def test_rows_beyond_one_statement(kind: DictionaryType, monkeypatch) -> None:
    # 6 columns and a bound of 40 parameters: 6 rows a statement, 17 statements.
    monkeypatch.setattr(bulk_sql, "_sqlite_param_limit", lambda: 40)
    rows = rows_for(kind, 100)
    bulk_sql.insert_many(DictionaryItem._meta.db_table, COLUMNS, rows)
    assert stored(kind) == rows


def test_rows_beyond_the_row_cap_reuse_few_statements(kind: DictionaryType, monkeypatch):
    """Statements are capped and the rest goes in powers of two, so chunks of any length
    prepare the same few statements (the connection caches its last 128)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(bulk_sql, "MAX_ROWS_PER_STATEMENT", 8)
    rows = rows_for(kind, 61)
    with CaptureQueriesContext(connection) as ctx:
        bulk_sql.insert_many(DictionaryItem._meta.db_table, COLUMNS, rows)
    assert stored(kind) == rows
    if connection.vendor == "sqlite":  # PostgreSQL copies
        sizes = [q["sql"].count("), (") + 1 for q in ctx.captured_queries]
        assert sizes == [8, 8, 8, 8, 8, 8, 8, 4, 1]


@pytest.mark.parametrize(
    ("count", "bound", "sizes"),
    [
        (0, 885, []),
        (7, 885, [4, 2, 1]),
        (2000, 885, [885, 885, 128, 64, 32, 4, 2]),
        (3000, 16383, [1024, 1024, 512, 256, 128, 32, 16, 8]),
        (250, 100, [100, 100, 32, 16, 2]),
        (3, 1, [1, 1, 1]),
    ],
)
def test_statement_sizes(count: int, bound: int, sizes: list[int]) -> None:
    assert bulk_sql.statement_sizes(count, bound) == sizes
    assert sum(sizes) == count


def test_nothing_to_insert(kind: DictionaryType) -> None:
    bulk_sql.insert_many(DictionaryItem._meta.db_table, COLUMNS, [])
    assert stored(kind) == []


def test_sqlite_bound_is_read_from_the_connection(db: object) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's parameter bound")
    assert bulk_sql._sqlite_param_limit() >= 999


def test_select_in_takes_thousands_of_keys_as_one_parameter(
    kind: DictionaryType, django_assert_num_queries
) -> None:
    bulk_sql.insert_many(DictionaryItem._meta.db_table, COLUMNS, rows_for(kind, 50))
    sql = f"SELECT code, label FROM {DictionaryItem._meta.db_table} WHERE label IN ({{values}})"
    wanted = [f"标签“{n}”,'引号'" for n in range(0, 50, 7)] + [f"无此标签{n}" for n in range(5000)]
    with django_assert_num_queries(1):
        found = bulk_sql.select_in(sql, wanted)
    assert sorted(found) == [(f"c{n:05d}", f"标签“{n}”,'引号'") for n in range(0, 50, 7)]
    with django_assert_num_queries(0):
        assert bulk_sql.select_in(sql, []) == []


@pytest.mark.django_db
def test_sqlite_keeps_statement_journals_in_memory() -> None:
    """A statement on a table with triggers keeps a statement journal; past 64 KiB SQLite
    spills it to a temporary file unless temp_store is MEMORY, which made one-row INSERTs into
    the customers table (27 indexes, change-log triggers) take ~60-70 µs a row more."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite pragma")
    with connection.cursor() as cur:
        cur.execute("PRAGMA temp_store")
        assert cur.fetchone()[0] == 2  # MEMORY

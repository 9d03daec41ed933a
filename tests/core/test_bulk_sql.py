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

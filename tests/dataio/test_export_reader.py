"""The fast row reading under the exports: local times made by the database (DST years
included), the side lookups for sparse and dense chunks, and the zone's fixed offset."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.customers.models import Customer, CustomerTag, Tag
from guanxi.dataio.customer_export import TAGS_SQL
from guanxi.dataio.local_time import fixed_offset_since
from guanxi.dataio.row_reader import Converters, LocalTime, pairs_for, raw_chunks

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def test_local_times_match_the_time_zone_database_in_every_era(org, make_customer):
    instants = {
        dt.datetime(2026, 6, 1, 0, 30, 15, 123456, tzinfo=UTC): "2026-06-01 08:30:15",
        dt.datetime(2026, 12, 31, 20, 0, tzinfo=UTC): "2027-01-01 04:00:00",
        # Shanghai kept daylight saving time (UTC+9) in the summers of 1986-1991.
        dt.datetime(1988, 7, 1, 12, 0, tzinfo=UTC): "1988-07-01 21:00:00",
        dt.datetime(1990, 1, 1, 12, 0, tzinfo=UTC): "1990-01-01 20:00:00",
        dt.datetime(1991, 9, 14, 16, 59, tzinfo=UTC): "1991-09-15 01:59:00",
        dt.datetime(1991, 9, 14, 17, 0, tzinfo=UTC): "1991-09-15 01:00:00",
    }
    ids = []
    for instant in instants:
        customer = make_customer(org["admin"])
        Customer.objects.filter(pk=customer.pk).update(created_at=instant, updated_at=instant)
        ids.append(customer.pk)
    qs = Customer.objects.filter(pk__in=ids).order_by("created_at")
    local = Converters().local
    rows = [r for chunk in raw_chunks(qs, [LocalTime("created_at")]) for r in chunk]
    assert [local(r[0]) for r in rows] == [instants[k] for k in sorted(instants)]
    assert fixed_offset_since("Asia/Shanghai") == ("1991-09-14 17:00:00", 8 * 3600)
    assert fixed_offset_since("Europe/Berlin") is None  # still changes: all in Python


def test_side_lookups_answer_sparse_and_dense_chunks(org, make_customer):
    customers = [make_customer(org["admin"]) for _ in range(12)]
    tag = Tag.objects.create(name="抽查")
    for c in customers:
        CustomerTag.objects.create(customer=c, tag=tag)
    ids = [c.pk for c in customers]
    dense = pairs_for(TAGS_SQL, ids[3:9])
    assert {pk for pk, _name in dense} == set(ids[3:9])
    sparse = pairs_for(TAGS_SQL, [ids[0], ids[-1]])  # far apart: asked for one by one
    assert sorted(pk for pk, _name in sparse) == [ids[0], ids[-1]]
    assert pairs_for(TAGS_SQL, []) == []

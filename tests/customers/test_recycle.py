"""Recycle bin services: restore, purge with a reason, the retention job and its command."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import ProtectedError
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import DeleteRefused, DuplicateRecord, NotFound, PermissionDenied
from guanxi.core.masking import mask
from guanxi.customers import recycle, recycle_selectors, search, selectors
from guanxi.customers.models import Customer, CustomerTag, StatusChange
from tests.customers.recycle_support import age, deleted_customer, rep_who_may_delete

pytestmark = pytest.mark.django_db


def entries(action: str, customer_id: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, object_id=str(customer_id)).order_by("id"))


# --- restore -------------------------------------------------------------------------------


def test_restore_brings_customer_back_as_not_cooperating(org, make_customer):
    customer = deleted_customer(make_customer, org["rep_a"], deleter=org["manager"])
    version = customer.version
    restored = recycle.customer_restore(actor=org["manager"], customer=customer)
    restored.refresh_from_db()
    assert restored.deleted_at is None and restored.deleted_by is None
    assert restored.status == "not_cooperating"
    assert restored.version == version + 1
    assert restored.updated_by == org["manager"]
    (entry,) = entries("customer.restore", customer.pk)
    assert entry.result == "success" and entry.actor == org["manager"]
    assert entry.changes["deleted_at"][1] is None
    # The restore shows in the customer's change history, and the record is live again.
    history = selectors.customer_change_history(customer=restored)
    assert history[0].action == "customer.restore"
    assert selectors.customer_get(user=org["admin"], pk=customer.pk) == restored


def test_restore_records_status_change_when_status_differs(org, make_customer):
    customer = deleted_customer(make_customer, org["admin"])
    # Deleted under other rules (e.g. imported or merged records) with another status.
    Customer.objects.filter(pk=customer.pk).update(status="lost")
    recycle.customer_restore(actor=org["admin"], customer=customer)
    event = StatusChange.objects.filter(customer=customer).first()
    assert (event.from_status, event.to_status) == ("lost", "not_cooperating")
    assert event.changed_by == org["admin"]
    (entry,) = entries("customer.restore", customer.pk)
    assert entry.changes["status"] == ["lost", "not_cooperating"]


def test_restore_refused_when_live_customer_took_the_name(org, make_customer):
    customer = deleted_customer(make_customer, org["admin"], name="回收站重名公司")
    taker = make_customer(org["admin"], name="回收站重名公司")
    with pytest.raises(DuplicateRecord) as info:
        recycle.customer_restore(actor=org["admin"], customer=customer)
    assert info.value.code == "ERR-012"
    assert "回收站重名公司" in info.value.message
    assert info.value.extra["duplicates"][0]["id"] == taker.pk
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    (entry,) = entries("customer.restore", customer.pk)
    assert (entry.result, entry.error_code) == ("denied", "ERR-012")


def test_restore_live_or_out_of_scope_customer_is_not_found(org, make_customer):
    live = make_customer(org["admin"], status="not_cooperating")
    with pytest.raises(NotFound):
        recycle.customer_restore(actor=org["admin"], customer=live)
    rep = rep_who_may_delete(org["team_a"])
    others = deleted_customer(make_customer, org["rep_b"], deleter=org["admin"])
    with pytest.raises(NotFound):
        recycle.customer_restore(actor=rep, customer=others)
    assert Customer.objects.get(pk=others.pk).deleted_at is not None
    own = deleted_customer(make_customer, rep)
    recycle.customer_restore(actor=rep, customer=own)
    assert Customer.objects.get(pk=own.pk).deleted_at is None


def test_restore_needs_delete_permission(org, make_customer):
    customer = deleted_customer(make_customer, org["rep_a"], deleter=org["admin"])
    with pytest.raises(PermissionDenied):
        recycle.customer_restore(actor=org["rep_a"], customer=customer)
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    assert entries("customer.restore", customer.pk)[0].result == "denied"


# --- purge ---------------------------------------------------------------------------------


def _fts_rowids(token: str) -> list[int]:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s",
            [f'"{token}"'],
        )
        return [row[0] for row in cur.fetchall()]


def test_purge_removes_row_children_and_search_index(org, make_customer):
    customer = deleted_customer(
        make_customer,
        org["admin"],
        name="彻底删除测试公司",
        email="purge.me@example.com",
        tags=["重点跟进"],
    )
    pk, code, mobile = customer.pk, customer.code, customer.mobile
    assert CustomerTag.objects.filter(customer_id=pk).exists()
    assert StatusChange.objects.filter(customer_id=pk).exists()
    if connection.vendor == "sqlite":
        assert pk in _fts_rowids("彻底")
    recycle.customer_purge(actor=org["data_admin"], customer=customer, reason="客户要求删除数据")
    assert not Customer.objects.filter(pk=pk).exists()
    assert not CustomerTag.objects.filter(customer_id=pk).exists()
    assert not StatusChange.objects.filter(customer_id=pk).exists()
    assert not Customer.objects.filter(search.token_filter([["彻底"]])).exists()
    if connection.vendor == "sqlite":
        assert pk not in _fts_rowids("彻底")
        with connection.cursor() as cur:  # the index agrees with its content table
            cur.execute(
                f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}) VALUES ('integrity-check')"
            )
    (entry,) = entries("customer.purge", pk)
    assert entry.result == "success" and entry.actor == org["data_admin"]
    assert entry.params["reason"] == "客户要求删除数据"
    assert (entry.params["code"], entry.params["name"]) == (code, "彻底删除测试公司")
    assert entry.object_type == "customer" and code in entry.object_repr
    logged = json.dumps(
        [entry.changes, entry.params, entry.object_repr], ensure_ascii=False, default=str
    )
    for value in (
        mobile,
        mask("mobile", mobile),
        "purge.me",
        mask("email", "purge.me@example.com"),
    ):
        assert value not in logged
    assert "张三" not in logged  # the contact person is personal data too


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 501])
def test_purge_needs_a_reason_and_changes_nothing(org, make_customer, reason):
    customer = deleted_customer(make_customer, org["admin"])
    with pytest.raises(ValidationError) as info:
        recycle.customer_purge(actor=org["admin"], customer=customer, reason=reason)
    assert "reason" in info.value.message_dict
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    (entry,) = entries("customer.purge", customer.pk)
    assert (entry.result, entry.error_code) == ("failed", "ERR-006")


def test_purge_needs_purge_permission_and_a_deleted_customer_in_scope(org, make_customer):
    customer = deleted_customer(make_customer, org["rep_a"], deleter=org["manager"])
    with pytest.raises(PermissionDenied):  # a manager may delete and restore, not purge
        recycle.customer_purge(actor=org["manager"], customer=customer, reason="清理")
    live = make_customer(org["admin"])
    with pytest.raises(NotFound):
        recycle.customer_purge(actor=org["admin"], customer=live, reason="清理")
    assert Customer.objects.filter(pk__in=[customer.pk, live.pk]).count() == 2
    assert [e.result for e in entries("customer.purge", customer.pk)] == ["denied"]


def test_purge_refused_while_business_records_point_at_the_customer(
    org, make_customer, monkeypatch
):
    customer = deleted_customer(make_customer, org["admin"])

    def protected(self, *args, **kwargs):
        raise ProtectedError("订单", set())

    monkeypatch.setattr(Customer, "delete", protected)
    with pytest.raises(DeleteRefused):
        recycle.customer_purge(actor=org["admin"], customer=customer, reason="清理")
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert entries("customer.purge", customer.pk)[0].error_code == "ERR-011"


def test_permission_seeded_for_admin_and_data_admin_only(org):
    holders = {key for key, user in org.items() if getattr(user, "has_perm", None)}
    may_purge = {key for key in holders if org[key].has_perm(recycle.PURGE_PERMISSION)}
    assert may_purge == {"admin", "data_admin"}


# --- retention job -------------------------------------------------------------------------


def test_purge_expired_purges_only_customers_past_retention(org, make_customer, settings):
    settings.GUANXI_RECYCLE_BIN_DAYS = 10
    now = timezone.now()
    old = [deleted_customer(make_customer, org["admin"]) for _ in range(3)]
    recent = deleted_customer(make_customer, org["admin"])
    live = make_customer(org["admin"])
    for customer in old:
        age(customer, 11, now)
    age(recent, 9, now)
    assert recycle.purge_expired(now=now, batch_size=2) == 3
    assert set(Customer.objects.values_list("pk", flat=True)) >= {recent.pk, live.pk}
    assert not Customer.objects.filter(pk__in=[c.pk for c in old]).exists()
    for customer in old:
        (entry,) = entries("customer.purge", customer.pk)
        assert entry.actor is None and entry.actor_username == ""
        assert entry.params["reason"] == "保留期满自动清除"
        assert entry.params["code"] == customer.code
    # Ten days later the recent one is due as well; nothing else is touched.
    assert recycle.purge_expired(now=now + dt.timedelta(days=1)) == 1
    assert list(
        Customer.objects.filter(pk__in=[recent.pk, live.pk]).values_list("pk", flat=True)
    ) == [live.pk]


def test_purge_expired_with_zero_days_keeps_everything(org, make_customer, settings):
    settings.GUANXI_RECYCLE_BIN_DAYS = 0
    customer = deleted_customer(make_customer, org["admin"])
    age(customer, 3650)
    assert recycle.purge_expired() == 0
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert recycle_selectors.purge_after(customer.deleted_at) is None


def test_purge_expired_skips_and_audits_a_customer_it_cannot_purge(
    org, make_customer, settings, monkeypatch
):
    settings.GUANXI_RECYCLE_BIN_DAYS = 1
    blocked, free = (deleted_customer(make_customer, org["admin"]) for _ in range(2))
    age(blocked, 2)
    age(free, 2)
    real_delete = Customer.delete

    def delete(self, *args, **kwargs):
        if self.pk == blocked.pk:
            raise ProtectedError("订单", set())
        return real_delete(self, *args, **kwargs)

    monkeypatch.setattr(Customer, "delete", delete)
    assert recycle.purge_expired() == 1
    assert Customer.objects.filter(pk=blocked.pk).exists()
    assert not Customer.objects.filter(pk=free.pk).exists()
    (failed,) = entries("customer.purge", blocked.pk)
    assert (failed.result, failed.error_code, failed.actor) == ("failed", "ERR-011", None)


def test_command_prints_how_many_were_purged(org, make_customer, settings):
    settings.GUANXI_RECYCLE_BIN_DAYS = 30
    customers = [deleted_customer(make_customer, org["admin"]) for _ in range(2)]
    age(customers[0], 31)
    out = StringIO()
    call_command("purge_recycle_bin", stdout=out)
    assert "purged 1 customer(s)" in out.getvalue()
    assert not Customer.objects.filter(pk=customers[0].pk).exists()
    assert Customer.objects.filter(pk=customers[1].pk).exists()
    settings.GUANXI_RECYCLE_BIN_DAYS = 0
    out = StringIO()
    call_command("purge_recycle_bin", stdout=out)
    assert "nothing is purged" in out.getvalue()


# --- pending reviews across delete and restore -----------------------------------------------


def test_deleting_a_pending_customer_withdraws_its_review_and_restore_restarts_it(
    org, make_customer
):
    from guanxi.customers import services
    from guanxi.workflow.models import ApprovalRequest

    pending = make_customer(org["rep_a"], reviewed=False, status="not_cooperating")
    requests = ApprovalRequest.objects.filter(object_type="customer", object_id=pending.pk)
    assert list(requests.values_list("status", flat=True)) == ["pending"]
    services.customer_delete(actor=org["manager"], customer=pending)
    assert list(requests.values_list("status", flat=True)) == ["cancelled"]

    # Restored by someone who may approve: approved outright, as on create.
    restored = recycle.customer_restore(actor=org["manager"], customer=pending)
    assert restored.review_status == "approved"
    assert requests.filter(status="pending").count() == 0


def test_restore_by_a_non_approver_starts_a_new_review(org, make_customer):
    from django.contrib.auth.models import Permission

    from guanxi.accounts.models import User
    from guanxi.customers import services
    from guanxi.workflow.models import ApprovalRequest

    pending = make_customer(org["rep_a"], reviewed=False, status="not_cooperating")
    services.customer_delete(actor=org["manager"], customer=pending)
    rep = org["rep_a"]
    rep.user_permissions.add(Permission.objects.get(codename="delete_customer"))
    rep = User.objects.get(pk=rep.pk)
    restored = recycle.customer_restore(actor=rep, customer=pending)
    assert restored.review_status == "pending"
    requests = ApprovalRequest.objects.filter(object_type="customer", object_id=pending.pk)
    assert requests.filter(status="pending").count() == 1

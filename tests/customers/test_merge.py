"""Merging duplicates: field choices, related rows moving, the merge record, scope, pages."""

from __future__ import annotations

import pytest

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.customers import merge, recycle, recycle_selectors, selectors, services
from guanxi.customers.models import Customer, CustomerMerge, CustomerTag, StatusChange
from guanxi.workflow.models import ApprovalRequest

pytestmark = pytest.mark.django_db


def pair(org, make_customer, **merged_fields):
    survivor = make_customer(
        org["admin"], name="深圳市华为技术有限公司", tags=["重点", "华南"], notes="老客户"
    )
    merged = make_customer(
        org["admin"],
        name="华为技术有限公司",
        tags=["重点", "渠道"],
        notes="展会获取",
        email="sales@huawei.example.com",
        **merged_fields,
    )
    return survivor, merged


def related_counts(*customers):
    tags = set(CustomerTag.objects.filter(customer__in=customers).values_list("tag_id", flat=True))
    return {"tags": len(tags)}


def test_merge_moves_related_rows_and_keeps_a_record(org, make_customer):
    survivor, merged = pair(org, make_customer)
    before = related_counts(survivor, merged)
    record = merge.customer_merge(
        actor=org["data_admin"],
        survivor=survivor,
        merged=merged,
        choices={"name": "merged", "email": "merged"},
        reason="同一家公司",
    )
    survivor.refresh_from_db()
    gone = Customer.objects.get(pk=merged.pk)
    # The winning values, including the merged record's name, now freed.
    assert survivor.name == "华为技术有限公司"
    assert survivor.email == "sales@huawei.example.com"
    assert survivor.notes == "老客户\n\n展会获取"  # both notes kept by default
    # Every tag of either record is on the survivor, once.
    assert related_counts(survivor) == before
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["华南", "渠道", "重点"]
    assert not CustomerTag.objects.filter(customer=gone).exists()
    # The merged record leaves the live set, stays inspectable, is not in the bin.
    assert gone.deleted_at is not None and gone.merged_into_id == survivor.pk
    assert not Customer.objects.alive().filter(pk=gone.pk).exists()
    assert not recycle_selectors.recycle_bin_queryset(org["admin"]).filter(pk=gone.pk).exists()
    with pytest.raises(NotFound):
        selectors.customer_get(user=org["admin"], pk=gone.pk)
    # The record: choices, snapshots (masked), counts.
    assert record.field_choices["name"] == "merged"
    assert record.merged_before["name"] == "华为技术有限公司"
    assert "sales@huawei" not in str(record.merged_before)  # masked, no plaintext
    # The merged record's primary contact moves too (demoted: the survivor keeps its own).
    assert record.moved == {"customers.CustomerTag": 1, "customers.Contact": 1}
    # Audited on both records.
    entry = AuditEntry.objects.get(action="customer.merge", object_id=str(survivor.pk))
    assert entry.params["merged_id"] == gone.pk and entry.params["merge_id"] == record.pk
    assert "name" in entry.changes
    assert AuditEntry.objects.filter(action="customer.merged_into", object_id=str(gone.pk)).exists()


def test_status_history_stays_with_merged_and_status_change_is_recorded(org, make_customer):
    survivor, merged = pair(org, make_customer)
    services.customer_change_status(actor=org["admin"], customer=merged, status="cooperating")
    merged_history = StatusChange.objects.filter(customer=merged).count()
    merge.customer_merge(
        actor=org["admin"], survivor=survivor, merged=merged, choices={"status": "merged"}
    )
    survivor.refresh_from_db()
    assert survivor.status == "cooperating"
    assert StatusChange.objects.filter(customer=merged).count() == merged_history
    last = StatusChange.objects.filter(customer=survivor).first()
    assert (last.from_status, last.to_status) == ("potential", "cooperating")


def test_defaults_fill_empty_survivor_fields(org, make_customer):
    survivor, merged = pair(org, make_customer)
    choices = merge.default_choices(survivor, merged)
    assert choices["email"] == "merged"  # survivor has none
    assert choices["mobile"] == "survivor"
    assert choices["notes"] == "both"


def test_merge_needs_permission_and_write_scope(org, make_customer):
    survivor, merged = pair(org, make_customer)
    with pytest.raises(PermissionDenied):
        merge.customer_merge(actor=org["manager"], survivor=survivor, merged=merged)
    assert AuditEntry.objects.filter(action="customer.merge", result="denied").exists()
    with pytest.raises(Exception, match="自身"):
        merge.customer_merge(actor=org["admin"], survivor=survivor, merged=survivor)
    assert Customer.objects.alive().filter(pk__in=[survivor.pk, merged.pk]).count() == 2


def test_bad_choices_and_inconsistent_results_are_refused(org, make_customer):
    from django.core.exceptions import ValidationError

    survivor, merged = pair(org, make_customer)
    with pytest.raises(ValidationError):
        merge.customer_merge(
            actor=org["admin"], survivor=survivor, merged=merged, choices={"code": "merged"}
        )
    person = make_customer(org["admin"], customer_type="individual", contact_name="王五")
    company = make_customer(org["admin"], uscc="914403001922038216")
    with pytest.raises(ValidationError):
        merge.customer_merge(
            actor=org["admin"],
            survivor=company,
            merged=person,
            choices={"customer_type": "merged"},
        )
    assert Customer.objects.alive().filter(pk__in=[person.pk, company.pk]).count() == 2


def test_merge_cancels_pending_requests_of_the_merged_record(org, make_customer):
    survivor = make_customer(org["admin"])
    pending = make_customer(org["rep_a"], reviewed=False)
    merge.customer_merge(actor=org["admin"], survivor=survivor, merged=pending)
    statuses = set(
        ApprovalRequest.objects.filter(object_type="customer", object_id=pending.pk).values_list(
            "status", flat=True
        )
    )
    assert "pending" not in statuses


def test_purging_the_survivor_takes_merged_records_along(org, make_customer):
    survivor, merged = pair(org, make_customer, status="not_cooperating")
    survivor_status = {"status": "merged"}
    merge.customer_merge(
        actor=org["admin"], survivor=survivor, merged=merged, choices=survivor_status
    )
    services.customer_delete(actor=org["admin"], customer=Customer.objects.get(pk=survivor.pk))
    recycle.customer_purge(
        actor=org["admin"], customer=Customer.objects.get(pk=survivor.pk), reason="测试"
    )
    assert not Customer.objects.filter(pk__in=[survivor.pk, merged.pk]).exists()
    assert not CustomerMerge.objects.exists()


# --- HTTP ----------------------------------------------------------------------------------


def test_api_merge_and_record(org, make_customer, client_for):
    survivor, merged = pair(org, make_customer)
    client = client_for(org["data_admin"])
    response = client.post(
        f"/api/v1/customers/{survivor.pk}/merge",
        {"merged_id": merged.pk, "fields": {"email": "merged"}, "reason": "同一家"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["merge"]["merged_id"] == merged.pk
    assert body["merge"]["moved"] == {"customers.CustomerTag": 1, "customers.Contact": 1}
    assert body["customer"]["id"] == survivor.pk
    record = client.get(f"/api/v1/customer-merges/{body['merge']['id']}")
    assert record.status_code == 200 and record.json()["reason"] == "同一家"
    # The merged id is gone from the API.
    assert client.get(f"/api/v1/customers/{merged.pk}").status_code == 404
    again = client.post(
        f"/api/v1/customers/{survivor.pk}/merge",
        {"merged_id": merged.pk},
        content_type="application/json",
    )
    assert again.status_code == 404


def test_api_merge_refusals(org, make_customer, client_for):
    survivor = make_customer(org["rep_a"])
    merged = make_customer(org["rep_a"])
    rep = client_for(org["rep_a"])  # sees both, may not merge
    response = rep.post(
        f"/api/v1/customers/{survivor.pk}/merge",
        {"merged_id": merged.pk},
        content_type="application/json",
    )
    assert response.status_code == 403
    admin = client_for(org["admin"])
    bad = admin.post(
        f"/api/v1/customers/{survivor.pk}/merge",
        {"merged_id": merged.pk, "fields": {"email": "neither"}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert Customer.objects.alive().filter(pk=merged.pk).exists()


def test_duplicates_report_and_merge_pages(org, make_customer, client_for):
    survivor, merged = pair(org, make_customer)
    client = client_for(org["data_admin"])
    report = client.get("/customers/duplicates/")
    assert report.status_code == 200
    html = report.content.decode()
    assert html.count('data-testid="duplicate-group"') == 1
    assert survivor.code in html and merged.code in html
    assert client.get("/customers/duplicates/?key=nope").status_code == 404

    page = client.get(f"/customers/merge/?survivor={survivor.pk}&merged={merged.pk}")
    assert page.status_code == 200
    assert 'data-testid="merge-table"' in page.content.decode()
    done = client.post(
        "/customers/merge/",
        {"survivor": survivor.pk, "merged": merged.pk, "choice_name": "merged", "reason": "同一家"},
    )
    assert done.status_code == 302
    record = CustomerMerge.objects.get()
    assert done["Location"] == f"/customers/merges/{record.pk}/"
    shown = client.get(done["Location"])
    assert shown.status_code == 200 and merged.code in shown.content.decode()
    detail = client.get(f"/customers/{survivor.pk}/")
    assert f"/customers/merges/{record.pk}/" in detail.content.decode()
    assert client.get("/customers/duplicates/").content.decode().count("duplicate-group") == 0


def test_pages_refuse_users_without_merge_permission(org, make_customer, client_for):
    survivor, merged = pair(org, make_customer)
    client = client_for(org["manager"])  # no merge permission
    assert client.get("/customers/duplicates/").status_code == 403
    assert (
        client.get(f"/customers/merge/?survivor={survivor.pk}&merged={merged.pk}").status_code
        == 403
    )


def test_merge_stays_within_the_write_scope(org, make_customer):
    from django.contrib.auth.models import Permission

    from guanxi.accounts.models import Role, User

    Role.objects.get(code="sales_manager").permissions.add(
        Permission.objects.get(codename="merge_customer")
    )
    manager = User.objects.get(pk=org["manager"].pk)  # fresh permission cache
    mine_a, mine_b = make_customer(org["rep_a"]), make_customer(org["rep_b"])
    head_office = make_customer(org["admin"])
    with pytest.raises(NotFound):
        merge.customer_merge(actor=manager, survivor=mine_a, merged=head_office)
    assert Customer.objects.alive().filter(pk=head_office.pk).exists()
    record = merge.customer_merge(actor=manager, survivor=mine_a, merged=mine_b)
    assert record.survivor_id == mine_a.pk


def test_duplicates_report_reads_all_groups_in_two_queries(
    org, make_customer, django_assert_num_queries
):
    from guanxi.customers import merge_selectors

    for trade in ("华为技术", "明远精密", "星辰数码"):
        make_customer(org["admin"], name=f"深圳市{trade}有限公司")
        make_customer(org["admin"], name=f"{trade}（深圳）股份有限公司")
    merge_selectors.duplicate_groups(org["data_admin"], "name_core")  # permissions cached
    with django_assert_num_queries(2):  # the groups, then their members
        groups, more = merge_selectors.duplicate_groups(org["data_admin"], "name_core")
        assert [len(g.members) for g in groups] == [2, 2, 2] and not more

"""The tallies stay equal to a fresh count through every write path: services, raw bulk
statements, recycle bin and restore, merge, import, follow-ups and status changes."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from guanxi.customers import follow_ups, merge
from guanxi.customers.models import Customer, FollowUp, StatusChange
from guanxi.customers.recycle import customer_restore
from guanxi.customers.services import customer_change_status, customer_delete, customer_update
from guanxi.reports import selectors, tally_admin
from guanxi.reports.models import CustomerTally

from ..dataio.import_support import TEMPLATE_HEADERS, run, write_csv
from .support import assert_tallies_fresh, customers_in, seed, today

pytestmark = pytest.mark.django_db


def _reports_agree(org) -> None:
    """Tally-backed answers equal the direct aggregate (a filter that narrows nothing
    forces the direct path: review_status is one of its values for every customer)."""
    assert_tallies_fresh()
    start = today() - dt.timedelta(days=40)
    for who in ("admin", "manager", "rep_a"):
        user = org[who]
        for by in selectors.DISTRIBUTION_DIMENSIONS:
            tallied = selectors.customer_distribution(user=user, by=by)
            assert tallied["total"] == customers_in(org, who).count()
        growth = selectors.customer_growth(
            user=user, period="week", date_from=start, date_to=today()
        )
        assert (
            growth["new_total"]
            == customers_in(org, who).filter(created_at__gte=selectors.local_start(start)).count()
        )


def _fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def test_service_edits_of_every_dimension(org, make_customer):
    made = seed(org, make_customer)
    customer = _fresh(made[1])
    customer_update(
        actor=org["admin"],
        customer=customer,
        version=customer.version,
        data={
            "category": "vip",
            "industry": "F",
            "source": "exhibition",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
        },
    )
    _reports_agree(org)
    rows = CustomerTally.objects.filter(dimension="city", value="浙江省/杭州市")
    assert sum(rows.values_list("n", flat=True)) == 2


def test_owner_transfer_moves_customers_follow_ups_and_status_changes(org, make_customer):
    made = seed(org, make_customer)
    customer = _fresh(made[0])
    customer_update(
        actor=org["admin"],
        customer=customer,
        version=customer.version,
        data={"owner_id": org["rep_b"].pk},
    )
    _reports_agree(org)
    # A raw bulk statement (as a mass transfer would run) is counted too.
    Customer.objects.filter(owner=org["rep_a"]).update(
        owner=org["manager"], department=org["sales"]
    )
    _reports_agree(org)
    span = {"date_from": today() - dt.timedelta(days=10), "date_to": today()}
    rep_a = selectors.follow_up_activity(user=org["rep_a"], by="owner", **span)
    assert rep_a["total"] == 0


def test_status_changes_recycle_bin_restore_and_purge(org, make_customer):
    made = seed(org, make_customer)
    customer = _fresh(made[7])
    customer_change_status(actor=org["admin"], customer=customer, status="not_cooperating")
    _reports_agree(org)
    customer_delete(actor=org["admin"], customer=_fresh(customer))
    _reports_agree(org)
    report = selectors.status_transitions(user=org["admin"], date_from=today(), date_to=today())
    assert report["total"] == StatusChange.objects.filter(customer__deleted_at=None).count()
    customer_restore(actor=org["admin"], customer=_fresh(customer))
    _reports_agree(org)
    customer_delete(actor=org["admin"], customer=_fresh(customer))
    Customer.objects.filter(pk=customer.pk).delete()  # purged for good
    _reports_agree(org)


def test_merge(org, make_customer):
    made = seed(org, make_customer)
    merge.customer_merge(actor=org["data_admin"], survivor=_fresh(made[6]), merged=_fresh(made[7]))
    _reports_agree(org)
    assert FollowUp.objects.filter(customer=made[6]).count() == 3


def test_follow_up_create_edit_and_delete(org, make_customer):
    made = seed(org, make_customer)
    created = follow_ups.follow_up_create(
        actor=org["rep_a"],
        customer_id=made[0].pk,
        data={"method": "电话", "content": "再次沟通", "followed_at": timezone.now()},
    )
    _reports_agree(org)
    FollowUp.objects.filter(pk=created.pk).update(followed_at=timezone.now() - dt.timedelta(days=5))
    _reports_agree(org)
    FollowUp.objects.filter(pk=created.pk).update(deleted_at=timezone.now())
    _reports_agree(org)
    FollowUp.objects.filter(customer=made[1]).delete()
    _reports_agree(org)


def test_import_counts_every_new_customer(org, tmp_path):
    rows = [TEMPLATE_HEADERS]
    for n in range(5):
        row = dict.fromkeys(TEMPLATE_HEADERS, "")
        row.update(
            {
                "客户名称": f"报表导入{n}科技有限公司",
                "客户类型": "企业客户",
                "联系人": "王小明",
                "手机号": f"1390001{n:04d}",
                "客户来源": "展会",
            }
        )
        rows.append([row[h] for h in TEMPLATE_HEADERS])
    batch = run(org["data_admin"], write_csv(tmp_path / "c.csv", rows))
    assert batch.created_count == 5
    _reports_agree(org)
    report = selectors.customer_distribution(user=org["admin"], by="source")
    assert report["total"] == 5


def test_a_chunked_import_and_its_undo_keep_every_tally(org, tmp_path, settings, make_customer):
    """Import rows are counted per chunk in bulk (SQLite) or by the statement triggers
    (PostgreSQL); undoing the batch takes them out again."""
    settings.GUANXI_IMPORT_CHUNK_ROWS = 100
    seed(org, make_customer)
    places = [
        "浙江省杭州市西湖区文三路1号",
        "广东省深圳市南山区科技园",
        "北京市海淀区中关村大街1号",
    ]
    rows = [TEMPLATE_HEADERS]
    for n in range(250):
        row = dict.fromkeys(TEMPLATE_HEADERS, "")
        row.update(
            {
                "客户名称": f"分块导入{n:03d}有限公司",
                "客户类型": "个人客户" if n % 4 == 0 else "企业客户",
                "所属行业": ["批发和零售业", "制造业", ""][n % 3],
                "联系人": "李雷",
                "手机号": f"1390002{n:04d}",
                "客户来源": ["展会", "网络推广"][n % 2],
                "地址": places[n % 3],
            }
        )
        rows.append([row[h] for h in TEMPLATE_HEADERS])
    batch = run(org["data_admin"], write_csv(tmp_path / "chunks.csv", rows))
    assert batch.created_count == 250
    _reports_agree(org)
    from guanxi.dataio import import_services

    import_services.import_undo(actor=org["data_admin"], batch=batch)
    assert not Customer.objects.filter(import_batch=batch).exists()
    _reports_agree(org)


def test_verify_reports_and_rebuild_repairs_a_drift(org, make_customer):
    seed(org, make_customer)
    CustomerTally.objects.filter(dimension="status").update(n=99)
    result = tally_admin.verify()
    assert not result.ok and result.differences
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("reports_tally", "--verify", stdout=out)
    assert "reports_customertally" in out.getvalue()
    outcome = tally_admin.verify_and_repair()
    assert outcome["rebuilt"] and outcome["differences"]
    assert_tallies_fresh()
    out = StringIO()
    call_command("reports_tally", "--verify", stdout=out)
    assert "0" in out.getvalue()


def test_missing_triggers_are_reported_and_reinstalled(org, make_customer):
    tally_admin.uninstall()
    assert not tally_admin.installed()
    assert tally_admin.verify().triggers_missing
    call_command("reports_tally", "--rebuild", stdout=StringIO())
    assert tally_admin.installed()
    seed(org, make_customer)
    assert_tallies_fresh()

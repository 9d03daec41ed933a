"""Customer imports through the real engine with real files: the template companies use,
dry run and preview, duplicates per mode and within the file, scope, resume, undo, CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import DomainError
from guanxi.customers.models import Contact, Customer
from guanxi.dataio import engine, import_services
from guanxi.dataio.models import ImportBatch, ImportStatus

from .import_support import TEMPLATE_HEADERS, dry_run, issues, run, upload, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

GOOD = [
    "杭州西湖茶业有限公司",
    "企业客户",
    "批发和零售业",
    "王小明",
    "采购经理",
    "13800138001",
    "wang@example.com",
    "展会",
    "重点、华东",
    "浙江省杭州市西湖区文三路90号",
    "老客户",
]


def _row(n: int, **changes: str) -> list[str]:
    row = dict(zip(TEMPLATE_HEADERS, GOOD, strict=True))
    row["客户名称"] = f"导入测试{n:04d}科技有限公司"
    row["手机号"] = f"1390000{n:04d}"
    row["邮箱"] = f"user{n}@example.com"
    row.update(changes)
    return [row[h] for h in TEMPLATE_HEADERS]


def test_template_columns_import_without_mapping(org, tmp_path):
    path = write_xlsx(tmp_path / "客户.xlsx", [TEMPLATE_HEADERS, GOOD])
    out = StringIO()
    call_command(
        "import", "customers", str(path), "--json", "--as", org["data_admin"].username, stdout=out
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["rows"] == 1 and summary["created"] == 1 and summary["errors"] == 0
    assert set(summary) == {
        "rows",
        "created",
        "updated",
        "skipped",
        "errors",
        "batch_id",
        "seconds",
    }
    customer = Customer.objects.get(name="杭州西湖茶业有限公司")
    assert (customer.province, customer.city, customer.district) == ("浙江省", "杭州市", "西湖区")
    assert customer.address == "文三路90号"
    assert (customer.industry, customer.source) == ("F", "exhibition")
    assert customer.mobile == "13800138001" and customer.email == "wang@example.com"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["华东", "重点"]
    assert customer.import_batch_id == summary["batch_id"]
    contact = Contact.objects.get(customer=customer, is_primary=True)
    assert (contact.name, contact.title, contact.mobile) == ("王小明", "采购经理", "13800138001")
    entry = AuditEntry.objects.filter(action="import.run").latest("id")
    assert entry.params["created"] == 1 and entry.actor == org["data_admin"]


def test_dry_run_marks_bad_cells_and_writes_nothing(org, tmp_path):
    rows = [TEMPLATE_HEADERS, _row(1), _row(2, 手机号="1380013800"), _row(3, 所属行业="外星产业")]
    batch = dry_run(org["data_admin"], write_csv(tmp_path / "a.csv", rows))
    assert batch.status == ImportStatus.VALIDATED
    assert batch.dry_run == {
        "rows": 3,
        "create": 1,
        "update": 0,
        "skip": 0,
        "errors": 2,
        "flagged": 0,
    }
    assert not Customer.objects.exists()
    bad = {p["row"]: p for p in batch.preview}
    mobile_col = str(TEMPLATE_HEADERS.index("手机号"))
    assert mobile_col in bad[3]["errors"] and bad[3]["action"] == "error"
    assert "外星产业" in bad[4]["errors"][str(TEMPLATE_HEADERS.index("所属行业"))][0]
    assert bad[2]["errors"] == {} and bad[2]["action"] == "create"
    assert [(r, c) for r, c, _m in issues(batch)] == [(3, "手机号"), (4, "所属行业")]


def test_missing_required_column_is_refused_at_mapping(org, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["客户名称", "手机号"], ["某某有限公司", "13800138000"]])
    batch = import_services.import_upload(
        actor=org["data_admin"], object_type="customer", source=path, file_name="a.csv"
    )
    with pytest.raises(Exception) as info:
        import_services.import_configure(
            actor=org["data_admin"], batch=batch, mapping_data=batch.mapping, dedupe="skip"
        )
    assert "联系人" in str(info.value)


def test_within_file_duplicates_are_skipped_with_the_first_row_named(org, tmp_path, settings):
    settings.GUANXI_IMPORT_CHUNK_ROWS = 100
    rows = [TEMPLATE_HEADERS] + [_row(n) for n in range(1, 151)]
    rows.append(_row(999, 手机号="13900000129"))  # row 152: same mobile as row 130 (same chunk)
    rows.append(_row(50))  # row 153: same name as row 51 (an earlier chunk)
    batch = run(org["data_admin"], write_csv(tmp_path / "a.csv", rows))
    assert (batch.created_count, batch.skipped_count, batch.error_count) == (150, 2, 0)
    skipped = dict((r, m) for r, _c, m in issues(batch, "skipped"))
    assert "第 130 行" in skipped[152]
    assert "较早的一行" in skipped[153]
    assert Customer.objects.count() == 150


@pytest.mark.parametrize("mode", ["skip", "update", "create"])
def test_duplicate_modes(org, tmp_path, make_customer, mode):
    existing = make_customer(org["data_admin"], name="已有客户有限公司", mobile="13900000001")
    other = make_customer(org["data_admin"], name="另一家有限公司", mobile="13700000000")
    rows = [
        TEMPLATE_HEADERS,
        _row(1, 备注="新备注"),  # same mobile as ``existing``
        _row(2, 客户名称="另一家有限公司", 手机号="13600000000"),  # same name as ``other``
        _row(3),
    ]
    batch = run(org["data_admin"], write_csv(tmp_path / "a.csv", rows), dedupe=mode)
    existing.refresh_from_db()
    if mode == "skip":
        assert (batch.created_count, batch.skipped_count, batch.updated_count) == (1, 2, 0)
        assert existing.notes != "新备注"
    elif mode == "update":
        assert (batch.created_count, batch.updated_count) == (1, 2)
        assert existing.notes == "新备注" and existing.name == "已有客户有限公司"
        other.refresh_from_db()
        assert other.mobile == "13600000000"
    else:
        # A same-mobile row is created and flagged; a same-name row cannot be created.
        assert (batch.created_count, batch.flagged_count, batch.error_count) == (2, 1, 1)
        flagged = batch.issues.get(kind="flagged")
        assert flagged.matched_id == existing.pk and flagged.row_number == 2
        assert "不能新建" in issues(batch)[0][2]


def test_rep_cannot_update_or_see_another_reps_customer(org, tmp_path, make_customer):
    theirs = make_customer(org["rep_b"], name="别人的客户有限公司", mobile="13900000001")
    rows = [TEMPLATE_HEADERS, _row(1)]
    skipped = run(org["rep_a"], write_csv(tmp_path / "a.csv", rows), dedupe="skip")
    message = issues(skipped, "skipped")[0][2]
    assert "不在您的数据范围内" in message and theirs.name not in message
    updated = run(org["rep_a"], write_csv(tmp_path / "b.csv", rows), dedupe="update")
    assert updated.error_count == 1 and "不在您可修改的数据范围内" in issues(updated)[0][2]
    theirs.refresh_from_db()
    assert theirs.notes == "" and theirs.owner == org["rep_b"]


def test_rep_import_is_pending_review_and_owned_by_the_rep(org, tmp_path):
    batch = run(org["rep_a"], write_csv(tmp_path / "a.csv", [TEMPLATE_HEADERS, _row(1)]))
    customer = Customer.objects.get(import_batch=batch)
    assert customer.owner == org["rep_a"] and customer.department == org["team_a"]
    assert customer.review_status == "pending"


def test_a_failed_chunk_leaves_whole_chunks_and_resume_completes(
    org, tmp_path, settings, monkeypatch
):
    settings.GUANXI_IMPORT_CHUNK_ROWS = 100
    rows = [TEMPLATE_HEADERS] + [_row(n) for n in range(1, 251)]
    path = write_csv(tmp_path / "a.csv", rows)
    batch = upload(org["data_admin"], path)
    import_services.import_start(actor=org["data_admin"], batch=batch, queue=False)
    from guanxi.dataio.importers.customers import CustomerImporter

    real_write = CustomerImporter.write
    calls = {"n": 0}

    def failing_write(self, chunk):
        calls["n"] += 1
        real_write(self, chunk)  # the rows are written ...
        if calls["n"] == 2:
            raise RuntimeError("disk full")  # ... and the chunk's transaction rolls back

    monkeypatch.setattr(CustomerImporter, "write", failing_write)
    with pytest.raises(RuntimeError):
        engine.run_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED and "disk full" in batch.failure
    assert (batch.rows_done, batch.last_row) == (100, 101)
    assert Customer.objects.filter(import_batch=batch).count() == 100
    monkeypatch.setattr(CustomerImporter, "write", real_write)
    import_services.import_resume(actor=org["data_admin"], batch=batch, queue=False)
    batch = engine.run_batch(batch.pk)
    assert batch.status == ImportStatus.DONE and batch.created_count == 250
    names = list(Customer.objects.filter(import_batch=batch).values_list("name", flat=True))
    assert len(names) == len(set(names)) == 250


def test_restart_removes_what_the_stopped_run_wrote(org, tmp_path, settings):
    settings.GUANXI_IMPORT_CHUNK_ROWS = 100
    path = write_csv(tmp_path / "a.csv", [TEMPLATE_HEADERS] + [_row(n) for n in range(1, 151)])
    batch = upload(org["data_admin"], path)
    import_services.import_start(actor=org["data_admin"], batch=batch, queue=False)
    engine.run_batch(batch.pk)
    # A worker that died mid-run: still "running", no heartbeat for long.
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    batch.refresh_from_db()
    import_services.import_restart(actor=org["data_admin"], batch=batch, queue=False)
    assert not Customer.objects.filter(import_batch=batch).exists()
    batch = engine.run_batch(batch.pk)
    assert batch.created_count == 150 and Customer.objects.count() == 150


def test_undo_removes_created_and_restores_updated(org, tmp_path, make_customer):
    existing = make_customer(
        org["data_admin"], name="已有客户有限公司", mobile="13900000001", notes="原备注"
    )
    rows = [TEMPLATE_HEADERS, _row(1, 备注="新备注", 邮箱="new@example.com"), _row(2)]
    batch = run(org["data_admin"], write_csv(tmp_path / "a.csv", rows), dedupe="update")
    assert (batch.created_count, batch.updated_count) == (1, 1)
    result = import_services.import_undo(actor=org["data_admin"], batch=batch)
    assert result == {"removed": 1, "restored": 1}
    existing.refresh_from_db()
    assert existing.notes == "原备注" and existing.email != "new@example.com"
    assert not Customer.objects.filter(import_batch=batch).exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.UNDONE
    assert AuditEntry.objects.filter(action="import.undo", object_id=str(batch.pk)).exists()


def test_undo_refused_after_a_change_or_the_deadline(org, tmp_path, settings):
    batch = run(org["data_admin"], write_csv(tmp_path / "a.csv", [TEMPLATE_HEADERS, _row(1)]))
    Customer.objects.filter(import_batch=batch).update(version=2)
    with pytest.raises(Exception, match="已被修改"):
        import_services.import_undo(actor=org["data_admin"], batch=batch)
    Customer.objects.filter(import_batch=batch).update(version=1)
    ImportBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now() - timedelta(days=8))
    batch.refresh_from_db()
    with pytest.raises(DomainError) as info:
        import_services.import_undo(actor=org["data_admin"], batch=batch)
    assert info.value.code == "ERR-025"
    assert Customer.objects.filter(import_batch=batch).count() == 1


def test_gbk_csv(org, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [TEMPLATE_HEADERS, _row(1), _row(2)], encoding="gbk")
    batch = run(org["data_admin"], path)
    assert batch.encoding in ("gb18030", "gbk") and batch.created_count == 2
    assert Customer.objects.filter(name="导入测试0001科技有限公司").exists()


def test_round_trip_export_then_import_with_update_keeps_every_field(org, tmp_path, make_customer):
    from guanxi.dataio.customer_export import customer_export

    admin = org["data_admin"]
    make_customer(
        admin,
        name="往返测试一有限公司",
        mobile="13900000011",
        email="a@example.com",
        uscc="91350100M000100Y43",
        notes="备注=1+1",
        tags=["重点"],
    )
    make_customer(
        admin,
        name="张三",
        customer_type="individual",
        mobile="13900000012",
        phone="0571-87654321",
        category="vip",
        source="referral",
        status="cooperating",
    )
    fields = [
        "code",
        "name",
        "customer_type",
        "contact_name",
        "mobile",
        "phone",
        "email",
        "uscc",
        "province",
        "city",
        "district",
        "address",
        "industry",
        "category",
        "source",
        "status",
        "notes",
        "owner_id",
        "department_id",
        "created_at",
    ]
    before = {
        c.code: {f: getattr(c, f) for f in fields}
        | {"tags": sorted(c.tags.values_list("name", flat=True))}
        for c in Customer.objects.all()
    }
    exported = customer_export(actor=admin, params={}, fmt="xlsx")
    path = tmp_path / "export.xlsx"
    path.write_bytes(exported.file.read())
    for customer in Customer.objects.all():
        customer.delete()  # an empty database (the hard way)
    assert not Customer.objects.exists()
    batch = run(admin, path, dedupe="update")
    assert batch.error_count == 0, issues(batch)
    after = {
        c.code: {f: getattr(c, f) for f in fields}
        | {"tags": sorted(c.tags.values_list("name", flat=True))}
        for c in Customer.objects.all()
    }
    for code, values in before.items():
        values["created_at"] = values["created_at"].replace(microsecond=0)
        after[code]["created_at"] = after[code]["created_at"].replace(microsecond=0)
    assert after == before

"""Follow-up imports through the real engine with real files: attaching to customers within
scope, contacts by name, dictionaries by label or code, per-cell errors, duplicates per
mode and within the file, the customers' follow-up stamps, undo, the command line."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.customers import contacts, follow_ups
from guanxi.customers.models import Customer, FollowUp
from guanxi.dataio import engine, import_services
from guanxi.dataio.models import ImportStatus, ImportUpdate

from .import_support import dry_run, issues, run, upload, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

HEADERS = [
    "客户编号",
    "客户名称",
    "跟进时间",
    "跟进方式",
    "联系人",
    "跟进内容",
    "跟进结果",
    "跟进人",
    "下次跟进时间",
    "下次跟进计划",
]


def _row(code: str = "", name: str = "", **values: str) -> list[str]:
    row = dict.fromkeys(HEADERS, "") | {"客户编号": code, "客户名称": name} | values
    return [row[h] for h in HEADERS]


def _good(code: str, when: str = "2024-05-01 14:30", **values: str) -> list[str]:
    return _row(
        code, **({"跟进时间": when, "跟进方式": "电话", "跟进内容": "沟通采购计划"} | values)
    )


def _local(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text))


def test_cli_imports_history_and_keeps_customer_stamps(org, tmp_path, make_customer):
    admin = org["data_admin"]
    customer = make_customer(admin, name="西湖茶业有限公司")
    li = contacts.contact_create(actor=admin, customer_id=customer.pk, data={"name": "李四"})
    rows = [
        HEADERS,
        _good(
            customer.code,
            "2024/5/1 9:30",
            联系人="李四",
            跟进结果="需求确认",
            跟进人=org["rep_a"].username,
        ),
        _row(
            "",
            "西湖茶业 有限公司",
            跟进时间="2024-06-02",
            跟进方式="visit",
            跟进内容="上门拜访，确认交期",
            跟进结果="quote",
            下次跟进时间="2024-06-09 10:00",
            下次跟进计划="送样品",
        ),
    ]
    path = write_xlsx(tmp_path / "跟进.xlsx", rows)
    out = StringIO()
    call_command("import", "follow-ups", str(path), "--json", "--as", admin.username, stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (summary["rows"], summary["created"], summary["errors"]) == (2, 2, 0)
    first, second = FollowUp.objects.filter(customer=customer).order_by("followed_at")
    assert first.followed_at == _local("2024-05-01T09:30")
    assert (first.method, first.result, first.contact_id) == ("phone", "requirement", li.pk)
    assert first.owner == org["rep_a"] and first.created_by == admin
    assert second.followed_at == _local("2024-06-02T00:00") and second.owner == admin
    assert (second.method, second.result, second.next_plan) == ("visit", "quote", "送样品")
    assert second.import_batch_id == summary["batch_id"]
    customer.refresh_from_db()
    assert customer.last_follow_up_at == second.followed_at
    assert customer.next_follow_up_at == _local("2024-06-09T10:00")
    entry = AuditEntry.objects.filter(action="follow_up.import").latest("id")
    assert entry.params["created"] == 2


def test_dry_run_names_each_bad_cell(org, tmp_path, make_customer):
    admin = org["data_admin"]
    customer = make_customer(admin)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    rows = [
        HEADERS,
        _good(customer.code),
        _good(customer.code, tomorrow),
        _good(customer.code, "上周五"),
        _good(customer.code, 跟进方式="飞鸽传书"),
        _good(customer.code, 跟进结果="大概成了"),
        _good(customer.code, 跟进内容=""),
        _good(customer.code, 联系人="不存在的人"),
        _good(customer.code, 跟进人="nobody-here"),
        _good(customer.code, 下次跟进时间="2024-04-30"),
        _good("C-NOPE", 跟进方式="飞鸽传书"),
    ]
    path = write_csv(tmp_path / "a.csv", rows)
    batch = dry_run(admin, path, object_type="follow_up")
    assert batch.dry_run["create"] == 1 and batch.dry_run["errors"] == 9
    cells = {(r, c): m for r, c, m in issues(batch)}
    assert "不能晚于当前时间" in cells[(3, "跟进时间")]
    assert "不是有效的日期" in cells[(4, "跟进时间")]
    assert "飞鸽传书" in cells[(5, "跟进方式")] and "大概成了" in cells[(6, "跟进结果")]
    assert "请填写跟进内容" in cells[(7, "跟进内容")]
    assert "不存在的人" in cells[(8, "联系人")]
    assert "找不到跟进人" in cells[(9, "跟进人")]
    assert "晚于本次跟进时间" in cells[(10, "下次跟进时间")]
    assert {c for r, c, _m in issues(batch) if r == 11} == {"客户编号", "跟进方式"}
    assert not FollowUp.objects.exists()


def test_method_column_is_required_at_mapping(org, tmp_path):
    path = write_csv(
        tmp_path / "a.csv", [["客户名称", "跟进时间", "跟进内容"], ["某公司", "2024-05-01", "x"]]
    )
    batch = import_services.import_upload(
        actor=org["data_admin"], object_type="follow_up", source=path, file_name="a.csv"
    )
    with pytest.raises(Exception, match="跟进方式"):
        import_services.import_configure(
            actor=org["data_admin"], batch=batch, mapping_data=batch.mapping, dedupe="skip"
        )


def test_a_rep_imports_for_own_customers_and_own_name_only(org, tmp_path, make_customer):
    rep = org["rep_a"]
    mine = make_customer(rep, name="我的客户有限公司")
    theirs = make_customer(org["rep_b"], name="别人的客户有限公司")
    rows = [
        HEADERS,
        _good(mine.code),
        _good(theirs.code),
        _good("", 客户名称=theirs.name),
        _good(mine.code, "2024-05-02", 跟进人=org["rep_b"].username),
    ]
    batch = run(rep, write_csv(tmp_path / "a.csv", rows), object_type="follow_up")
    assert (batch.created_count, batch.error_count) == (1, 3)
    messages = dict(((r, c), m) for r, c, m in issues(batch))
    assert "不在您的数据范围内" in messages[(3, "客户编号")]
    assert "不在您的数据范围内" in messages[(4, "客户名称")]
    assert "数据范围内的人员" in messages[(5, "跟进人")]
    assert not FollowUp.objects.filter(customer=theirs).exists()
    assert FollowUp.objects.get(customer=mine).owner == rep


@pytest.mark.parametrize("mode", ["skip", "update", "create"])
def test_the_same_follow_up_twice_is_a_duplicate(org, tmp_path, make_customer, mode):
    admin = org["data_admin"]
    customer = make_customer(admin)
    existing = follow_ups.follow_up_create(
        actor=admin,
        customer_id=customer.pk,
        data={
            "followed_at": _local("2024-05-01T14:30"),
            "method": "电话",
            "content": "沟通 采购计划",
        },
    )
    rows = [
        HEADERS,
        _good(customer.code, 跟进内容="沟通　采购计划", 跟进结果="已报价"),  # spacing differs
        _good(customer.code, 跟进内容="另一次沟通"),
    ]
    batch = run(admin, write_csv(tmp_path / "a.csv", rows), object_type="follow_up", dedupe=mode)
    existing.refresh_from_db()
    if mode == "skip":
        assert (batch.created_count, batch.skipped_count) == (1, 1)
        assert existing.result == ""
    elif mode == "update":
        assert (batch.created_count, batch.updated_count) == (1, 1)
        assert (existing.result, existing.version) == ("quote", 2)
        assert ImportUpdate.objects.get(batch=batch).before["result"] == ""
    else:
        assert (batch.created_count, batch.error_count) == (1, 1)
        assert "不能新建" in issues(batch)[0][2]
    assert FollowUp.objects.filter(customer=customer).count() == 2


def test_within_file_duplicates(org, tmp_path, make_customer, settings):
    settings.GUANXI_IMPORT_CHUNK_ROWS = 2
    customer = make_customer(org["data_admin"])
    rows = [
        HEADERS,
        _good(customer.code),
        _good(customer.code),  # row 3: same as row 2
        _good(customer.code, "2024-05-02"),
        _good(
            "", 客户名称=customer.name, 跟进内容=" 沟通采购计划 "
        ),  # row 5: next chunk, same as row 2
    ]
    batch = run(org["data_admin"], write_csv(tmp_path / "a.csv", rows), object_type="follow_up")
    assert (batch.created_count, batch.skipped_count) == (2, 2)
    skipped = dict((r, m) for r, _c, m in issues(batch, "skipped"))
    assert "第 2 行" in skipped[3] and "较早的一行" in skipped[5]


def test_undo_removes_created_restores_updated_and_the_stamps(org, tmp_path, make_customer):
    admin = org["data_admin"]
    customer = make_customer(admin)
    existing = follow_ups.follow_up_create(
        actor=admin,
        customer_id=customer.pk,
        data={
            "followed_at": _local("2024-05-01T14:30"),
            "method": "电话",
            "content": "沟通采购计划",
        },
    )
    rows = [
        HEADERS,
        _good(customer.code, 跟进结果="已报价", 下次跟进时间="2024-05-03"),
        _good(customer.code, "2024-06-01", 跟进内容="回访", 下次跟进时间="2024-06-08"),
    ]
    batch = run(
        admin, write_csv(tmp_path / "a.csv", rows), object_type="follow_up", dedupe="update"
    )
    assert (batch.created_count, batch.updated_count) == (1, 1)
    customer.refresh_from_db()
    assert customer.next_follow_up_at == _local("2024-06-08T00:00")
    result = import_services.import_undo(actor=admin, batch=batch)
    assert result == {"removed": 1, "restored": 1}
    existing.refresh_from_db()
    assert (existing.result, existing.next_follow_up_at) == ("", None)
    customer.refresh_from_db()
    assert customer.last_follow_up_at == existing.followed_at
    assert customer.next_follow_up_at is None
    batch.refresh_from_db()
    assert batch.status == ImportStatus.UNDONE


def test_undo_is_refused_once_an_imported_follow_up_was_edited(org, tmp_path, make_customer):
    admin = org["data_admin"]
    customer = make_customer(admin)
    batch = run(
        admin,
        write_csv(tmp_path / "a.csv", [HEADERS, _good(customer.code)]),
        object_type="follow_up",
    )
    imported = FollowUp.objects.get(import_batch=batch)
    follow_ups.follow_up_update(actor=admin, follow_up=imported, data={"result": "quote"})
    with pytest.raises(Exception, match="已被修改"):
        import_services.import_undo(actor=admin, batch=batch)
    assert FollowUp.objects.filter(pk=imported.pk).exists()
    assert Customer.objects.get(pk=customer.pk).last_follow_up_at == imported.followed_at


def test_customers_and_contacts_are_looked_up_once_per_chunk(org, tmp_path, make_customer):
    admin = org["data_admin"]
    customers = [make_customer(admin) for _ in range(12)]

    def queries(count: int) -> int:
        rows = [HEADERS] + [
            _good(c.code, f"2024-05-{i + 1:02d}", 联系人="张三")
            for i, c in enumerate(customers[:count])
        ]
        batch = upload(admin, write_csv(tmp_path / f"{count}.csv", rows), object_type="follow_up")
        with CaptureQueriesContext(connection) as ctx:
            batch = engine.validate_batch(batch.pk)
        assert batch.dry_run["create"] == count
        return len(ctx.captured_queries)

    assert queries(3) == queries(12)

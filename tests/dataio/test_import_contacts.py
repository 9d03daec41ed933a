"""Contact imports through the real engine with real files: attaching to customers by code
or name within scope, per-cell errors, duplicates per mode and within the file, the
one-primary rule, undo, the command line, and one customer look-up per chunk."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.audit.models import AuditEntry
from guanxi.customers import contacts
from guanxi.customers.models import Contact
from guanxi.dataio import engine, import_services
from guanxi.dataio.models import ImportStatus, ImportUpdate

from .import_support import dry_run, issues, run, upload, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

HEADERS = [
    "客户编号",
    "客户名称",
    "姓名",
    "职务",
    "部门",
    "手机号",
    "固定电话",
    "邮箱",
    "微信",
    "生日",
    "备注",
    "主联系人",
]


def _row(code: str = "", name: str = "", **values: str) -> list[str]:
    row = dict.fromkeys(HEADERS, "") | {"客户编号": code, "客户名称": name} | values
    return [row[h] for h in HEADERS]


def _contacts(customer) -> dict[str, Contact]:
    return {c.name: c for c in Contact.objects.alive().filter(customer=customer)}


def test_cli_imports_contacts_by_code_and_by_name(org, tmp_path, make_customer):
    admin = org["data_admin"]
    first = make_customer(admin, name="西湖茶业有限公司")
    second = make_customer(admin, name="钱塘贸易有限公司")
    rows = [
        HEADERS,
        _row(
            first.code.lower(),
            "",
            姓名="李四",
            职务="采购经理",
            部门="采购部",
            手机号="138 0013 8001",
            固定电话="0571-87654321",
            邮箱="Li@Example.com",
            微信="li_si_2024",
            生日="1985/6/1",
            备注="喜欢喝龙井",
        ),
        _row("", "钱塘贸易 有限公司", 姓名="王五", 手机号="13800138002"),
    ]
    path = write_xlsx(tmp_path / "联系人.xlsx", rows)
    out = StringIO()
    call_command("import", "contacts", str(path), "--json", "--as", admin.username, stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (summary["rows"], summary["created"], summary["errors"]) == (2, 2, 0)
    li = _contacts(first)["李四"]
    assert (li.title, li.department_name, li.phone) == ("采购经理", "采购部", "0571-87654321")
    assert (li.mobile, li.email, li.wechat) == ("13800138001", "li@example.com", "li_si_2024")
    assert li.birthday == dt.date(1985, 6, 1) and li.birthday_md == "06-01"
    assert li.notes == "喜欢喝龙井" and li.import_batch_id == summary["batch_id"]
    assert li.created_by == admin and li.version == 1 and not li.is_primary
    assert Contact.objects.filter(mobile_bidx=li.mobile_bidx).count() == 1  # blind index set
    assert _contacts(second)["王五"].customer == second
    entry = AuditEntry.objects.filter(action="contact.import").latest("id")
    assert entry.params["created"] == 2 and entry.object_id == str(summary["batch_id"])


def test_dry_run_names_each_bad_cell_and_writes_nothing(org, tmp_path, make_customer):
    customer = make_customer(org["data_admin"], name="西湖茶业有限公司")
    rows = [
        HEADERS,
        _row(customer.code, 姓名="好人"),
        _row("C-NOPE", 姓名="赵六"),
        _row(customer.code, 姓名="钱七", 手机号="1380013800", 生日="明天"),
        _row(customer.code, 手机号="13800138009"),
        _row(customer.code, 姓名="孙八", 主联系人="也许"),
        _row("", "", 姓名="周九"),
        _row("C-NOPE", 姓名="吴十", 邮箱="not-an-email"),
        _row(customer.code, "另一家有限公司", 姓名="郑十一"),
    ]
    batch = dry_run(org["data_admin"], write_csv(tmp_path / "a.csv", rows), object_type="contact")
    assert batch.status == ImportStatus.VALIDATED
    assert batch.dry_run["create"] == 1 and batch.dry_run["errors"] == 7
    found = issues(batch)
    by_cell = {(r, c): m for r, c, m in found}
    assert "找不到客户“C-NOPE”" in by_cell[(3, "客户编号")]
    assert (4, "手机号") in by_cell and "日期" in by_cell[(4, "生日")]
    assert "必填" in by_cell[(5, "姓名")]
    assert "是”或“否" in by_cell[(6, "主联系人")]
    assert "请填写客户编号或客户名称" in by_cell[(7, "客户名称")]
    # A row with several problems reports every one of them.
    assert {c for r, c, _m in found if r == 8} == {"客户编号", "邮箱"}
    assert "不一致" in by_cell[(9, "客户名称")]
    assert set(_contacts(customer)) == {"张三"}  # the customer's own contact only


def test_a_rep_attaches_to_own_customers_only(org, tmp_path, make_customer):
    mine = make_customer(org["rep_a"], name="我的客户有限公司")
    theirs = make_customer(org["rep_b"], name="别人的客户有限公司")
    rows = [
        HEADERS,
        _row(mine.code, 姓名="甲"),
        _row(theirs.code, 姓名="乙"),
        _row("", theirs.name, 姓名="丙"),
    ]
    batch = run(org["rep_a"], write_csv(tmp_path / "a.csv", rows), object_type="contact")
    assert (batch.created_count, batch.error_count) == (1, 2)
    messages = [m for _r, _c, m in issues(batch)]
    assert all("不在您的数据范围内" in m for m in messages)
    assert set(_contacts(mine)) == {"张三", "甲"} and set(_contacts(theirs)) == {"张三"}


@pytest.mark.parametrize("mode", ["skip", "update", "create"])
def test_duplicate_modes(org, tmp_path, make_customer, mode):
    admin = org["data_admin"]
    customer = make_customer(admin, name="西湖茶业有限公司", mobile="13900000001")
    other = make_customer(admin, name="钱塘贸易有限公司")
    zhang = _contacts(customer)["张三"]
    rows = [
        HEADERS,
        _row(customer.code, 姓名="张三丰", 手机号="139-0000-0001", 职务="总经理"),  # same mobile
        _row(customer.code, 姓名="张三", 邮箱="zs@example.com"),  # same name
        _row(other.code, 姓名="李四", 手机号="13900000001"),  # same mobile, another customer
    ]
    if mode == "update":  # one row per existing contact, or the second one is ambiguous
        rows.pop(2)
    batch = run(admin, write_csv(tmp_path / "a.csv", rows), object_type="contact", dedupe=mode)
    zhang.refresh_from_db()
    if mode == "skip":
        assert (batch.created_count, batch.skipped_count) == (1, 2)
        assert "重复" in issues(batch, "skipped")[0][2] and zhang.title == ""
    elif mode == "update":
        assert (batch.created_count, batch.updated_count) == (1, 1)
        assert (zhang.name, zhang.title, zhang.version) == ("张三丰", "总经理", 2)
        assert AuditEntry.objects.filter(action="contact.update", object_id=str(zhang.pk)).exists()
        update = ImportUpdate.objects.get(batch=batch)
        assert update.before["name"] == "张三" and update.version == 2
        assert "13900000001" not in json.dumps(update.before)  # kept encrypted
    else:
        assert (batch.created_count, batch.flagged_count) == (3, 2)
        assert {i.matched_id for i in batch.issues.filter(kind="flagged")} == {zhang.pk}
        assert Contact.objects.alive().filter(customer=customer).count() == 3
        assert zhang.version == 1


def test_update_mode_refuses_a_row_matching_two_contacts(org, tmp_path, make_customer):
    customer = make_customer(org["data_admin"], mobile="13900000001")
    contacts.contact_create(actor=org["data_admin"], customer_id=customer.pk, data={"name": "李四"})
    rows = [HEADERS, _row(customer.code, 姓名="李四", 手机号="13900000001")]
    batch = run(
        org["data_admin"],
        write_csv(tmp_path / "a.csv", rows),
        object_type="contact",
        dedupe="update",
    )
    assert batch.error_count == 1 and "多条" in issues(batch)[0][2]


def test_within_file_duplicates(org, tmp_path, make_customer, settings):
    settings.GUANXI_IMPORT_CHUNK_ROWS = 3
    customer = make_customer(org["data_admin"])
    rows = [
        HEADERS,
        _row(customer.code, 姓名="甲", 手机号="13700000001"),
        _row(customer.code, 姓名="乙", 手机号="13700000001"),  # row 3: mobile of row 2
        _row(customer.code, 姓名="丙"),
        _row("", customer.name, 姓名="甲"),  # row 5: another chunk, name of row 2
    ]
    batch = run(org["data_admin"], write_csv(tmp_path / "a.csv", rows), object_type="contact")
    assert (batch.created_count, batch.skipped_count) == (2, 2)
    skipped = dict((r, m) for r, _c, m in issues(batch, "skipped"))
    assert "第 2 行" in skipped[3] and "较早的一行" in skipped[5]
    assert set(_contacts(customer)) == {"张三", "甲", "丙"}


def test_one_primary_per_customer(org, tmp_path, make_customer, settings):
    settings.GUANXI_IMPORT_CHUNK_ROWS = 2
    admin = org["data_admin"]
    customer = make_customer(admin)
    bare = make_customer(admin)
    contacts.contact_delete(actor=admin, contact=_contacts(bare)["张三"])  # no contact left
    old = _contacts(customer)["张三"]
    rows = [
        HEADERS,
        _row(customer.code, 姓名="甲", 主联系人="是"),
        _row(customer.code, 姓名="乙", 主联系人="是"),  # same chunk: the later one wins
        _row(customer.code, 姓名="丙", 主联系人="Y"),  # next chunk: replaces 乙
        _row(bare.code, 姓名="丁", 主联系人="否"),  # a customer's first contact is primary
        _row(bare.code, 姓名="戊"),
    ]
    batch = run(admin, write_csv(tmp_path / "a.csv", rows), object_type="contact")
    assert batch.created_count == 5
    people = _contacts(customer)
    assert [n for n, c in people.items() if c.is_primary] == ["丙"]
    assert people["乙"].version == 1  # the batch's own contact, only settled
    old.refresh_from_db()
    assert old.version == 2 and not old.is_primary
    assert [n for n, c in _contacts(bare).items() if c.is_primary] == ["丁"]

    result = import_services.import_undo(actor=admin, batch=batch)
    assert result == {"removed": 5, "restored": 1}
    assert [n for n, c in _contacts(customer).items() if c.is_primary] == ["张三"]
    assert _contacts(bare) == {}


def test_undo_restores_an_update_that_made_a_new_primary(org, tmp_path, make_customer):
    admin = org["data_admin"]
    customer = make_customer(admin, mobile="13900000001")
    li = contacts.contact_create(
        actor=admin,
        customer_id=customer.pk,
        data={"name": "李四", "mobile": "13700000001", "birthday": "1990-01-02"},
    )
    rows = [
        HEADERS,
        _row(customer.code, 姓名="李四", 手机号="13700000009", 生日="1991-03-04", 主联系人="是"),
        _row(customer.code, 姓名="王五"),
    ]
    batch = run(admin, write_csv(tmp_path / "a.csv", rows), object_type="contact", dedupe="update")
    assert (batch.updated_count, batch.created_count) == (1, 1)
    li.refresh_from_db()
    assert li.is_primary and li.mobile == "13700000009"
    result = import_services.import_undo(actor=admin, batch=batch)
    assert result == {"removed": 1, "restored": 2}
    people = _contacts(customer)
    assert set(people) == {"张三", "李四"} and people["张三"].is_primary
    li = people["李四"]
    assert (li.mobile, li.birthday, li.is_primary) == ("13700000001", dt.date(1990, 1, 2), False)


def test_undo_is_refused_once_an_imported_contact_was_edited(org, tmp_path, make_customer):
    admin = org["data_admin"]
    customer = make_customer(admin)
    rows = [HEADERS, _row(customer.code, 姓名="甲"), _row(customer.code, 姓名="乙")]
    batch = run(admin, write_csv(tmp_path / "a.csv", rows), object_type="contact")
    edited = _contacts(customer)["甲"]
    contacts.contact_update(actor=admin, contact=edited, data={"title": "经理"}, version=1)
    with pytest.raises(Exception, match="1 条记录在导入后已被修改"):
        import_services.import_undo(actor=admin, batch=batch)
    assert set(_contacts(customer)) == {"张三", "甲", "乙"}
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE


def test_customers_are_looked_up_once_per_chunk(org, tmp_path, make_customer):
    """The queries of a dry run do not grow with the number of rows and customers."""
    admin = org["data_admin"]
    customers = [make_customer(admin) for _ in range(12)]

    def queries(count: int) -> int:
        rows = [HEADERS] + [
            _row(c.code, 姓名=f"联系人{i}", 手机号=f"1370000{i:04d}")
            for i, c in enumerate(customers[:count])
        ]
        batch = upload(admin, write_csv(tmp_path / f"{count}.csv", rows), object_type="contact")
        with CaptureQueriesContext(connection) as ctx:
            engine.validate_batch(batch.pk)
        return len(ctx.captured_queries)

    assert queries(3) == queries(12)

"""The cleaning helper process (dataio.clean_helper): later chunks are cleaned in a forked
process while the import writes, with the same outcome as cleaning in the import's own
process; a chunk whose cleaning needs the database falls back to the import's process."""

from __future__ import annotations

import logging

import pytest

from guanxi.customers.models import Customer, CustomerNameKey
from guanxi.customers.name_match import deletion_keys
from guanxi.dataio.importers.customers import CustomerImporter

from ..conftest import make_user
from .import_support import TEMPLATE_HEADERS, issues, run, write_csv

pytestmark = pytest.mark.django_db

HEADERS = [*TEMPLATE_HEADERS, "负责人"]
HELPER_LOG = "guanxi.dataio.clean_helper"


def _row(n: int, owner: str = "", **changes: str) -> list[str]:
    row = {
        "客户名称": f"助手测试{n:04d}贸易有限公司",
        "客户类型": "企业客户",
        "所属行业": "批发和零售业",
        "联系人": "李雷",
        "职务": "经理",
        "手机号": f"1370000{n:04d}",
        "邮箱": f"h{n}@example.com",
        "客户来源": "展会",
        "客户标签": "",
        "地址": "广东省深圳市南山区科技园",
        "备注": "",
        "负责人": owner,
    }
    row.update(changes)
    return [row[h] for h in HEADERS]


def _file(tmp_path, org):
    """350 rows (four chunks of 100): owners by username and by display name, a bad mobile
    and an unknown industry in later chunks, a name repeated across chunks."""
    rep = make_user("sales_rep", org["team_a"], name="韩梅梅")
    rows = [HEADERS]
    for n in range(1, 351):
        owner = rep.username if n % 3 == 0 else "韩梅梅" if n % 3 == 1 else ""
        rows.append(_row(n, owner))
    rows[180] = _row(180, 手机号="1234")  # file row 181: chunk 2
    rows[290] = _row(290, 所属行业="不存在的行业")  # file row 291: chunk 3
    rows[340] = _row(20)  # file row 341: the name and mobile of file row 21 (chunk 1)
    return write_csv(tmp_path / "helper.csv", rows), rep


def _check(batch, rep, admin):
    assert (batch.created_count, batch.error_count, batch.skipped_count) == (347, 2, 1)
    assert [(r, c) for r, c, _m in issues(batch)] == [(181, "手机号"), (291, "所属行业")]
    assert [(r, "较早的一行" in m) for r, _c, m in issues(batch, "skipped")] == [(341, True)]
    created = [n for n in range(1, 351) if n not in (180, 290, 340)]
    customers = {c.name: c for c in Customer.objects.filter(import_batch=batch)}
    assert len(customers) == len(created)
    for n in created:
        customer = customers[f"助手测试{n:04d}贸易有限公司"]
        assert customer.owner_id == (admin.pk if n % 3 == 2 else rep.pk), n
        assert customer.mobile == f"1370000{n:04d}" and customer.email == f"h{n}@example.com"
        assert (customer.province, customer.city, customer.district) == (
            "广东省",
            "深圳市",
            "南山区",
        )
        assert customer.address == "科技园" and customer.industry == "F"
    # The helper computes the similar-name keys ahead; they are the keys of the stored core.
    stored: dict[int, set[str]] = {}
    for customer_id, key in CustomerNameKey.objects.filter(
        customer_id__in=[c.pk for c in customers.values()]
    ).values_list("customer_id", "key"):
        stored.setdefault(customer_id, set()).add(key)
    for customer in customers.values():
        assert stored.get(customer.pk, set()) == set(deletion_keys(customer.name_core))
    assert stored, "the file's names are long enough to be keyed"


@pytest.mark.parametrize("helper", [True, False])
def test_helper_and_own_process_give_the_same_import(org, tmp_path, settings, caplog, helper):
    settings.GUANXI_IMPORT_CHUNK_ROWS = 100
    settings.GUANXI_IMPORT_HELPER = helper
    path, rep = _file(tmp_path, org)
    with caplog.at_level(logging.INFO, logger=HELPER_LOG):
        batch = run(org["data_admin"], path)
    _check(batch, rep, org["data_admin"])
    helped = [r.getMessage() for r in caplog.records if r.name == HELPER_LOG]
    assert helped == (["helper process cleaned 4 of 4 chunks"] if helper else [])


def test_a_chunk_that_needs_the_database_is_cleaned_here(
    org, tmp_path, settings, caplog, monkeypatch
):
    settings.GUANXI_IMPORT_CHUNK_ROWS = 100
    real_clean = CustomerImporter.clean

    def clean_reading_the_database(self, row):
        if row.number > 250:  # chunks 3 and 4
            Customer.objects.exists()
        real_clean(self, row)

    monkeypatch.setattr(CustomerImporter, "clean", clean_reading_the_database)
    path, rep = _file(tmp_path, org)
    with caplog.at_level(logging.INFO, logger=HELPER_LOG):
        batch = run(org["data_admin"], path)
    _check(batch, rep, org["data_admin"])
    messages = [r.getMessage() for r in caplog.records if r.name == HELPER_LOG]
    assert any("needs the database" in m for m in messages)
    assert messages[-1] == "helper process cleaned 2 of 4 chunks"

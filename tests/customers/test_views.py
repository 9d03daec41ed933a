"""Customer pages over real HTTP: list, search, filters, sorting, cursors, forms, detail,
status change, delete, scope (404) and masking, with query budgets that do not grow."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.customers import services
from guanxi.customers.models import Customer, StatusChange
from guanxi.customers.views import PAGE_SIZE
from tests.conftest import customer_data

pytestmark = pytest.mark.django_db
LIST = reverse("customers:list")
QUERY_BUDGET = 20
# The detail page also reads the custom field definitions, the lawful bases and, for a
# cooperating customer, its pending 流失预警.
DETAIL_QUERY_BUDGET = 23


def _html(response: Any) -> str:
    return response.content.decode()


def _rows(html: str) -> list[str]:
    """Customer names in table order (the name column links to the detail page)."""
    return re.findall(r'<a href="/customers/\d+/">([^<]+)</a>', html)


def _form(**overrides: Any) -> dict[str, Any]:
    data = customer_data(**overrides)
    data.setdefault("tags", "")
    return data


# --- list --------------------------------------------------------------------------------


def test_list_renders_chinese_rows_with_labels_badges_and_tags(org, make_customer, client_for):
    make_customer(org["rep_a"], name="深圳华盛电子科技有限公司", tags=["重点跟进"])
    response = client_for(org["rep_a"]).get(LIST)
    assert response.status_code == 200
    html = _html(response)
    assert "深圳华盛电子科技有限公司" in html
    assert "信息传输、软件和信息技术服务业" in html  # industry label, not the code "I"
    assert "普通客户" in html and "潜在客户" in html and "企业客户" in html
    assert "重点跟进" in html and "gx-tag" in html
    assert 'title="广东省 深圳市"' in html
    assert "共 1 条" in html
    assert "名称 / 联系人 / 拼音 / 首字母 / 编号 / 电话" in html


def test_list_requires_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_search_by_two_character_substring(org, make_customer, client_for):
    make_customer(org["admin"], name="深圳华盛电子科技有限公司")
    make_customer(org["admin"], name="北京腾达贸易有限公司")
    html = _html(client_for(org["admin"]).get(LIST, {"q": "华盛"}))
    assert _rows(html) == ["深圳华盛电子科技有限公司"]


def test_search_by_pinyin_initials_of_contact_and_name(org, make_customer, client_for):
    make_customer(org["admin"], name="北京腾达贸易有限公司", contact_name="欧阳修")
    make_customer(org["admin"], name="上海恒通物流有限公司", contact_name="李四")
    client = client_for(org["admin"])
    assert _rows(_html(client.get(LIST, {"q": "oyx"}))) == ["北京腾达贸易有限公司"]
    assert _rows(_html(client.get(LIST, {"q": "htwl"}))) == ["上海恒通物流有限公司"]


def test_search_by_exact_mobile(org, make_customer, client_for):
    make_customer(org["admin"], name="甲公司", mobile="13812345678")
    make_customer(org["admin"], name="乙公司", mobile="13987654321")
    html = _html(client_for(org["admin"]).get(LIST, {"q": "138 1234 5678"}))
    assert _rows(html) == ["甲公司"]


def test_filters_narrow_the_list(org, make_customer, client_for):
    make_customer(
        org["admin"],
        name="广州客户公司",
        province="广东省",
        city="广州市",
        district="天河区",
        category="vip",
    )
    make_customer(
        org["admin"],
        name="北京客户公司",
        province="北京市",
        city="北京市",
        district="朝阳区",
        category="normal",
    )
    client = client_for(org["admin"])
    assert _rows(_html(client.get(LIST, {"province": "北京市"}))) == ["北京客户公司"]
    assert _rows(_html(client.get(LIST, {"category": "vip"}))) == ["广州客户公司"]
    html = _html(client.get(LIST, {"province": "广东省", "city": "广州市"}))
    assert _rows(html) == ["广州客户公司"]
    assert '<option value="广州市" selected>' in html  # dependent city choices are bound
    assert _rows(_html(client.get(LIST, {"status": "cooperating"}))) == []


def test_sorting_toggles_between_ascending_and_descending(org, make_customer, client_for):
    for name in ("乙公司", "甲公司", "丙公司"):
        make_customer(org["admin"], name=name)
    client = client_for(org["admin"])
    asc = _html(client.get(LIST, {"ordering": "name"}))
    desc = _html(client.get(LIST, {"ordering": "-name"}))
    assert _rows(asc) == sorted(_rows(asc)) and _rows(desc) == list(reversed(_rows(asc)))
    assert "ordering=-name" in asc and "▲" in asc  # the header now offers the reverse
    assert "ordering=name" in desc and "▼" in desc
    # An ordering outside ORDERING_FIELDS falls back to the default instead of failing.
    assert client.get(LIST, {"ordering": "mobile"}).status_code == 200


def test_cursor_pages_forward_and_back(org, make_customer, client_for):
    for i in range(PAGE_SIZE + 5):
        make_customer(org["admin"], name=f"分页测试公司{i:02d}")
    client = client_for(org["admin"])
    first = _html(client.get(LIST))
    assert len(_rows(first)) == PAGE_SIZE and f"共 {PAGE_SIZE + 5} 条" in first
    next_url = re.search(r'href="([^"]*cursor=[^"]+)"[^>]*rel="next"', first).group(1)
    second = _html(client.get(next_url.replace("&amp;", "&")))
    assert len(_rows(second)) == 5 and not set(_rows(second)) & set(_rows(first))
    prev_url = re.search(r'href="([^"]*cursor=[^"]+)"[^>]*rel="prev"', second).group(1)
    back = _html(client.get(prev_url.replace("&amp;", "&")))
    assert _rows(back) == _rows(first)


def test_bad_cursor_falls_back_to_first_page(org, make_customer, client_for):
    make_customer(org["admin"], name="游标公司")
    html = _html(client_for(org["admin"]).get(LIST, {"cursor": "garbage"}))
    assert _rows(html) == ["游标公司"] and "分页参数已失效" in html


def test_htmx_request_gets_only_the_table(org, make_customer, client_for):
    make_customer(org["admin"], name="局部刷新公司")
    response = client_for(org["admin"]).get(
        LIST, {"q": "局部"}, headers={"HX-Request": "true", "HX-Target": "customer-table"}
    )
    html = _html(response)
    assert "<html" not in html and "局部刷新公司" in html
    assert 'hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]


def test_count_shows_cap_plus(org, make_customer, client_for, monkeypatch):
    from guanxi.customers import selectors

    for _ in range(3):
        make_customer(org["admin"])
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    assert "共 2+ 条" in _html(client_for(org["admin"]).get(LIST))


def test_masked_mobile_for_service_rep(org, make_customer, client_for):
    customer = make_customer(org["rep_a"], mobile="13912345678")
    for url in (LIST, reverse("customers:detail", args=[customer.pk])):
        html = _html(client_for(org["service_rep"]).get(url))
        assert "139****5678" in html and "13912345678" not in html
    assert "13912345678" in _html(client_for(org["rep_a"]).get(LIST))  # the owner sees it


def test_list_query_count_does_not_grow_with_rows(
    org, make_customer, client_for, django_assert_max_num_queries
):
    owners = [org["rep_a"], org["rep_b"], org["manager"]]
    for i in range(5):
        make_customer(owners[i % 3], tags=["老客户", f"标签{i % 4}"])
    client = client_for(org["admin"])
    client.get(LIST)  # warm caches that are per process, not per row
    with CaptureQueriesContext(connection) as few:
        assert len(_rows(_html(client.get(LIST)))) == 5
    for i in range(55):
        make_customer(owners[i % 3], tags=["老客户", f"标签{i % 4}"])
    with django_assert_max_num_queries(QUERY_BUDGET):
        html = _html(client.get(LIST, {"tag": "老客户", "ordering": "name"}))
    assert len(_rows(html)) == PAGE_SIZE and "共 60 条" in html
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_region_endpoint_lists_cities_and_districts(org, client_for):
    client = client_for(org["rep_a"])
    cities = client.get(reverse("customers:regions"), {"province": "广东省"}).json()["items"]
    assert {"code": "4403", "name": "深圳市"} in cities
    districts = client.get(
        reverse("customers:regions"), {"province": "广东省", "city": "深圳市"}
    ).json()["items"]
    assert "南山区" in [d["name"] for d in districts]


# --- create / edit -----------------------------------------------------------------------


def test_create_form_renders_dictionary_and_region_choices(org, client_for):
    html = _html(client_for(org["rep_a"]).get(reverse("customers:create")))
    assert "客户名称" in html and "gx-required" in html
    assert "企业客户" in html and "个人客户" in html
    assert "制造业" in html and "重点客户" in html and "网络推广" in html
    assert '<option value="广东省">广东省</option>' in html


def test_create_with_invalid_mobile_shows_field_error_and_keeps_input(org, client_for):
    data = _form(
        name="输入保留测试公司",
        mobile="1234",
        email="keep@example.com",
        notes="这段备注不能丢",
        tags="重点跟进，老客户",
    )
    response = client_for(org["rep_a"]).post(reverse("customers:create"), data)
    assert response.status_code == 422
    html = _html(response)
    error = re.search(r'data-field-error="mobile">(.*?)</div>\s*</div>', html, re.S).group(1)
    assert "手机号码必须是11位中国大陆手机号" in error
    assert 'id="id_mobile"' in html and 'value="1234"' in html
    for kept in ("输入保留测试公司", "keep@example.com", "这段备注不能丢", "重点跟进，老客户"):
        assert kept in html
    assert '<option value="深圳市" selected>' in html and '<option value="I" selected>' in html
    assert "ERR-006" in html
    assert not Customer.objects.filter(name="输入保留测试公司").exists()


def test_create_redirects_to_detail_with_code(org, client_for):
    client = client_for(org["rep_a"])
    response = client.post(
        reverse("customers:create"), _form(name="新建成功公司", tags="重点跟进，老客户")
    )
    customer = Customer.objects.get(name="新建成功公司")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    html = _html(client.get(response["Location"]))
    assert customer.code.startswith("CUST") and customer.code in html and "已创建" in html
    assert sorted(t.name for t in customer.tags.all()) == ["老客户", "重点跟进"]


def test_create_duplicate_shows_links(org, make_customer, client_for):
    existing = make_customer(org["rep_a"], mobile="13700000001")
    response = client_for(org["rep_a"]).post(
        reverse("customers:create"), _form(name="另一家公司", mobile="13700000001")
    )
    html = _html(response)
    assert response.status_code == 422 and "ERR-012" in html
    assert reverse("customers:detail", args=[existing.pk]) in html and existing.code in html
    assert "手机号" in html and "另一家公司" in html


def test_create_duplicate_hidden_from_rep_is_counted_not_linked(org, make_customer, client_for):
    existing = make_customer(org["rep_b"], mobile="13700000002")
    html = _html(
        client_for(org["rep_a"]).post(
            reverse("customers:create"), _form(name="又一家公司", mobile="13700000002")
        )
    )
    assert "ERR-012" in html and "另有 1 条重复记录" in html
    assert reverse("customers:detail", args=[existing.pk]) not in html


def test_create_forbidden_without_permission(org, client_for):
    assert client_for(org["service_rep"]).get(reverse("customers:create")).status_code == 403


def test_edit_saves_and_bumps_version(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    client = client_for(org["rep_a"])
    url = reverse("customers:edit", args=[customer.pk])
    html = _html(client.get(url))
    assert 'name="version" value="1"' in html and customer.name in html
    data = _form(name=customer.name, mobile=customer.mobile, contact_name="李四", version=1)
    assert client.post(url, data).status_code == 302
    customer.refresh_from_db()
    assert (customer.contact_name, customer.version) == ("李四", 2)


def test_edit_with_stale_version_shows_conflict_and_keeps_input(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    services.customer_update(
        actor=org["manager"], customer=customer, data={"contact_name": "王经理改的"}, version=1
    )
    data = _form(
        name=customer.name,
        mobile=customer.mobile,
        contact_name="我的修改",
        notes="我写的备注",
        version=1,
    )
    response = client_for(org["rep_a"]).post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 409
    html = _html(response)
    assert "ERR-007" in html and 'data-testid="conflict"' in html
    conflict = html[html.index('data-testid="conflict"') : html.index("</table>")]
    assert "联系人" in conflict and "王经理改的" in conflict and "我的修改" in conflict
    assert "我写的备注" in html and 'value="我的修改"' in html
    assert 'name="version" value="2"' in html  # re-saving applies the user's values
    customer.refresh_from_db()
    assert (customer.contact_name, customer.version) == ("王经理改的", 2)
    data["version"] = 2
    client_for(org["rep_a"]).post(reverse("customers:edit", args=[customer.pk]), data)
    customer.refresh_from_db()
    assert (customer.contact_name, customer.notes, customer.version) == (
        "我的修改",
        "我写的备注",
        3,
    )


def test_stale_save_lists_others_changes_and_can_keep_them_per_field(
    org, make_customer, client_for
):
    customer = make_customer(org["rep_a"], contact_name="张三", notes="原备注")
    client = client_for(org["rep_a"])
    page = _html(client.get(reverse("customers:edit", args=[customer.pk])))
    loaded_at = re.search(r'name="loaded_at" value="([^"]+)"', page).group(1)
    services.customer_update(
        actor=org["manager"],
        customer=customer,
        data={"contact_name": "王经理改的", "notes": "经理的备注"},
        version=1,
    )
    data = _form(
        name=customer.name,
        mobile=customer.mobile,
        contact_name="我的修改",
        notes="我的备注",
        version=1,
        loaded_at=loaded_at,
    )
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 409
    html = _html(response)
    others = html[html.index('data-testid="others"') : html.index("</ul>", html.index("others"))]
    assert "王经理改的" in others and "经理的备注" in others  # who changed what, meanwhile
    assert 'name="keep_current" value="notes"' in html
    # Re-apply mine for the contact, keep the manager's notes.
    data.update(version=2, keep_current="notes")
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.contact_name, customer.notes, customer.version) == (
        "我的修改",
        "经理的备注",
        3,
    )


def test_edit_validation_error_under_field(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    data = _form(name=customer.name, mobile="", phone="", version=1)
    html = _html(client_for(org["rep_a"]).post(reverse("customers:edit", args=[customer.pk]), data))
    assert "请填写手机号或固定电话中的至少一项" in html


# --- detail, status, delete, scope -------------------------------------------------------


def test_detail_shows_fields_and_out_of_scope_is_404(org, make_customer, client_for):
    customer = make_customer(org["rep_b"], notes="备注内容")
    url = reverse("customers:detail", args=[customer.pk])
    html = _html(client_for(org["rep_b"]).get(url))
    for text in (
        customer.code,
        customer.name,
        "备注内容",
        "信息传输、软件和信息技术服务业",
        "网络推广",
        "销售二组",
        "待审核",
        "版本",
    ):
        assert text in html
    response = client_for(org["rep_a"]).get(url)
    assert response.status_code == 404 and "页面或记录不存在" in _html(response)
    assert (
        client_for(org["rep_a"]).get(reverse("customers:edit", args=[customer.pk])).status_code
        == 404
    )


def test_status_change_recorded_in_both_histories(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    client = client_for(org["rep_a"])
    response = client.post(
        reverse("customers:change_status", args=[customer.pk]),
        {"status": "cooperating", "reason": "签订合同", "version": 1},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    change = StatusChange.objects.filter(customer=customer).latest("id")
    assert (change.from_status, change.to_status, change.ip) == (
        "potential",
        "cooperating",
        "10.1.2.3",
    )
    html = _html(client.get(response["Location"]))
    status_part = html[html.index('id="status-history"') : html.index('id="change-history"')]
    assert "潜在客户" in status_part and "合作客户" in status_part and "签订合同" in status_part
    assert "10.1.2.3" in status_part and org["rep_a"].name in status_part
    change_part = html[html.index('id="change-history"') :]
    assert "状态变更" in change_part and "客户状态" in change_part and "新建" in change_part


def test_status_change_get_page_works_without_js(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    html = _html(
        client_for(org["rep_a"]).get(reverse("customers:change_status", args=[customer.pk]))
    )
    assert "变更时间、操作人和 IP 地址将被自动记录" in html


def test_status_change_with_stale_version_is_refused(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    services.customer_update(actor=org["rep_a"], customer=customer, data={"notes": "x"}, version=1)
    client = client_for(org["rep_a"])
    response = client.post(
        reverse("customers:change_status", args=[customer.pk]),
        {"status": "lost", "version": 1},
        follow=True,
    )
    assert "ERR-007" in _html(response)
    customer.refresh_from_db()
    assert customer.status == "potential"


def test_delete_refused_unless_not_cooperating(org, make_customer, client_for):
    customer = make_customer(org["admin"])
    client = client_for(org["admin"])
    response = client.post(reverse("customers:delete", args=[customer.pk]), follow=True)
    html = _html(response)
    assert "ERR-011" in html and "只有“未合作”状态的客户可以删除" in html
    customer.refresh_from_db()
    assert customer.deleted_at is None
    services.customer_change_status(actor=org["admin"], customer=customer, status="not_cooperating")
    response = client.post(reverse("customers:delete", args=[customer.pk]))
    assert response.status_code == 302 and response["Location"] == LIST
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404


def test_delete_forbidden_for_sales_rep(org, make_customer, client_for):
    customer = make_customer(org["rep_a"], status="not_cooperating")
    assert (
        client_for(org["rep_a"]).post(reverse("customers:delete", args=[customer.pk])).status_code
        == 403
    )
    customer.refresh_from_db()
    assert customer.deleted_at is None


def test_detail_query_count_with_long_history(
    org, make_customer, client_for, django_assert_max_num_queries
):
    customer = make_customer(org["admin"], tags=["老客户"])
    client = client_for(org["admin"])
    url = reverse("customers:detail", args=[customer.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    actors = [org["admin"], org["data_admin"]]
    owners = [org["rep_a"], org["rep_b"], org["manager"]]
    statuses = ["not_cooperating", "cooperating", "lost", "potential"]
    for i in range(19):
        current = Customer.objects.get(pk=customer.pk)
        if i % 2:
            services.customer_change_status(
                actor=actors[i % 2], customer=current, status=statuses[i % 4], reason=f"原因{i}"
            )
        else:
            services.customer_update(
                actor=actors[i % 2],
                customer=current,
                data={"notes": f"第{i}次", "owner_id": owners[i % 3].pk},
                version=current.version,
            )
    assert AuditEntry.objects.filter(object_id=str(customer.pk), result="success").count() >= 20
    with django_assert_max_num_queries(DETAIL_QUERY_BUDGET):
        html = _html(client.get(url))
    assert "第18次" in html and "原因17" in html
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) <= len(few.captured_queries) + 2  # owner/dept name lookups


def test_error_pages_render_without_database(rf, django_assert_num_queries):
    from guanxi.core.views import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/"))
    assert response.status_code == 500 and "ERR-009" in _html(response)

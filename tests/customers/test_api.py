"""Customers API over real HTTP (Django test client): every status path of API.md."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanxi.accounts.choices import UserStatus
from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer
from tests.conftest import PASSWORD, customer_data

pytestmark = pytest.mark.django_db


def token_for(user: Any) -> str:
    response = Client().post(
        "/api/v1/auth/token",
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["expires_at"]
    return response.json()["token"]


class Api:
    """Bearer-token client speaking JSON."""

    def __init__(self, user: Any):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"}

    def get(self, url: str, **params: Any):
        return self.client.get(url, params, **self.headers)

    def post(self, url: str, body: Any):
        return self.client.post(url, body, content_type="application/json", **self.headers)

    def patch(self, url: str, body: Any):
        return self.client.patch(url, body, content_type="application/json", **self.headers)

    def delete(self, url: str):
        return self.client.delete(url, **self.headers)


@pytest.fixture
def admin_api(org):
    return Api(org["admin"])


def test_token_wrong_password_is_401_with_code(org):
    response = Client().post(
        "/api/v1/auth/token",
        {"username": org["admin"].username, "password": "nope"},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert response.json()["code"] == "ERR-015"


@pytest.mark.parametrize(
    ("status", "code"), [(UserStatus.LOCKED, "ERR-003"), (UserStatus.DISABLED, "ERR-004")]
)
def test_locked_or_disabled_user_refused_at_token_and_on_existing_token(org, status, code):
    user = org["rep_a"]
    api = Api(user)
    user.status = status
    user.save()
    response = Client().post(
        "/api/v1/auth/token",
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == code
    again = api.get("/api/v1/customers")
    assert again.status_code == 403
    assert again.json()["code"] == code


def test_unauthenticated_is_401_err001(db):
    response = Client().get("/api/v1/customers")
    assert response.status_code == 401
    assert response.json() == {"code": "ERR-001", "message": "未授权访问"}


def test_bad_token_is_401(db):
    response = Client().get("/api/v1/customers", HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 401
    assert response.json()["code"] == "ERR-001"


def test_create_returns_201_with_record_and_code(org, admin_api):
    body = customer_data(
        mobile="+86 139-1234-5678", name="  深圳华为技术有限公司 ", tags=["老客户"]
    )
    response = admin_api.post("/api/v1/customers", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["code"].startswith("CUST") and len(data["code"]) == 16
    assert data["name"] == "深圳华为技术有限公司"
    assert data["mobile"] == "13912345678"
    assert data["review_status"] == "approved"
    assert data["tags"] == ["老客户"]
    assert data["owner_id"] == org["admin"].pk
    assert data["department_id"] == org["head"].pk
    assert data["version"] == 1
    for field in (
        "id",
        "code",
        "name",
        "customer_type",
        "contact_name",
        "mobile",
        "phone",
        "email",
        "province",
        "city",
        "district",
        "address",
        "industry",
        "category",
        "status",
        "source",
        "tags",
        "uscc",
        "owner_id",
        "department_id",
        "review_status",
        "notes",
        "version",
        "created_at",
        "updated_at",
    ):
        assert field in data


def test_create_by_rep_is_pending_review(org):
    response = Api(org["rep_a"]).post("/api/v1/customers", customer_data())
    assert response.status_code == 201
    assert response.json()["review_status"] == "pending"


def test_validation_errors_are_422_with_field_messages(org, admin_api):
    response = admin_api.post(
        "/api/v1/customers",
        customer_data(
            name="",
            mobile="12345",
            email="not-an-email",
            uscc="91110000XXXXXXXXXX",
            province="广东省",
            city="杭州市",
        ),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ERR-006"
    assert set(body["errors"]) >= {"name", "mobile", "email", "uscc", "city"}
    assert Customer.objects.count() == 0


def test_mobile_or_phone_required(org, admin_api):
    response = admin_api.post("/api/v1/customers", customer_data(mobile="", phone=""))
    assert response.status_code == 422
    assert "mobile" in response.json()["errors"]


def test_landline_alone_is_enough(org, admin_api):
    response = admin_api.post("/api/v1/customers", customer_data(mobile="", phone="0755 1234567"))
    assert response.status_code == 201
    assert response.json()["phone"] == "0755-1234567"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        ["a", "list"],
        {"name": {"nested": 1}},
        {"name": "x" * 10000},
        {"tags": "not-a-list"},
        {"owner_id": "abc"},
        {"owner_id": 10**30},
        {"name": "\x00\x01", "contact_name": "\ud800"},
    ],
)
def test_hostile_input_never_500(org, admin_api, body):
    if isinstance(body, str):
        response = admin_api.client.post(
            "/api/v1/customers", body, content_type="application/json", **admin_api.headers
        )
    else:
        response = admin_api.post("/api/v1/customers", body)
    assert response.status_code in (400, 422), response.content
    assert response.json()["code"] in ("ERR-006", "ERR-013")


def test_duplicate_mobile_is_409_err012_naming_visible_records(org, admin_api, make_customer):
    existing = make_customer(org["admin"], mobile="13800001111")
    response = admin_api.post("/api/v1/customers", customer_data(mobile="138-0000-1111"))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "ERR-012"
    assert body["duplicates"] == [
        {"id": existing.pk, "name": existing.name, "code": existing.code, "matched_on": ["mobile"]}
    ]


def test_duplicate_outside_scope_is_counted_not_named(org, make_customer):
    make_customer(org["rep_b"], mobile="13800002222")
    response = Api(org["rep_a"]).post("/api/v1/customers", customer_data(mobile="13800002222"))
    assert response.status_code == 409
    assert response.json()["duplicates"] == []
    assert response.json()["hidden_count"] == 1


def test_duplicate_name_after_folding_is_409(org, admin_api, make_customer):
    make_customer(org["admin"], name="ABC科技有限公司")
    response = admin_api.post("/api/v1/customers", customer_data(name="ＡＢＣ科技 有限公司"))
    assert response.status_code == 409
    assert response.json()["duplicates"][0]["matched_on"] == ["name"]


def test_get_one_and_404_for_missing_and_out_of_scope(org, make_customer):
    mine = make_customer(org["rep_a"])
    theirs = make_customer(org["rep_b"])
    api = Api(org["rep_a"])
    assert api.get(f"/api/v1/customers/{mine.pk}").status_code == 200
    for pk in (theirs.pk, 999999):
        response = api.get(f"/api/v1/customers/{pk}")
        assert response.status_code == 404
        assert response.json()["code"] == "ERR-005"


def test_patch_requires_version_and_refuses_stale(org, admin_api, make_customer):
    customer = make_customer(org["admin"])
    url = f"/api/v1/customers/{customer.pk}"
    missing = admin_api.patch(url, {"contact_name": "李四"})
    assert missing.status_code == 422
    assert "version" in missing.json()["errors"]
    ok = admin_api.patch(url, {"contact_name": "李四", "version": 1})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    stale = admin_api.patch(url, {"contact_name": "王五", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "ERR-007"
    assert stale.json()["current"]["contact_name"] == "李四"
    customer.refresh_from_db()
    assert customer.contact_name == "李四"


def test_patch_invalid_field_is_422_and_changes_nothing(org, admin_api, make_customer):
    customer = make_customer(org["admin"])
    response = admin_api.patch(f"/api/v1/customers/{customer.pk}", {"mobile": "123", "version": 1})
    assert response.status_code == 422
    customer.refresh_from_db()
    assert customer.version == 1


def test_service_rep_cannot_edit_and_nothing_changes(org, make_customer):
    customer = make_customer(org["admin"])
    response = Api(org["service_rep"]).patch(
        f"/api/v1/customers/{customer.pk}", {"contact_name": "黑客", "version": 1}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "ERR-002"
    customer.refresh_from_db()
    assert customer.contact_name == "张三"
    assert AuditEntry.objects.filter(action="customer.update", result="denied").exists()


def test_masking_for_service_rep_full_for_owner(org, make_customer):
    customer = make_customer(org["rep_a"], mobile="13912345678", email="zhangsan@example.com")
    owner_view = Api(org["rep_a"]).get(f"/api/v1/customers/{customer.pk}").json()
    assert owner_view["mobile"] == "13912345678"
    masked = Api(org["service_rep"]).get(f"/api/v1/customers/{customer.pk}").json()
    assert masked["mobile"] == "139****5678"
    assert masked["email"] == "z***n@example.com"


def test_delete_refused_unless_not_cooperating_then_hidden(org, admin_api, make_customer):
    customer = make_customer(org["admin"], status="cooperating")
    url = f"/api/v1/customers/{customer.pk}"
    refused = admin_api.delete(url)
    assert refused.status_code == 409
    assert refused.json()["code"] == "ERR-011"
    assert "合作客户" in refused.json()["message"]
    admin_api.post(f"{url}/status", {"status": "not_cooperating", "reason": "结束合作"})
    assert admin_api.delete(url).status_code == 204
    assert admin_api.get(url).status_code == 404
    assert Customer.objects.filter(pk=customer.pk, deleted_at__isnull=False).exists()


def test_history_newest_first_with_before_after(org, admin_api, make_customer):
    customer = make_customer(org["admin"])
    url = f"/api/v1/customers/{customer.pk}"
    admin_api.patch(url, {"contact_name": "李四", "version": 1})
    admin_api.post(f"{url}/status", {"status": "cooperating", "reason": "签约"})
    items = admin_api.get(f"{url}/history").json()["items"]
    assert [i["kind"] for i in items] == ["status", "update", "create"]
    assert items[0]["changes"]["status"] == {"before": "potential", "after": "cooperating"}
    assert items[1]["changes"]["contact_name"] == {"before": "张三", "after": "李四"}
    assert items[1]["user"]["id"] == org["admin"].pk
    assert items[1]["ip"] == "127.0.0.1"


def test_list_cursor_pagination_and_limits(org, admin_api, make_customer):
    made = [make_customer(org["admin"]) for _ in range(5)]
    first = admin_api.get("/api/v1/customers", limit=2).json()
    assert [c["id"] for c in first["items"]] == [made[4].pk, made[3].pk]
    second = admin_api.get("/api/v1/customers", limit=2, cursor=first["next_cursor"]).json()
    assert [c["id"] for c in second["items"]] == [made[2].pk, made[1].pk]
    third = admin_api.get("/api/v1/customers", limit=2, cursor=second["next_cursor"]).json()
    assert [c["id"] for c in third["items"]] == [made[0].pk]
    assert third["next_cursor"] is None
    assert admin_api.get("/api/v1/customers", limit=501).status_code == 422
    assert admin_api.get("/api/v1/customers", cursor="garbage").status_code == 422
    assert admin_api.get("/api/v1/customers", ordering="password").status_code == 422


def test_list_ordering_by_name_is_keyset_stable(org, admin_api, make_customer):
    for name in ("丙公司", "甲公司", "乙公司"):
        make_customer(org["admin"], name=name)
    page = admin_api.get("/api/v1/customers", ordering="name", limit=2).json()
    rest = admin_api.get(
        "/api/v1/customers", ordering="name", limit=2, cursor=page["next_cursor"]
    ).json()
    names = [c["name"] for c in page["items"] + rest["items"]]
    assert names == sorted(names)


def test_list_filters(org, admin_api, make_customer):
    a = make_customer(
        org["admin"],
        status="cooperating",
        province="北京市",
        city="",
        district="海淀区",
        tags=["大客户"],
    )
    make_customer(org["admin"], status="potential")
    assert [
        c["id"] for c in admin_api.get("/api/v1/customers", status="cooperating").json()["items"]
    ] == [a.pk]
    assert [
        c["id"] for c in admin_api.get("/api/v1/customers", province="北京市").json()["items"]
    ] == [a.pk]
    assert [c["id"] for c in admin_api.get("/api/v1/customers", tag="大客户").json()["items"]] == [
        a.pk
    ]
    assert admin_api.get("/api/v1/customers", status="bogus").status_code == 422
    assert admin_api.get("/api/v1/customers", created_from="not-a-date").status_code == 422


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("华为", True),
        ("为技", True),
        ("华为技术", True),
        ("hwjs", True),
        ("huawei", True),
        ("zs", True),
        ("zhangsan", True),
        ("张三", True),
        ("华技", False),
        ("腾讯", False),
    ],
)
def test_search_chinese_pinyin_initials(org, admin_api, make_customer, query, expected):
    target = make_customer(org["admin"], name="深圳华为技术有限公司", contact_name="张三")
    make_customer(org["admin"], name="北京字节跳动科技有限公司", contact_name="李四")
    ids = [c["id"] for c in admin_api.get("/api/v1/customers", q=query).json()["items"]]
    assert (target.pk in ids) is expected


def test_search_exact_phone_and_code(org, admin_api, make_customer):
    target = make_customer(org["admin"], mobile="13712345678", phone="010-87654321")
    make_customer(org["admin"])
    for query in ("13712345678", "137 1234 5678", "010-87654321", target.code, target.code.lower()):
        ids = [c["id"] for c in admin_api.get("/api/v1/customers", q=query).json()["items"]]
        assert ids == [target.pk], query


def test_exact_phone_search_never_reveals_out_of_scope(org, make_customer):
    make_customer(org["rep_b"], mobile="13700000001")
    response = Api(org["rep_a"]).get("/api/v1/customers", q="13700000001")
    assert response.json()["items"] == []


def test_me(org):
    me = Api(org["manager"]).get("/api/v1/me").json()
    assert me["username"] == org["manager"].username
    assert me["roles"] == ["sales_manager"]
    assert me["department"]["name"] == "销售部"
    assert "customers.approve_customer" in me["permissions"]


def test_openapi_document_and_docs(org, admin_api):
    doc = admin_api.get("/api/v1/openapi.json")
    assert doc.status_code == 200
    paths = doc.json()["paths"]
    for path in (
        "/api/v1/customers",
        "/api/v1/customers/{id}",
        "/api/v1/customers/{id}/history",
        "/api/v1/auth/token",
        "/api/v1/me",
    ):
        assert path in paths, sorted(paths)
    docs = Client().get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert b"cdn" not in docs.content.lower()


def test_session_auth_works_on_api(org, client_for, make_customer):
    make_customer(org["admin"])
    response = client_for(org["admin"]).get("/api/v1/customers")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


def test_list_query_budget(org, admin_api, make_customer, django_assert_max_num_queries):
    for _ in range(30):
        make_customer(org["admin"], tags=["甲", "乙"])
    with django_assert_max_num_queries(12):
        response = admin_api.get("/api/v1/customers", limit=50)
    assert len(response.json()["items"]) == 30

"""The organisation admin pages (系统设置 → 用户 / 部门 / 角色) through the Django test client:
user list filters, create/edit with Chinese errors, lock/unlock/disable/reset/delete, the
department tree, the role editor, user import (real CSV and XLSX files) and export (parsed
back). Other roles get 403 and change nothing; every action leaves an audit entry."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from datetime import timedelta
from typing import Any

import pytest
import xlsxwriter
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from guanxi.accounts import services
from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import Department, Role, RoleScope, User
from guanxi.audit.models import AuditEntry
from guanxi.core.scopes import SCOPED_OBJECT_TYPES
from tests.accounts.test_org_services import db_state
from tests.conftest import PASSWORD, make_department, make_user

pytestmark = pytest.mark.django_db

NON_ADMINS = (
    "data_admin",
    "manager",
    "rep_a",
    "service_rep",
    "marketing",
    "finance",
    "analyst",
)
USER_LINK = re.compile(r'href="/settings/org/users/(\d+)/"')


@pytest.fixture
def admin(org: dict[str, Any], client_for: Any) -> Client:
    return client_for(org["admin"])


def listed_ids(html: str) -> set[int]:
    return {int(pk) for pk in USER_LINK.findall(html)}


def audit_of(action: str, obj: Any = None) -> AuditEntry:
    """The latest entry of ``action`` (on ``obj`` when given)."""
    entries = AuditEntry.objects.filter(action=action)
    if obj is not None:
        entries = entries.filter(object_id=str(obj.pk))
    return entries.latest("id")


def text(response: Any) -> str:
    return response.content.decode()


# --- access -----------------------------------------------------------------------------


def org_urls(org: dict[str, Any]) -> list[str]:
    target, dept = org["rep_b"], org["team_b"]
    role = Role.objects.get(code="analyst")
    return [
        reverse("org:users"),
        reverse("org:user_create"),
        reverse("org:user_detail", args=[target.pk]),
        reverse("org:user_edit", args=[target.pk]),
        reverse("org:user_lock", args=[target.pk]),
        reverse("org:user_disable", args=[target.pk]),
        reverse("org:user_reset_password", args=[target.pk]),
        reverse("org:user_action", args=[target.pk, "unlock"]),
        reverse("org:user_action", args=[target.pk, "delete"]),
        reverse("org:user_import"),
        reverse("org:import_template"),
        reverse("org:user_export") + "?format=xlsx",
        reverse("org:departments"),
        reverse("org:department_create"),
        reverse("org:department_edit", args=[dept.pk]),
        reverse("org:department_delete", args=[dept.pk]),
        reverse("org:roles"),
        reverse("org:role_create"),
        reverse("org:role_edit", args=[role.pk]),
    ]


@pytest.mark.parametrize("who", NON_ADMINS)
def test_other_roles_get_403_and_change_nothing(org, client_for, who):
    client = client_for(org[who])
    for url in org_urls(org):
        assert client.get(url).status_code == 403, url
    target = org["rep_b"]
    before = db_state()
    posts = {
        reverse("org:user_create"): {"username": "intruder", "name": "闯入者", "password": "x"},
        reverse("org:user_lock", args=[target.pk]): {"reason": "试试"},
        reverse("org:user_disable", args=[target.pk]): {"reason": "试试"},
        reverse("org:user_reset_password", args=[target.pk]): {},
        reverse("org:user_action", args=[target.pk, "delete"]): {},
        reverse("org:department_create"): {"name": "影子部门"},
        reverse("org:role_create"): {"code": "shadow", "name": "影子", "read_scope": "all"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert db_state() == before


def test_anonymous_is_sent_to_login(org):
    response = Client().get(reverse("org:users"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- user list --------------------------------------------------------------------------


def test_user_list_filters_by_department_status_role_and_search(org, admin):
    locked = make_user("sales_rep", org["team_a"], name="林锁定")
    services.user_lock(actor=org["admin"], user=locked, until=None, reason="离职交接")
    gone = make_user("sales_rep", org["team_b"], name="赵已删")
    services.user_soft_delete(actor=org["admin"], user=gone)
    url = reverse("org:users")

    everyone = text(admin.get(url))
    assert gone.pk not in listed_ids(everyone)  # deleted users only on request
    assert {org["admin"].pk, org["rep_a"].pk, locked.pk} <= listed_ids(everyone)
    live = User.objects.exclude(status=UserStatus.DELETED).count()
    assert f"共 {live} 人" in everyone
    for label in ("用户管理", "部门管理", "角色管理", "新建用户", "批量导入", "导出 CSV"):
        assert label in everyone

    sales = listed_ids(text(admin.get(url, {"department_id": org["sales"].pk})))
    assert sales == {org["manager"].pk, org["rep_a"].pk, org["rep_b"].pk, locked.pk}

    assert listed_ids(text(admin.get(url, {"status": "locked"}))) == {locked.pk}
    deleted = text(admin.get(url, {"status": "deleted"}))
    assert listed_ids(deleted) == {gone.pk}
    assert 'data-status="deleted"' in deleted and "已删除" in deleted

    services_only = listed_ids(text(admin.get(url, {"role": "service_rep"})))
    assert services_only == {org["service_rep"].pk}
    assert listed_ids(text(admin.get(url, {"q": "林锁"}))) == {locked.pk}
    both = {"department_id": org["sales"].pk, "status": "active"}
    assert listed_ids(text(admin.get(url, both))) == {
        org["manager"].pk,
        org["rep_a"].pk,
        org["rep_b"].pk,
    }


def test_user_list_htmx_answers_the_table_only(org, admin):
    response = admin.get(
        reverse("org:users"),
        {"role": "sales_rep"},
        headers={"HX-Request": "true", "HX-Target": "user-table"},
    )
    html = text(response)
    assert response.status_code == 200
    assert "<html" not in html and 'data-testid="user-count"' in html
    assert listed_ids(html) == {org["rep_a"].pk, org["rep_b"].pk}


# --- create / edit ----------------------------------------------------------------------


def test_create_user_shows_each_error_in_chinese_and_keeps_input(org, admin):
    before = User.objects.count()
    response = admin.post(
        reverse("org:user_create"),
        {
            "username": "坏 名字",
            "name": "",
            "employee_no": "E9",
            "department_id": "",
            "mobile": "12345",
            "email": "not-an-email",
            "password": "Strong-pass-2026",
        },
    )
    assert response.status_code == 422
    html = text(response)
    assert 'data-field-error="username"' in html and "用户名须为3至150个字符" in html
    assert 'data-field-error="name"' in html and "此项为必填项" in html
    assert 'data-field-error="department_id"' in html
    assert 'data-field-error="mobile"' in html and "手机" in html
    assert 'data-field-error="email"' in html and "邮箱" in html
    assert 'value="E9"' in html and 'value="12345"' in html
    assert User.objects.count() == before
    refused = audit_of("user.create")
    assert (refused.result, refused.actor_id) == ("failed", org["admin"].pk)


def test_create_user_duplicate_username_and_weak_password(org, admin):
    data = {
        "username": org["rep_a"].username,
        "name": "重名",
        "department_id": org["team_a"].pk,
        "password": "Strong-pass-2026",
    }
    html = text(admin.post(reverse("org:user_create"), data))
    assert f"用户名“{org['rep_a'].username}”已被使用" in html
    data.update(username="newbie", password="123")
    response = admin.post(reverse("org:user_create"), data)
    assert response.status_code == 422
    assert 'data-field-error="password"' in text(response)
    assert not User.objects.filter(username="newbie").exists()


def test_create_user_with_password_roles_and_department(org, admin):
    response = admin.post(
        reverse("org:user_create"),
        {
            "username": "liuyang",
            "name": "刘洋",
            "employee_no": "E2001",
            "department_id": org["team_a"].pk,
            "title": "销售代表",
            "mobile": "138 0013 8000",
            "email": "LiuYang@Example.com",
            "gender": "male",
            "roles": ["sales_rep"],
            "password": "Strong-pass-2026",
            "must_change_password": "on",
        },
    )
    user = User.objects.get(username="liuyang")
    assert response.status_code == 302
    assert response["Location"] == reverse("org:user_detail", args=[user.pk])
    assert (user.name, user.department, user.mobile) == ("刘洋", org["team_a"], "13800138000")
    assert [r.code for r in user.roles.all()] == ["sales_rep"]
    assert user.check_password("Strong-pass-2026") and user.must_change_password
    entry = audit_of("user.create", user)
    assert (entry.actor_id, entry.result, entry.ip) == (org["admin"].pk, "success", "127.0.0.1")
    assert entry.changes["roles"] == [None, ["sales_rep"]]
    detail = text(admin.get(response["Location"]))
    assert "用户“刘洋”已创建" in detail and "13800138000" in detail


def test_create_user_without_password_shows_a_temporary_one_once(org, admin):
    response = admin.post(
        reverse("org:user_create"),
        {"username": "temp_user", "name": "临时", "department_id": org["service"].pk},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = html_lib.unescape(re.search(r'value="([^"]+)" readonly', text(response))[1])
    user = User.objects.get(username="temp_user")
    assert user.check_password(password) and user.must_change_password
    assert password not in str(audit_of("user.create", user).changes)


def test_edit_user_fields_and_roles_username_fixed(org, admin):
    rep = org["rep_a"]
    url = reverse("org:user_edit", args=[rep.pk])
    form = text(admin.get(url))
    assert 'name="username"' in form and "disabled" in form
    response = admin.post(
        url,
        {
            "username": "hijacked",
            "name": "改名后",
            "department_id": org["team_b"].pk,
            "roles": ["sales_rep", "marketing"],
            "mobile": "13900001111",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.username != "hijacked"
    assert (rep.name, rep.department, rep.mobile) == ("改名后", org["team_b"], "13900001111")
    assert sorted(r.code for r in rep.roles.all()) == ["marketing", "sales_rep"]
    assert audit_of("user.update", rep).changes["name"][1] == "改名后"
    assert audit_of("user.roles", rep).params["added"] == ["marketing"]
    bad = admin.post(url, {"name": "", "department_id": org["team_b"].pk})
    assert bad.status_code == 422 and "此项为必填项" in text(bad)


# --- status actions ---------------------------------------------------------------------


def test_lock_with_until_and_reason_then_unlock(org, admin):
    rep = org["rep_b"]
    url = reverse("org:user_lock", args=[rep.pk])
    assert "锁定原因" in text(admin.get(url))

    past = timezone.localtime() - timedelta(hours=1)
    bad = admin.post(url, {"until": past.strftime("%Y-%m-%dT%H:%M"), "reason": ""})
    assert bad.status_code == 422
    assert "请填写锁定原因" in text(bad) and "锁定截止时间必须晚于当前时间" in text(bad)
    assert User.objects.get(pk=rep.pk).status == UserStatus.ACTIVE

    until = (timezone.localtime() + timedelta(days=2)).replace(second=0, microsecond=0)
    response = admin.post(url, {"until": until.strftime("%Y-%m-%dT%H:%M"), "reason": "调查中"})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.status, rep.locked_until, rep.lock_reason) == ("locked", until, "调查中")
    detail = text(admin.get(response["Location"]))
    assert f"锁定至 {until:%Y-%m-%d %H:%M}" in detail and "调查中" in detail
    assert audit_of("user.lock", rep).changes["status"] == ["active", "locked"]
    login = Client().post(reverse("login"), {"username": rep.username, "password": PASSWORD})
    assert login.status_code == 200 and "ERR-003" in text(login)  # refused at sign-in

    unlock = reverse("org:user_action", args=[rep.pk, "unlock"])
    assert "解锁用户" in text(admin.get(unlock))
    follow = admin.post(unlock, follow=True)
    assert "已解锁" in text(follow)
    rep.refresh_from_db()
    assert (rep.status, rep.locked_until, rep.lock_reason) == ("active", None, "")
    assert audit_of("user.unlock", rep).actor_id == org["admin"].pk


def test_disable_and_enable(org, admin):
    rep = org["rep_b"]
    response = admin.post(reverse("org:user_disable", args=[rep.pk]), {"reason": "停职"})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.status, rep.is_active) == ("disabled", False)
    assert audit_of("user.disable", rep).params["reason"] == "停职"
    admin.post(reverse("org:user_action", args=[rep.pk, "enable"]))
    rep.refresh_from_db()
    assert (rep.status, rep.is_active) == ("active", True)
    assert audit_of("user.enable", rep).result == "success"


def test_admin_cannot_lock_or_delete_themselves(org, admin):
    me = org["admin"]
    response = admin.post(reverse("org:user_lock", args=[me.pk]), {"reason": "手滑"}, follow=False)
    assert response.status_code == 422 and "不能锁定、禁用或删除自己的账号" in text(response)
    follow = admin.post(reverse("org:user_action", args=[me.pk, "delete"]), follow=True)
    assert "不能锁定、禁用或删除自己的账号" in text(follow)
    me.refresh_from_db()
    assert me.status == UserStatus.ACTIVE
    assert audit_of("user.delete", me).result in ("denied", "failed")


def test_reset_password_shows_it_once_and_forces_a_change(org, admin):
    rep = org["rep_b"]
    url = reverse("org:user_reset_password", args=[rep.pk])
    assert "重置密码" in text(admin.get(url))
    response = admin.post(url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = html_lib.unescape(re.search(r'value="([^"]+)" readonly', text(response))[1])
    rep.refresh_from_db()
    assert rep.check_password(password) and not rep.check_password(PASSWORD)
    assert rep.must_change_password
    entry = audit_of("user.reset_password", rep)
    assert entry.result == "success" and password not in str(entry.changes) + str(entry.params)


def test_soft_delete_marks_deleted_and_keeps_history(org, admin):
    rep = org["rep_b"]
    admin.post(reverse("org:user_lock", args=[rep.pk]), {"reason": "离职"})
    url = reverse("org:user_action", args=[rep.pk, "delete"])
    assert "历史记录保留" in text(admin.get(url))
    response = admin.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("org:users")

    rep.refresh_from_db()
    assert rep.status == UserStatus.DELETED and rep.deleted_at is not None
    assert not rep.is_active
    detail = text(admin.get(reverse("org:user_detail", args=[rep.pk])))
    assert 'data-status="deleted"' in detail and "已删除" in detail
    for label in ("删除用户", "锁定用户"):
        assert label in detail  # the account's history is still shown
    assert reverse("org:user_edit", args=[rep.pk]) not in detail
    assert audit_of("user.delete", rep).changes["status"] == ["locked", "deleted"]

    again = admin.post(
        reverse("org:user_create"),
        {"username": rep.username, "name": "新人", "department_id": org["team_b"].pk},
    )
    assert again.status_code == 422 and "已删除用户的用户名同样保留" in text(again)


# --- departments ------------------------------------------------------------------------


def tree_rows(html: str) -> list[tuple[int, int]]:
    """(department id, depth) in display order."""
    found = re.findall(r'data-department="(\d+)" data-depth="(\d+)"', html)
    return [(int(pk), int(depth)) for pk, depth in found]


def test_department_tree_create_and_edit_with_manager(org, admin):
    html = text(admin.get(reverse("org:departments")))
    rows = tree_rows(html)
    depth = {
        key: 0 if key == "head" else 1 if key in ("sales", "service") else 2
        for key in ("head", "sales", "service", "team_a", "team_b")
    }
    assert sorted(rows) == sorted((org[k].pk, d) for k, d in depth.items())
    members = dict(re.findall(r'data-department="(\d+)"[\s\S]*?data-members="(\d+)"', html))
    live = User.objects.exclude(status=UserStatus.DELETED)
    assert int(members[str(org["head"].pk)]) == live.count()  # the whole tree, as its link
    assert int(members[str(org["sales"].pk)]) == 3  # manager + the two teams' reps
    order = [pk for pk, _depth in rows]
    assert order[0] == org["head"].pk
    for team in ("team_a", "team_b"):  # each child right under its parent's subtree
        assert order.index(org[team].pk) > order.index(org["sales"].pk)
    assert abs(order.index(org["team_a"].pk) - order.index(org["team_b"].pk)) == 1

    new_url = reverse("org:department_create") + f"?parent={org['sales'].pk}"
    assert f'<option value="{org["sales"].pk}" selected>' in text(admin.get(new_url))
    response = admin.post(
        reverse("org:department_create"),
        {"name": "大客户组", "parent_id": org["sales"].pk, "manager_id": org["rep_a"].pk},
    )
    assert response.status_code == 302
    dept = Department.objects.get(name="大客户组")
    assert (dept.parent, dept.manager) == (org["sales"], org["rep_a"])
    assert audit_of("department.create", dept).actor_id == org["admin"].pk
    html = text(admin.get(reverse("org:departments")))
    assert (dept.pk, 2) in tree_rows(html)
    assert org["rep_a"].display_name in html

    duplicate = admin.post(
        reverse("org:department_create"), {"name": "销售一组", "parent_id": org["sales"].pk}
    )
    assert duplicate.status_code == 422
    assert "同一上级部门下已有名为“销售一组”的部门" in text(duplicate)
    empty = admin.post(reverse("org:department_create"), {"name": ""})
    assert empty.status_code == 422 and "此项为必填项" in text(empty)

    edit = reverse("org:department_edit", args=[org["sales"].pk])
    form = text(admin.get(edit))
    parents = re.search(r'<select name="parent_id"[\s\S]*?</select>', form).group(0)
    assert f'<option value="{org["service"].pk}"' in parents
    for inside in (org["sales"], org["team_a"]):  # no moving under itself
        assert f'<option value="{inside.pk}"' not in parents
    response = admin.post(
        edit,
        {
            "name": "销售中心",
            "parent_id": org["head"].pk,
            "manager_id": org["manager"].pk,
            "sort": "5",
        },
    )
    assert response.status_code == 302
    sales = Department.objects.get(pk=org["sales"].pk)
    assert (sales.name, sales.manager, sales.sort) == ("销售中心", org["manager"], 5)
    assert audit_of("department.update", sales).changes["name"] == ["销售部", "销售中心"]
    bad = admin.post(edit, {"name": "销售中心", "sort": "-3"})
    assert bad.status_code == 422 and "排序必须是0到99999之间的整数" in text(bad)


@pytest.mark.parametrize("page", ["org:users", "org:departments", "org:roles"])
def test_org_lists_query_the_same_for_more_rows(org, admin, page, django_assert_max_num_queries):
    """No query per row: more users (with department and roles), departments (with
    managers) and roles (with permissions and scopes) cost no more queries."""
    url = reverse(page)
    admin.get(url)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as baseline:
        assert admin.get(url).status_code == 200
    for i in range(3):
        dept = make_department(f"新部门{i}", org["sales"])
        member = make_user("sales_rep", dept)
        member.roles.add(Role.objects.get(code="service_rep"))
        Department.objects.filter(pk=dept.pk).update(manager=member)
        role = Role.objects.create(code=f"extra_{i}", name=f"附加角色{i}")
        role.permissions.set(Permission.objects.filter(codename="view_customer"))
        RoleScope.objects.create(role=role, object_type="customer", read_scope="all")
    with django_assert_max_num_queries(len(baseline)):
        assert admin.get(url).status_code == 200


# --- role editor ------------------------------------------------------------------------


def test_role_editor_groups_and_per_type_scopes(org, admin):
    html = text(admin.get(reverse("org:role_create")))
    for label in ("基础权限", "高级权限", "敏感权限", "查看范围", "编辑范围"):
        assert label in html
    for object_type, label in SCOPED_OBJECT_TYPES.items():
        assert f'name="scope_{object_type}_read"' in html
        assert f'name="scope_{object_type}_write"' in html
        assert str(label) in html

    view = Permission.objects.get(codename="view_customer")
    sensitive = Permission.objects.get(codename="view_sensitive_customer")
    data: dict[str, Any] = {
        "code": "regional",
        "name": "区域主管",
        "read_scope": "own",
        "write_scope": "own",
        "permissions": [str(view.pk), str(sensitive.pk)],
    }
    for object_type in SCOPED_OBJECT_TYPES:
        data[f"scope_{object_type}_read"] = "department_tree"
        data[f"scope_{object_type}_write"] = "department"
    response = admin.post(reverse("org:role_create"), data)
    assert response.status_code == 302, text(response)
    role = Role.objects.get(code="regional")
    assert set(role.permissions.all()) == {view, sensitive}
    scopes = {s.object_type: (s.read_scope, s.write_scope) for s in role.scopes.all()}
    assert scopes == dict.fromkeys(SCOPED_OBJECT_TYPES, ("department_tree", "department"))
    actions = set(
        AuditEntry.objects.filter(object_type="role", object_id=str(role.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"role.create", "role.permissions", "role.scopes"} <= actions

    edit = text(admin.get(reverse("org:role_edit", args=[role.pk])))
    assert f'value="{sensitive.pk}" id="perm-{sensitive.pk}" checked' in edit
    first = next(iter(SCOPED_OBJECT_TYPES))
    data.update({f"scope_{first}_read": "", f"scope_{first}_write": ""})
    assert admin.post(reverse("org:role_edit", args=[role.pk]), data).status_code == 302
    assert not RoleScope.objects.filter(role=role, object_type=first).exists()
    assert audit_of("role.scopes", role).changes["scopes"][1].get(first) is None


# --- import -----------------------------------------------------------------------------

HEADER = ["用户名", "姓名", "工号", "部门", "手机号", "邮箱", "性别", "角色"]
ZHAO_YI = [
    "zhao_yi",
    "赵一",
    "E301",
    "总公司/销售部/销售一组",
    "13800138001",
    "",
    "男",
    "sales_rep",
]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("用户")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def upload(client: Client, name: str, content: bytes) -> Any:
    file = io.BytesIO(content)
    file.name = name
    return client.post(reverse("org:user_import"), {"file": file})


def payload_of(html: str) -> str:
    return re.search(r'name="payload" value="([^"]+)"', html).group(1)


def test_import_csv_reports_row_errors_then_imports(org, admin):
    bad = csv_bytes(
        [
            HEADER,
            ZHAO_YI,
            ["qian_er", "", "E302", "不存在的部门", "12345", "bad-mail", "未知", "boss"],
            ["zhao_yi", "赵一重复", "E303", "客服部", "", "", "", ""],
            [org["rep_a"].username, "撞名", "E304", "客服部", "", "", "", ""],
        ]
    )
    response = upload(admin, "users.csv", bad)
    assert response.status_code == 422
    html = text(response)
    assert "4 行有错误" not in html and "3 行有错误" in html
    assert "文件中有错误，未导入任何数据" in html and 'name="payload"' not in html
    assert re.search(r'data-line="3"[\s\S]*?姓名：此项为必填项', html)
    for message in ("部门不存在", "性别只能是“男”或“女”", "角色“boss”不存在", "与第 2 行重复"):
        assert message in html
    assert f"用户名“{org['rep_a'].username}”已被使用" in html
    assert not User.objects.filter(username="zhao_yi").exists()

    good = csv_bytes(
        [
            HEADER,
            ZHAO_YI,
            ["qian_er", "钱二", "E302", "客服部", "", "qian@example.com", "女", "客服代表"],
        ],
        encoding="gb18030",
    )
    preview = upload(admin, "users.csv", good)
    assert preview.status_code == 200 and "2 行全部通过检查" in text(preview)
    assert not User.objects.filter(username="zhao_yi").exists()  # preview writes nothing
    done = admin.post(reverse("org:user_import"), {"payload": payload_of(text(preview))})
    assert done.status_code == 200 and "已导入 2 个用户" in text(done)
    found = re.findall(r'data-testid="temporary-password">([^<]+)<', text(done))
    passwords = [html_lib.unescape(p) for p in found]  # the page escapes & < > in them
    zhao, qian = User.objects.get(username="zhao_yi"), User.objects.get(username="qian_er")
    assert zhao.department == org["team_a"] and zhao.gender == "male"
    assert [r.code for r in qian.roles.all()] == ["service_rep"]
    assert zhao.check_password(passwords[0]) and qian.check_password(passwords[1])
    assert zhao.must_change_password and qian.must_change_password
    entry = audit_of("user.import")
    assert entry.params == {"count": 2, "usernames": ["zhao_yi", "qian_er"]}
    assert audit_of("user.create", zhao).params == {"source": "import"}


def test_import_xlsx_with_numeric_cells(org, admin):
    rows = [
        ["username", "name", "employee_no", "department", "mobile", "roles"],
        ["sun_san", "孙三", 4001, "客服部", 13800138003, "service_rep"],
        ["li_si", "李四", 4002, "销售二组", 13800138004, "sales_rep,marketing"],
        ["", "缺用户名", 4003, "客服部", "", ""],
    ]
    response = upload(admin, "users.xlsx", xlsx_bytes(rows))
    assert response.status_code == 422
    assert re.search(r'data-line="4"[\s\S]*?用户名：此项为必填项', text(response))

    response = upload(admin, "users.xlsx", xlsx_bytes(rows[:3]))
    assert response.status_code == 200, text(response)
    admin.post(reverse("org:user_import"), {"payload": payload_of(text(response))})
    sun = User.objects.get(username="sun_san")
    assert (sun.employee_no, sun.mobile, sun.department) == ("4001", "13800138003", org["service"])
    li = User.objects.get(username="li_si")
    assert sorted(r.code for r in li.roles.all()) == ["marketing", "sales_rep"]


def test_import_refuses_bad_files_and_tampered_payloads(org, admin):
    wrong_type = upload(admin, "users.pdf", b"%PDF-1.4")
    assert wrong_type.status_code == 422 and "仅支持 CSV" in text(wrong_type)
    no_columns = upload(admin, "users.csv", csv_bytes([["foo", "bar"], ["1", "2"]]))
    assert "缺少必需的列：用户名、姓名、部门" in text(no_columns)
    broken = upload(admin, "users.xlsx", b"PK\x03\x04 not really a workbook")
    assert "无法读取该 XLSX 文件" in text(broken)

    good = csv_bytes([HEADER, ["wu_liu", "吴六", "", "客服部", "", "", "", ""]])
    payload = payload_of(text(upload(admin, "users.csv", good)))
    tampered = admin.post(reverse("org:user_import"), {"payload": payload[:-3] + "abc"})
    assert tampered.status_code == 422 and "预览已过期或无效" in text(tampered)
    other_admin = make_user("admin", org["head"])
    client = Client()
    client.force_login(other_admin)
    stolen = client.post(reverse("org:user_import"), {"payload": payload})
    assert stolen.status_code == 422  # signed for the admin who uploaded it
    assert not User.objects.filter(username="wu_liu").exists()


def test_import_template_is_a_valid_import_file(org, admin):
    response = admin.get(reverse("org:import_template"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["username", "name", "employee_no", "department"]
    preview = upload(admin, "template.csv", response.content)
    assert preview.status_code == 200, text(preview)


# --- export -----------------------------------------------------------------------------


def test_export_csv_and_xlsx_follow_filters_and_are_audited(org, admin):
    services.user_update(
        actor=org["admin"],
        user=org["rep_a"],
        data={"name": "=HYPERLINK(1)", "mobile": "13800138005"},
    )
    params = {"department_id": org["sales"].pk}
    response = admin.get(reverse("org:user_export"), {**params, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        "attachment;" in response["Content-Disposition"] and "no-store" in response["Cache-Control"]
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["用户名", "姓名", "工号", "部门"] and rows[0][-2:] == [
        "状态",
        "最后登录",
    ]
    by_username = {r[0]: r for r in rows[1:]}
    sales = {org["manager"].username, org["rep_a"].username, org["rep_b"].username}
    assert set(by_username) == sales
    rep_a = by_username[org["rep_a"].username]
    assert rep_a[1] == "'=HYPERLINK(1)"  # formula neutralised
    assert rep_a[3] == "总公司/销售部/销售一组" and rep_a[5] == "13800138005"
    assert rep_a[8] == "销售代表" and rep_a[9] == "正常"
    entry = audit_of("user.export")
    assert entry.params["format"] == "csv" and entry.params["count"] == 3
    assert entry.params["filters"] == {"department_id": str(org["sales"].pk)}

    response = admin.get(reverse("org:user_export"), {**params, "format": "xlsx"})
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0)
    cells = sheet.to_python()
    assert [str(c) for c in cells[0]] == rows[0]
    xlsx_rows = {str(r[0]): [str(c) for c in r] for r in cells[1:]}
    assert set(xlsx_rows) == sales
    assert xlsx_rows[org["rep_a"].username][1] == "=HYPERLINK(1)"  # a string cell, not a formula
    assert xlsx_rows[org["rep_a"].username][5] == "13800138005"
    assert audit_of("user.export").params["format"] == "xlsx"


def test_export_masks_personal_values_without_the_sensitive_permission(org, client_for):
    exporter = make_user(None, org["head"])
    role = Role.objects.create(code="exporter", name="导出员")
    role.permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_user", "export_user"]
        )
    )
    exporter.roles.add(role)
    services.user_update(actor=org["admin"], user=org["rep_b"], data={"mobile": "13812345678"})
    response = client_for(exporter).get(
        reverse("org:user_export"), {"q": org["rep_b"].username, "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[5] for r in rows[1:]] == ["138****5678"]
    assert audit_of("user.export").params["masked"] is True

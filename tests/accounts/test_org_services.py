"""Organisation services: departments (tree, move, delete rules) and users (create, edit,
lock/disable/delete/reset with sessions and tokens cut), each refusal audited with the
database unchanged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from qsessions.models import Session

from guanxi.accounts import services
from guanxi.accounts.models import ApiToken, Department, Role, RoleScope, User
from guanxi.accounts.tokens import token_issue
from guanxi.audit.models import AuditEntry
from guanxi.core.errors import DeleteRefused, DuplicateRecord, PermissionDenied
from tests.conftest import PASSWORD, make_department, make_user

pytestmark = pytest.mark.django_db


def db_state() -> dict[str, Any]:
    """Everything the organisation services can change (the audit log excepted)."""
    return {
        "users": sorted(
            User.objects.values_list(
                "id",
                "username",
                "name",
                "employee_no",
                "department_id",
                "mobile",
                "email",
                "status",
                "locked_until",
                "lock_reason",
                "is_active",
                "password",
                "must_change_password",
                "deleted_at",
            )
        ),
        "user_roles": sorted(User.roles.through.objects.values_list("user_id", "role_id")),
        "departments": sorted(
            Department.objects.values_list("id", "name", "parent_id", "manager_id", "path", "sort")
        ),
        "roles": sorted(
            Role.objects.values_list(
                "id", "code", "name", "description", "read_scope", "write_scope", "require_2fa"
            )
        ),
        "role_perms": sorted(
            Role.permissions.through.objects.values_list("role_id", "permission_id")
        ),
        "scopes": sorted(
            RoleScope.objects.values_list("role_id", "object_type", "read_scope", "write_scope")
        ),
        "sessions": sorted(Session.objects.values_list("session_key", flat=True)),
        "tokens": sorted(ApiToken.objects.values_list("id", "revoked_at")),
    }


def assert_refused(call: Any, exc_type: Any, action: str) -> Any:
    """The call raises, nothing changed, and a refusal entry was written."""
    before = db_state()
    last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with pytest.raises(exc_type) as info:
        call()
    assert db_state() == before
    entry = AuditEntry.objects.filter(id__gt=last, action=action).latest("id")
    assert entry.result in ("denied", "failed")
    return info.value


def logged_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    client.get("/customers/")
    return client


def new_user_data(dept: Department, **extra: Any) -> dict[str, Any]:
    data = {"username": "wangwu", "name": "王五", "department_id": dept.pk}
    data.update(extra)
    return data


# --- departments ------------------------------------------------------------------------


def test_department_create_sets_path_and_audits(org):
    dept = services.department_create(
        actor=org["admin"], name="华南大区", parent=org["sales"], manager=org["manager"]
    )
    assert dept.path == f"{org['sales'].path}{dept.pk}/"
    entry = AuditEntry.objects.get(action="department.create", object_id=str(dept.pk))
    assert entry.actor == org["admin"]
    assert entry.changes["name"] == [None, "华南大区"]
    assert entry.changes["manager_id"] == [None, org["manager"].pk]


def test_department_create_validation_names_each_field(org):
    exc = assert_refused(
        lambda: services.department_create(
            actor=org["admin"], name="  ", parent=999999, manager=888888, sort=-1
        ),
        ValidationError,
        "department.create",
    )
    assert exc.message_dict == {
        "name": ["此项为必填项"],
        "parent_id": ["上级部门不存在"],
        "manager_id": ["负责人不存在或已停用"],
        "sort": ["排序必须是0到99999之间的整数"],
    }


def test_department_sibling_names_unique(org):
    exc = assert_refused(
        lambda: services.department_create(
            actor=org["admin"], name="销售一组", parent=org["sales"]
        ),
        ValidationError,
        "department.create",
    )
    assert "同一上级部门下已有名为“销售一组”的部门" in exc.message_dict["name"]
    # the same name elsewhere is fine
    services.department_create(actor=org["admin"], name="销售一组", parent=org["service"])


def test_department_create_needs_permission(org):
    assert_refused(
        lambda: services.department_create(actor=org["manager"], name="新部门"),
        PermissionDenied,
        "department.create",
    )


def test_department_move_repaths_subtree(org):
    region = services.department_create(actor=org["admin"], name="大区", parent=org["head"])
    services.department_update(
        actor=org["admin"], department=org["sales"], data={"parent_id": region.pk}
    )
    sales = Department.objects.get(pk=org["sales"].pk)
    team_a = Department.objects.get(pk=org["team_a"].pk)
    assert sales.path == f"{region.path}{sales.pk}/"
    assert team_a.path == f"{sales.path}{team_a.pk}/"
    entry = AuditEntry.objects.filter(action="department.update").latest("id")
    assert entry.changes["parent_id"] == [org["head"].pk, region.pk]
    assert entry.changes["path"][1] == sales.path


@pytest.mark.parametrize("target", ["sales", "team_a"])
def test_department_move_under_itself_or_descendant_refused(org, target):
    exc = assert_refused(
        lambda: services.department_update(
            actor=org["admin"], department=org["sales"], data={"parent_id": org[target].pk}
        ),
        ValidationError,
        "department.update",
    )
    assert exc.message_dict["parent_id"] == ["不能把部门移动到它自己或它的下级部门之下"]


def test_department_delete_refused_with_children_or_members(org):
    exc = assert_refused(
        lambda: services.department_delete(actor=org["admin"], department=org["sales"]),
        DeleteRefused,
        "department.delete",
    )
    assert "下级部门" in str(exc.message)
    exc = assert_refused(
        lambda: services.department_delete(actor=org["admin"], department=org["team_a"]),
        DeleteRefused,
        "department.delete",
    )
    assert "1 名成员" in str(exc.message)


def test_department_delete_empty_leaf_detaches_deleted_members(org):
    dept = make_department("临时组", org["sales"])
    gone = make_user("sales_rep", dept)
    services.user_soft_delete(actor=org["admin"], user=gone)
    services.department_delete(actor=org["admin"], department=dept)
    assert not Department.objects.filter(pk=dept.pk).exists()
    gone.refresh_from_db()
    assert gone.department_id is None
    entry = AuditEntry.objects.filter(action="department.delete").latest("id")
    assert entry.params["detached_deleted_users"] == [gone.pk]


def test_department_delete_refused_when_customers_reference_it(org, make_customer):
    dept = make_department("客户组", org["sales"])
    rep = make_user("sales_rep", dept)
    make_customer(rep)
    services.user_update(actor=org["admin"], user=rep, data={"department_id": org["team_a"].pk})
    exc = assert_refused(
        lambda: services.department_delete(actor=org["admin"], department=dept),
        DeleteRefused,
        "department.delete",
    )
    assert "客户" in str(exc.message)


# --- users: create and edit -------------------------------------------------------------


def test_user_create_normalises_sets_password_roles_and_audits(org):
    user = services.user_create(
        actor=org["admin"],
        data=new_user_data(
            org["team_a"], mobile="＋86 138-0013-8000", email=" WangWu@Example.COM ", gender="男"
        ),
        password="Zx-9876-abcd",
        roles=["sales_rep", "客服代表"],
    )
    user.refresh_from_db()
    assert user.mobile == "13800138000"
    assert user.email == "wangwu@example.com"
    assert user.gender == "male"
    assert user.check_password("Zx-9876-abcd")
    assert sorted(user.roles.values_list("code", flat=True)) == ["sales_rep", "service_rep"]
    entry = AuditEntry.objects.get(action="user.create", object_id=str(user.pk))
    assert entry.changes["mobile"] == [None, "138****8000"]  # no plaintext in the log
    assert entry.changes["roles"] == [None, ["sales_rep", "service_rep"]]
    assert "Zx-9876-abcd" not in str(entry.changes) + str(entry.params)


def test_user_create_reports_every_bad_field(org):
    exc = assert_refused(
        lambda: services.user_create(
            actor=org["admin"],
            data={"username": "a b", "name": "", "department_id": None, "mobile": "12345"},
            password="",
            roles=["nope"],
        ),
        ValidationError,
        "user.create",
    )
    errors = exc.message_dict
    assert errors["username"] == ["用户名须为3至150个字符，只能包含字母、数字和 _ . @ + -"]
    assert errors["name"] == ["此项为必填项"]
    assert errors["department_id"] == ["此项为必填项"]
    assert errors["mobile"] == ["手机号码必须是11位中国大陆手机号"]
    assert errors["password"] == ["此项为必填项"]
    assert errors["roles"] == ["角色“nope”不存在"]


def test_user_create_weak_password_refused_and_nothing_written(org):
    exc = assert_refused(
        lambda: services.user_create(
            actor=org["admin"], data=new_user_data(org["team_a"]), password="123"
        ),
        ValidationError,
        "user.create",
    )
    assert exc.message_dict["password"]
    assert not User.objects.filter(username="wangwu").exists()


def test_username_reserved_even_after_delete(org):
    services.user_soft_delete(actor=org["admin"], user=org["rep_b"])
    exc = assert_refused(
        lambda: services.user_create(
            actor=org["admin"],
            data=new_user_data(org["team_a"], username=org["rep_b"].username.upper()),
            password="Zx-9876-abcd",
        ),
        DuplicateRecord,
        "user.create",
    )
    assert exc.extra["matched_on"] == ["username"]


def test_user_create_needs_permission(org):
    assert_refused(
        lambda: services.user_create(
            actor=org["manager"], data=new_user_data(org["team_a"]), password="Zx-9876-abcd"
        ),
        PermissionDenied,
        "user.create",
    )


def test_cannot_grant_role_with_permissions_one_lacks(org):
    """A user administrator without admin rights cannot make someone (or themselves) admin."""
    services.role_create(
        actor=org["admin"],
        data={"code": "hr", "name": "人事"},
        permissions=["accounts.view_user", "accounts.add_user", "accounts.change_user"],
    )
    hr = make_user("hr", org["head"])
    exc = assert_refused(
        lambda: services.user_update(actor=hr, user=org["rep_a"], data={"roles": ["admin"]}),
        PermissionDenied,
        "user.update",
    )
    assert "您不能授予自己没有的权限" in str(exc.message)
    # a role within their own rights is fine
    services.user_update(actor=hr, user=org["rep_a"], data={"roles": ["hr"]})


def test_cannot_change_own_roles(org):
    exc = assert_refused(
        lambda: services.user_set_roles(actor=org["admin"], user=org["admin"], roles=["analyst"]),
        PermissionDenied,
        "user.roles",
    )
    assert str(exc.message) == "不能修改自己的角色，请让其他管理员操作"


def test_user_update_fields_and_roles_audited(org):
    rep = org["rep_a"]
    services.user_update(
        actor=org["admin"],
        user=rep,
        data={"title": "高级销售", "department_id": org["team_b"].pk, "roles": ["sales_manager"]},
    )
    rep.refresh_from_db()
    assert rep.title == "高级销售" and rep.department_id == org["team_b"].pk
    update = AuditEntry.objects.filter(action="user.update").latest("id")
    assert update.changes == {
        "department_id": [org["team_a"].pk, org["team_b"].pk],
        "title": ["", "高级销售"],
    }
    roles = AuditEntry.objects.filter(action="user.roles").latest("id")
    assert roles.changes == {"roles": [["sales_rep"], ["sales_manager"]]}


def test_username_cannot_change(org):
    exc = assert_refused(
        lambda: services.user_update(
            actor=org["admin"], user=org["rep_a"], data={"username": "other"}
        ),
        ValidationError,
        "user.update",
    )
    assert exc.message_dict["username"] == ["用户名创建后不可修改"]


def test_update_is_all_or_nothing(org):
    """A bad status in the same call rolls back the field edit before it."""
    assert_refused(
        lambda: services.user_update(
            actor=org["admin"],
            user=org["rep_a"],
            data={"title": "改了", "status": "locked", "lock_reason": ""},
        ),
        ValidationError,
        "user.update",
    )


def test_lock_fields_only_go_with_status_locked(org):
    """The rule holds for every caller (API, pages, scripts), not only the API serializer."""
    exc = assert_refused(
        lambda: services.user_update(
            actor=org["admin"],
            user=org["rep_a"],
            data={"status": "disabled", "lock_reason": "调查中", "locked_until": None},
        ),
        ValidationError,
        "user.update",
    )
    message = "仅在状态为“锁定”（locked）时可以填写"
    assert exc.message_dict == {"lock_reason": [message], "locked_until": [message]}


# --- users: status, sessions and tokens -------------------------------------------------


@pytest.mark.parametrize("how", ["lock", "disable", "delete", "reset"])
def test_status_changes_end_sessions_and_revoke_tokens(org, how):
    rep = org["rep_a"]
    client = logged_in(rep)
    other = logged_in(org["rep_b"])
    _raw, token = token_issue(user=rep)
    assert Session.objects.filter(user=rep).count() == 1
    admin = org["admin"]
    if how == "lock":
        services.user_lock(
            actor=admin, user=rep, until=timezone.now() + timedelta(hours=1), reason="离职交接"
        )
    elif how == "disable":
        services.user_disable(actor=admin, user=rep, reason="离职")
    elif how == "delete":
        services.user_soft_delete(actor=admin, user=rep)
    else:
        services.user_reset_password(actor=admin, user=rep)
    assert not Session.objects.filter(user=rep).exists()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/customers/").status_code == 302  # signed out
    assert other.get("/customers/").status_code == 200  # others untouched
    action = {"reset": "reset_password"}.get(how, how)
    entry = AuditEntry.objects.filter(action=f"user.{action}").latest("id")
    assert entry.params["sessions_ended"] == 1 and entry.params["tokens_revoked"] == 1


def test_lock_records_until_and_reason_unlock_clears(org):
    rep = org["rep_a"]
    until = timezone.now() + timedelta(hours=2)
    services.user_lock(actor=org["admin"], user=rep, until=until, reason="  多次异地登录 ")
    rep.refresh_from_db()
    assert (rep.status, rep.lock_reason) == ("locked", "多次异地登录")
    assert abs((rep.locked_until - until).total_seconds()) < 1
    services.user_unlock(actor=org["admin"], user=rep)
    rep.refresh_from_db()
    assert (rep.status, rep.locked_until, rep.lock_reason) == ("active", None, "")
    entry = AuditEntry.objects.filter(action="user.unlock").latest("id")
    assert entry.changes["status"] == ["locked", "active"]


def test_lock_needs_reason_and_future_time(org):
    exc = assert_refused(
        lambda: services.user_lock(
            actor=org["admin"],
            user=org["rep_a"],
            until=timezone.now() - timedelta(minutes=1),
            reason="",
        ),
        ValidationError,
        "user.lock",
    )
    assert exc.message_dict == {
        "lock_reason": ["请填写锁定原因"],
        "locked_until": ["锁定截止时间必须晚于当前时间"],
    }


@pytest.mark.parametrize("how", ["lock", "disable", "delete"])
def test_cannot_lock_disable_or_delete_yourself(org, how):
    admin = org["admin"]
    call = {
        "lock": lambda: services.user_lock(actor=admin, user=admin, until=None, reason="x"),
        "disable": lambda: services.user_disable(actor=admin, user=admin),
        "delete": lambda: services.user_soft_delete(actor=admin, user=admin),
    }[how]
    exc = assert_refused(call, ValidationError, f"user.{how}")
    assert exc.message_dict["status"] == ["不能锁定、禁用或删除自己的账号"]


def test_disable_enable_round_trip(org):
    rep = org["rep_a"]
    services.user_disable(actor=org["admin"], user=rep)
    rep.refresh_from_db()
    assert (rep.status, rep.is_active) == ("disabled", False)
    assert Client().login(username=rep.username, password=PASSWORD) is False
    services.user_enable(actor=org["admin"], user=rep)
    rep.refresh_from_db()
    assert (rep.status, rep.is_active) == ("active", True)


def test_soft_delete_keeps_row_history_and_clears_manager(org):
    services.department_update(
        actor=org["admin"], department=org["sales"], data={"manager_id": org["manager"].pk}
    )
    services.user_soft_delete(actor=org["admin"], user=org["manager"])
    manager = User.objects.get(pk=org["manager"].pk)
    assert manager.status == "deleted" and manager.deleted_at and not manager.is_active
    assert Department.objects.get(pk=org["sales"].pk).manager_id is None
    assert AuditEntry.objects.filter(object_type="user", object_id=str(manager.pk)).count() >= 1
    # a deleted user can no longer be edited
    exc = assert_refused(
        lambda: services.user_update(actor=org["admin"], user=manager, data={"title": "x"}),
        ValidationError,
        "user.update",
    )
    assert exc.message_dict["status"] == ["该用户已删除，不能再修改"]


def test_reset_password_sets_temporary_password_that_must_change(org):
    rep = org["rep_a"]
    raw = services.user_reset_password(actor=org["admin"], user=rep)
    rep.refresh_from_db()
    assert rep.check_password(raw) and rep.must_change_password
    assert len(raw) >= 12
    entry = AuditEntry.objects.filter(action="user.reset_password").latest("id")
    assert raw not in str(entry.changes) + str(entry.params)


def test_status_services_need_change_permission(org):
    assert_refused(
        lambda: services.user_lock(actor=org["manager"], user=org["rep_a"], until=None, reason="x"),
        PermissionDenied,
        "user.lock",
    )
    assert_refused(
        lambda: services.user_soft_delete(actor=org["data_admin"], user=org["rep_a"]),
        PermissionDenied,
        "user.delete",
    )


def test_end_sessions_keeps_account_usable(org):
    rep = org["rep_a"]
    logged_in(rep)
    logged_in(rep)
    token_issue(user=rep)
    ended = services.user_end_sessions(actor=org["admin"], user=rep)
    assert ended == 3
    rep.refresh_from_db()
    assert rep.status == "active"
    assert Client().login(username=rep.username, password=PASSWORD)


def test_default_roles_follow_design(org):
    def perms(code: str) -> set[str]:
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Role.objects.get(code=code).permissions.select_related("content_type")
        }

    admin = perms("admin")
    assert {
        "accounts.add_user",
        "accounts.change_role",
        "accounts.export_user",
        "audit.view_auditentry",
        "audit.export_auditentry",
        "workflow.view_notification",
        "customers.view_sensitive_customer",
    } <= admin
    data_admin = perms("data_admin")
    assert "core.change_dictionaryitem" in data_admin and "customers.add_tag" in data_admin
    assert not any(p.startswith("accounts.") or p.startswith("audit.") for p in data_admin)
    relationship_read = {
        "customers.view_contact",
        "customers.view_followup",
        "customers.view_interaction",
        "customers.view_segment",
        "customers.add_segment",
        "workflow.view_task",
        "workflow.add_task",
        "workflow.change_task",
    }
    assert perms("sales_rep") == {
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
        *relationship_read,
        "customers.add_contact",
        "customers.change_contact",
        "customers.delete_contact",
        "customers.add_followup",
        "customers.change_followup",
        "customers.add_interaction",
        "customers.change_interaction",
        "reports.view_report",
        *(
            f"sales.{verb}_{kind}"
            for verb in ("view", "add", "change")
            for kind in ("contract", "order")
        ),
    }
    # Service reps read every follow-up and contact and edit none; they record interactions
    # (complaints, enquiries).
    assert perms("service_rep") == {
        "customers.view_customer",
        *relationship_read,
        "customers.add_interaction",
        "reports.view_report",
        "sales.view_contract",
        "sales.view_order",
    }
    # Finance records payments on every order, whoever owns it; it creates none.
    assert {"sales.view_order", "sales.change_order"} <= perms("finance")
    assert "sales.add_order" not in perms("finance")
    finance_order = RoleScope.objects.get(role__code="finance", object_type="order")
    assert (finance_order.read_scope, finance_order.write_scope) == ("all", "all")
    total = Permission.objects.filter(
        content_type__app_label__in=[
            "accounts",
            "core",
            "customers",
            "audit",
            "workflow",
            "dataio",
            "reports",
            "ops",
            "sales",
        ]
    ).count()
    assert len(admin) == total

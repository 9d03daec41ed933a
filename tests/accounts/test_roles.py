"""Roles: the permission catalog, role services (fields, permissions, scopes, delete rules,
no granting what you lack) and the role editor page saving permissions and scopes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from guanxi.accounts import services
from guanxi.accounts.models import Role, RoleScope
from guanxi.accounts.permission_catalog import ADVANCED, BASIC, SENSITIVE, catalog, group_dotted
from guanxi.audit.models import AuditEntry
from guanxi.core.errors import DeleteRefused, NotFound, PermissionDenied
from tests.accounts.test_org_services import assert_refused
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def perm(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def dotted_set(role: Role) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in role.permissions.select_related("content_type")
    }


# --- catalog ----------------------------------------------------------------------------


def test_catalog_groups_every_object_type_and_action(org):
    entries = {e.key: e for e in catalog()}
    assert {"customer", "user", "role", "department", "dictionary", "audit_entry"} <= set(entries)
    customer = {p.action: p for p in entries["customer"].all()}
    assert set(customer) == {
        "view",
        "add",
        "change",
        "delete",
        "export",
        "approve",
        "view_sensitive",
        "purge",
        "merge",
    }
    assert {customer[a].group for a in ("view", "add", "change")} == {BASIC}
    advanced = ("delete", "export", "approve", "purge", "merge")
    assert {customer[a].group for a in advanced} == {ADVANCED}
    assert customer["purge"].label == "彻底删除客户"
    assert customer["merge"].label == "合并客户"
    assert customer["view_sensitive"].group == SENSITIVE
    assert customer["view_sensitive"].label == "查看敏感信息客户"
    user = {p.action: p for p in entries["user"].all()}
    assert user["view"].group == BASIC
    assert user["add"].group == ADVANCED  # administering accounts is advanced
    assert user["view_sensitive"].group == SENSITIVE
    audit = {p.action: p.group for p in entries["audit_entry"].all()}
    assert audit == {"view": ADVANCED, "export": ADVANCED}
    # append-only: nobody can be granted editing the audit log
    assert all(p.dotted != "audit.change_auditentry" for e in entries.values() for p in e.all())


def test_group_dotted_counts_unknown_permissions_as_advanced(org):
    from guanxi.accounts.permission_catalog import catalog_index

    grouped = group_dotted(
        [perm("customers.view_customer"), perm("accounts.add_apitoken")], catalog_index()
    )
    assert grouped == {
        "basic": ["customers.view_customer"],
        "advanced": ["accounts.add_apitoken"],
        "sensitive": [],
    }


# --- services ---------------------------------------------------------------------------


def test_role_create_with_permissions_and_scopes_audited(org):
    role = services.role_create(
        actor=org["admin"],
        data={"code": "region_manager", "name": "大区经理", "read_scope": "department_tree"},
        permissions=["customers.view_customer", perm("customers.change_customer").pk],
        scopes={"customer": {"read_scope": "all", "write_scope": "department"}},
    )
    assert dotted_set(role) == {"customers.view_customer", "customers.change_customer"}
    scope = RoleScope.objects.get(role=role, object_type="customer")
    assert (scope.read_scope, scope.write_scope) == ("all", "department")
    actions = list(
        AuditEntry.objects.filter(object_type="role", object_id=str(role.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["role.create", "role.permissions", "role.scopes"]
    perms_entry = AuditEntry.objects.get(action="role.permissions", object_id=str(role.pk))
    assert perms_entry.changes["permissions"] == [
        [],
        ["customers.change_customer", "customers.view_customer"],
    ]
    scopes_entry = AuditEntry.objects.get(action="role.scopes", object_id=str(role.pk))
    assert scopes_entry.changes == {
        "scopes": [{}, {"customer": {"read": "all", "write": "department"}}]
    }


def test_role_update_system_role_and_code_is_fixed(org):
    role = Role.objects.get(code="sales_rep")
    services.role_update(
        actor=org["admin"], role=role, data={"name": "销售专员", "require_2fa": True}
    )
    role.refresh_from_db()
    assert role.name == "销售专员" and role.require_2fa and role.is_system
    entry = AuditEntry.objects.filter(action="role.update").latest("id")
    assert entry.changes == {"name": ["销售代表", "销售专员"], "require_2fa": [False, True]}
    exc = assert_refused(
        lambda: services.role_update(actor=org["admin"], role=role, data={"code": "x_rep"}),
        ValidationError,
        "role.update",
    )
    assert exc.message_dict["code"] == ["角色编码创建后不可修改"]


def test_role_validation_messages(org):
    exc = assert_refused(
        lambda: services.role_create(
            actor=org["admin"],
            data={"code": "Bad Code", "name": "销售经理", "read_scope": "everything"},
            scopes={"invoice": {"read": "all", "write": "all"}},
        ),
        ValidationError,
        "role.create",
    )
    assert exc.message_dict["scopes"] == ["“invoice”不是可设置数据范围的对象类型"]
    exc = assert_refused(
        lambda: services.role_create(
            actor=org["admin"],
            data={"code": "Bad Code", "name": "销售经理", "read_scope": "everything"},
        ),
        ValidationError,
        "role.create",
    )
    assert exc.message_dict == {
        "code": ["角色编码须为2至32个字符，以小写字母开头，只能包含小写字母、数字和下划线"],
        "name": ["角色名称“销售经理”已存在"],
        "read_scope": ["“everything”不是有效的数据范围"],
    }


def test_cannot_grant_permissions_one_lacks(org):
    services.role_create(
        actor=org["admin"],
        data={"code": "role_admin", "name": "角色管理员"},
        permissions=["accounts.view_role", "accounts.change_role", "customers.view_customer"],
    )
    helper = make_user("role_admin", org["head"])
    target = Role.objects.get(code="analyst")
    exc = assert_refused(
        lambda: services.role_set_permissions(
            actor=helper, role=target, permissions=["accounts.add_user"]
        ),
        PermissionDenied,
        "role.update",
    )
    assert "accounts.add_user" in str(exc.message)
    # removing, or granting what one holds, is allowed
    services.role_set_permissions(
        actor=helper, role=target, permissions=["customers.view_customer"]
    )
    assert dotted_set(Role.objects.get(pk=target.pk)) == {"customers.view_customer"}


def test_scope_rows_set_and_cleared(org):
    role = Role.objects.get(code="sales_rep")
    services.role_set_scopes(
        actor=org["admin"], role=role, scopes={"customer": {"read": "department", "write": "own"}}
    )
    assert RoleScope.objects.filter(role=role, object_type="customer").exists()
    services.role_set_scopes(actor=org["admin"], role=role, scopes={"customer": None})
    assert not RoleScope.objects.filter(role=role).exists()
    entry = AuditEntry.objects.filter(action="role.scopes").latest("id")
    assert entry.changes["scopes"] == [{"customer": {"read": "department", "write": "own"}}, {}]


def test_system_role_and_role_in_use_not_deletable(org):
    exc = assert_refused(
        lambda: services.role_delete(actor=org["admin"], role=Role.objects.get(code="analyst")),
        DeleteRefused,
        "role.delete",
    )
    assert "系统内置角色" in str(exc.message)
    custom = services.role_create(actor=org["admin"], data={"code": "temp", "name": "临时"})
    holder = make_user(None, org["head"])
    holder.roles.add(custom)
    exc = assert_refused(
        lambda: services.role_delete(actor=org["admin"], role=custom),
        DeleteRefused,
        "role.delete",
    )
    assert "1 名用户" in str(exc.message)
    services.user_soft_delete(actor=org["admin"], user=holder)
    services.role_delete(actor=org["admin"], role=custom)
    assert not Role.objects.filter(code="temp").exists()
    entry = AuditEntry.objects.filter(action="role.delete").latest("id")
    assert entry.params["removed_from_deleted_users"] == [holder.pk]


def test_role_services_need_permissions(org):
    role = Role.objects.get(code="analyst")
    assert_refused(
        lambda: services.role_update(actor=org["manager"], role=role, data={"name": "x"}),
        PermissionDenied,
        "role.update",
    )
    assert_refused(
        lambda: services.role_create(actor=org["data_admin"], data={"code": "xx", "name": "x"}),
        PermissionDenied,
        "role.create",
    )


def test_deleted_role_is_not_found_for_update(org):
    custom = services.role_create(actor=org["admin"], data={"code": "temp", "name": "临时"})
    stale = Role.objects.get(pk=custom.pk)
    services.role_delete(actor=org["admin"], role=custom)
    with pytest.raises(NotFound):
        services.role_update(actor=org["admin"], role=stale, data={"name": "y"})


# --- the role editor page ---------------------------------------------------------------


def editor_post(role: Role | None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": role.code if role else "",
        "name": role.name if role else "",
        "description": role.description if role else "",
        "read_scope": role.read_scope if role else "own",
        "write_scope": role.write_scope if role else "own",
        "scope_customer_read": "",
        "scope_customer_write": "",
    }
    if role:
        data["permissions"] = [str(p.pk) for p in role.permissions.all()]
    data.update(overrides)
    return data


def test_editor_shows_groups_and_checked_permissions(org, client_for):
    role = Role.objects.get(code="analyst")
    response = client_for(org["admin"]).get(reverse("org:role_edit", args=[role.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("基础权限", "高级权限", "敏感权限", "数据范围", "强制双因素认证", "客户"):
        assert label in html
    export_id = perm("customers.export_customer").pk
    assert f'value="{export_id}" id="perm-{export_id}" checked' in html
    sensitive_id = perm("customers.view_sensitive_customer").pk
    assert f'value="{sensitive_id}" id="perm-{sensitive_id}">' in html  # not checked


def test_editor_saves_permissions_scopes_and_2fa(org, client_for):
    role = Role.objects.get(code="analyst")
    client = client_for(org["admin"])
    ids = [
        str(perm(p).pk) for p in ("customers.view_customer", "customers.view_sensitive_customer")
    ]
    response = client.post(
        reverse("org:role_edit", args=[role.pk]),
        editor_post(
            role,
            permissions=ids,
            require_2fa="on",
            scope_customer_read="department_tree",
            scope_customer_write="own",
        ),
    )
    assert response.status_code == 302, response.content.decode()
    role.refresh_from_db()
    assert dotted_set(role) == {"customers.view_customer", "customers.view_sensitive_customer"}
    assert role.require_2fa
    scope = RoleScope.objects.get(role=role, object_type="customer")
    assert (scope.read_scope, scope.write_scope) == ("department_tree", "own")
    assert {"role.update", "role.permissions", "role.scopes"} <= set(
        AuditEntry.objects.filter(object_id=str(role.pk), object_type="role").values_list(
            "action", flat=True
        )
    )


def test_editor_keeps_permissions_outside_the_catalog(org, client_for):
    role = Role.objects.get(code="admin")
    hidden = perm("accounts.add_apitoken")
    assert role.permissions.filter(pk=hidden.pk).exists()
    shown = [p.permission.pk for e in catalog() for p in e.all()]
    assert hidden.pk not in shown
    data = editor_post(role, permissions=[str(pk) for pk in shown[:-1]])
    response = client_for(org["admin"]).post(reverse("org:role_edit", args=[role.pk]), data)
    assert response.status_code == 302
    assert role.permissions.filter(pk=hidden.pk).exists()
    assert not role.permissions.filter(pk=shown[-1]).exists()


def test_editor_creates_role_and_shows_errors_in_chinese(org, client_for):
    client = client_for(org["admin"])
    bad = client.post(reverse("org:role_create"), editor_post(None, code="X", name=""))
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "角色编码须为2至32个字符" in html and "此项为必填项" in html
    assert not Role.objects.filter(code="X").exists()
    ok = client.post(
        reverse("org:role_create"),
        editor_post(
            None,
            code="key_account",
            name="大客户经理",
            permissions=[str(perm("customers.view_customer").pk)],
        ),
    )
    assert ok.status_code == 302
    assert dotted_set(Role.objects.get(code="key_account")) == {"customers.view_customer"}


def test_role_pages_forbidden_without_permission(org, client_for):
    role = Role.objects.get(code="analyst")
    client = client_for(org["manager"])
    assert client.get(reverse("org:roles")).status_code == 403
    before = dotted_set(role)
    response = client.post(
        reverse("org:role_edit", args=[role.pk]), editor_post(role, permissions=[])
    )
    assert response.status_code == 403
    assert dotted_set(Role.objects.get(pk=role.pk)) == before


def test_role_list_and_delete_page(org, client_for):
    client = client_for(org["admin"])
    html = client.get(reverse("org:roles")).content.decode()
    assert "系统管理员" in html and 'data-role="sales_rep"' in html
    custom = services.role_create(actor=org["admin"], data={"code": "temp", "name": "临时"})
    assert client.get(reverse("org:role_delete", args=[custom.pk])).status_code == 200
    response = client.post(reverse("org:role_delete", args=[custom.pk]), follow=True)
    assert "角色“临时”已删除" in response.content.decode()
    system = Role.objects.get(code="analyst")
    response = client.post(reverse("org:role_delete", args=[system.pk]), follow=True)
    assert "系统内置角色" in response.content.decode()
    assert Role.objects.filter(code="analyst").exists()

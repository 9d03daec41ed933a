"""Access matrix (issue 3), organisation: every default role × the user, department and role
endpoints (API and the 系统设置 → 组织与权限 pages), read and write.

Users and departments are not split by data scope: the admin role alone administers them;
everyone else gets 403 and the organisation stays exactly as it was.
"""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.accounts.models import Department, Role, User
from guanxi.audit.models import AuditEntry
from tests.security.matrix import ACTOR_KEYS, World, ref, rule

pytestmark = pytest.mark.django_db

# --- organisation API ---------------------------------------------------------------------

ORG_READS: dict[str, str] = {
    "users": "/api/v1/users",
    "users-ordering": "/api/v1/users?ordering=password",
    "users-filter": "/api/v1/users?department_id=@sales&role=admin",
    "user": "/api/v1/users/@rep_b",
    "user-self": "/api/v1/users/@self",
    "user-missing": "/api/v1/users/987654321",
    "departments": "/api/v1/departments",
    "department": "/api/v1/departments/@sales",
    "roles": "/api/v1/roles",
    "permissions": "/api/v1/permissions",
}


@pytest.mark.parametrize("endpoint", list(ORG_READS))
@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_org_api_reads(world: World, actor: str, endpoint: str) -> None:
    response = world.api(actor).get(ref(world, actor, ORG_READS[endpoint]))
    if "org" not in rule(actor).may:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "ERR-002"
        assert "mx_" not in response.content.decode()
        return
    if endpoint == "user-missing":
        assert response.status_code == 404
    elif endpoint == "users-ordering":
        assert response.status_code in (200, 422)
    else:
        assert response.status_code == 200, response.content
    if endpoint == "user":
        # The organisation administrator sees personal values of users in full.
        assert response.json()["mobile"] == world.users["rep_b"].mobile


def _org_state(world: World) -> dict[str, Any]:
    spare = User.objects.get(pk=world.users["spare"].pk)
    return {
        "users": User.objects.count(),
        "departments": sorted(Department.objects.values_list("pk", "name", "parent_id")),
        "roles": sorted(
            (r.code, tuple(sorted(r.permissions.values_list("codename", flat=True))))
            for r in Role.objects.prefetch_related("permissions")
        ),
        "user_roles": sorted(User.roles.through.objects.values_list("user_id", "role_id")),
        "spare": (
            spare.status,
            spare.name,
            spare.title,
            spare.password,
            spare.deleted_at,
            spare.locked_until,
            spare.department_id,
        ),
    }


# name: (method, url, body, success status)
ORG_WRITES: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "create-user": (
        "post",
        "/api/v1/users",
        {
            "username": "mx_new_user",
            "password": "Matrix-pass-2026!",
            "name": "矩阵新用户",
            "department_id": "@team_a",
            "roles": ["sales_rep"],
        },
        201,
    ),
    "patch-user": ("patch", "/api/v1/users/@spare", {"title": "矩阵职务"}, 200),
    "disable-user": ("patch", "/api/v1/users/@spare", {"status": "disabled"}, 200),
    "move-user": ("patch", "/api/v1/users/@spare", {"department_id": "@east"}, 200),
    "grant-admin-to-other": ("patch", "/api/v1/users/@spare", {"roles": ["admin"]}, 200),
    "grant-admin-to-self": ("patch", "/api/v1/users/@self", {"roles": ["admin"]}, 200),
    "delete-user": ("delete", "/api/v1/users/@spare", {}, 204),
    "create-department": (
        "post",
        "/api/v1/departments",
        {"name": "矩阵新部门", "parent_id": "@head"},
        201,
    ),
    "patch-department": ("patch", "/api/v1/departments/@empty", {"name": "矩阵改名"}, 200),
    "delete-department": ("delete", "/api/v1/departments/@empty", {}, 204),
}


def _body(world: World, actor: str, body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, str) and value.startswith("@"):
            value = int(ref(world, actor, value))
        out[key] = value
    return out


@pytest.mark.parametrize("write", list(ORG_WRITES))
@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_org_api_writes(world: World, actor: str, write: str) -> None:
    method, template, body, ok_status = ORG_WRITES[write]
    before = _org_state(world)
    client = world.api(actor)
    url = ref(world, actor, template)
    payload = _body(world, actor, body)
    if method == "delete":
        response = client.delete(url)
    else:
        response = getattr(client, method)(url, payload, content_type="application/json")
    if "org" not in rule(actor).may:
        assert response.status_code == 403, response.content
        assert _org_state(world) == before, "a refused write changed the organisation"
        return
    assert response.status_code == ok_status, response.content
    if write != "grant-admin-to-self":  # the admin already holds it
        assert _org_state(world) != before


BAD_ORG_WRITES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "create-user": ("post", "/api/v1/users", {"username": ""}),
    "patch-user": ("patch", "/api/v1/users/@spare", {"status": "bogus"}),
    "create-department": ("post", "/api/v1/departments", {"parent_id": "x"}),
    "patch-department": ("patch", "/api/v1/departments/@empty", {"sort": -5}),
}


@pytest.mark.parametrize("write", list(BAD_ORG_WRITES))
@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_org_api_refusal_comes_before_validation(world: World, actor: str, write: str) -> None:
    method, template, body = BAD_ORG_WRITES[write]
    before = _org_state(world)
    client = world.api(actor)
    response = getattr(client, method)(
        ref(world, actor, template), body, content_type="application/json"
    )
    assert response.status_code == (422 if "org" in rule(actor).may else 403), response.content
    assert _org_state(world) == before
    audited = {"create-user": "user.create", "create-department": "department.create"}
    if "org" not in rule(actor).may and write in audited:
        assert AuditEntry.objects.filter(
            action=audited[write], result="denied", actor=world.users[actor]
        ).exists()


# --- organisation pages -------------------------------------------------------------------

ORG_PAGES: dict[str, str] = {
    "users": "/settings/org/users/",
    "users-search": "/settings/org/users/?q=mx_&ordering=password",
    "user-create": "/settings/org/users/new/",
    "user-import": "/settings/org/users/import/",
    "import-template": "/settings/org/users/import/template.csv",
    "user-export": "/settings/org/users/export/",
    "user-detail": "/settings/org/users/@spare/",
    "user-edit": "/settings/org/users/@spare/edit/",
    "user-lock": "/settings/org/users/@spare/lock/",
    "user-disable": "/settings/org/users/@spare/disable/",
    "user-reset-password": "/settings/org/users/@spare/reset-password/",
    "user-unlock": "/settings/org/users/@spare/unlock/",
    "user-enable": "/settings/org/users/@spare/enable/",
    "user-delete": "/settings/org/users/@spare/delete/",
    "user-end-sessions": "/settings/org/users/@spare/end_sessions/",
    "self-detail": "/settings/org/users/@self/",
    "departments": "/settings/org/departments/",
    "department-create": "/settings/org/departments/new/",
    "department-edit": "/settings/org/departments/@empty/edit/",
    "department-delete": "/settings/org/departments/@empty/delete/",
    "roles": "/settings/org/roles/",
    "role-create": "/settings/org/roles/new/",
    "role-edit": "/settings/org/roles/@role/",
    "role-delete": "/settings/org/roles/@role/delete/",
}


def _orgref(world: World, actor: str, template: str) -> str:
    role_pk = str(Role.objects.get(code="sales_rep").pk)
    return ref(world, actor, template.replace("@role", role_pk))


@pytest.mark.parametrize("page", list(ORG_PAGES))
@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_org_pages_get(world: World, actor: str, page: str) -> None:
    before = _org_state(world)
    response = world.browser(actor).get(_orgref(world, actor, ORG_PAGES[page]))
    if "org" not in rule(actor).may:
        assert response.status_code == 403
        assert "mx_spare" not in response.content.decode()
    else:
        assert response.status_code == 200
    assert _org_state(world) == before, "a GET changed the organisation"


# page: (url, form body); the admin's successful posts are checked for their effect.
ORG_POSTS: dict[str, tuple[str, dict[str, Any]]] = {
    "user-create": (
        "/settings/org/users/new/",
        {
            "username": "mx_page_user",
            "name": "矩阵页面用户",
            "department_id": "@team_a",
            "roles": ["admin"],
            "password": "Matrix-pass-2026!",
        },
    ),
    "user-edit": (
        "/settings/org/users/@spare/edit/",
        {"name": "矩阵改名", "department_id": "@team_b", "roles": ["admin"]},
    ),
    "self-edit": (
        "/settings/org/users/@self/edit/",
        {"name": "矩阵自己", "department_id": "@head", "roles": ["admin"]},
    ),
    "user-lock": ("/settings/org/users/@spare/lock/", {"reason": "矩阵"}),
    "user-disable": ("/settings/org/users/@spare/disable/", {"reason": "矩阵"}),
    "user-reset-password": ("/settings/org/users/@spare/reset-password/", {}),
    "user-delete": ("/settings/org/users/@spare/delete/", {}),
    "user-end-sessions": ("/settings/org/users/@spare/end_sessions/", {}),
    "user-import": ("/settings/org/users/import/", {"payload": "forged"}),
    "department-create": (
        "/settings/org/departments/new/",
        {"name": "矩阵页面部门", "parent_id": "@head"},
    ),
    "department-edit": ("/settings/org/departments/@empty/edit/", {"name": "矩阵改名"}),
    "department-delete": ("/settings/org/departments/@empty/delete/", {}),
    "role-edit": ("/settings/org/roles/@role/", {"name": "矩阵角色", "permissions": []}),
    "role-create": ("/settings/org/roles/new/", {"code": "mx_role", "name": "矩阵角色"}),
    "role-delete": ("/settings/org/roles/@role/delete/", {}),
}
# Posts whose success the admin matrix checks (the rest need the full editor form).
ADMIN_EFFECTS = {
    "user-create": lambda w: User.objects.filter(username="mx_page_user").exists(),
    "user-lock": lambda w: User.objects.get(pk=w.users["spare"].pk).status == "locked",
    "user-disable": lambda w: User.objects.get(pk=w.users["spare"].pk).status == "disabled",
    "user-reset-password": lambda w: (
        User.objects.get(pk=w.users["spare"].pk).password != w.users["spare"].password
    ),
    "user-delete": lambda w: User.objects.get(pk=w.users["spare"].pk).deleted_at is not None,
    "department-create": lambda w: Department.objects.filter(name="矩阵页面部门").exists(),
    "department-delete": lambda w: not Department.objects.filter(pk=w.depts["empty"].pk).exists(),
}


def _form(world: World, actor: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (ref(world, actor, v) if isinstance(v, str) and v.startswith("@") else v)
        for k, v in body.items()
    }


ORG_POST_CASES = [
    pytest.param(a, p, id=f"{a}-{p}")
    for a in ACTOR_KEYS
    for p in ORG_POSTS
    if "org" not in rule(a).may or p in ADMIN_EFFECTS
]


@pytest.mark.parametrize(("actor", "page"), ORG_POST_CASES)
def test_org_pages_post(world: World, actor: str, page: str) -> None:
    template, body = ORG_POSTS[page]
    before = _org_state(world)
    response = world.browser(actor).post(_orgref(world, actor, template), _form(world, actor, body))
    if "org" not in rule(actor).may:
        assert response.status_code == 403
        assert _org_state(world) == before, "a refused write changed the organisation"
        return
    assert response.status_code in (200, 302), response.content.decode()[:2000]
    assert ADMIN_EFFECTS[page](world)

"""Access matrix (issue 3), customers: every default role × every customer endpoint, API and
HTML, read and write, on records inside and outside the role's data scope.

Expected answers come from the rules table in ``tests.security.matrix`` (DESIGN.md and
API.md), never from the code under test. Every refused write is checked to leave the row
exactly as it was (a refusal after the write would be a leak).
"""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer
from tests.conftest import customer_data
from tests.security.matrix import (
    ACTOR_CUSTOMER,
    ACTOR_KEYS,
    ACTOR_LIVE_CUSTOMER,
    ACTOR_WRITE_TARGET,
    CUSTOMERS,
    OWNERS,
    USERS,
    World,
    can_read,
    may_assign,
    pairs,
    row,
    rule,
    sees_full,
    write_outcome,
)

pytestmark = pytest.mark.django_db

# --- the rules table itself mirrors the seeded defaults --------------------------------


@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_me_reports_roles_and_permissions(world: World, actor: str) -> None:
    """/me answers every signed-in user with the role and the permissions of the table."""
    response = world.api(actor).get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    user = world.users[actor]
    assert body["id"] == user.pk
    assert body["username"] == user.username
    role = USERS[actor][0]
    assert body["roles"] == ([role] if role else [])
    customer_perms = {p for p in body["permissions"] if p.startswith("customers.")}
    names = {
        "view": "view_customer",
        "add": "add_customer",
        "change": "change_customer",
        "delete": "delete_customer",
        "approve": "approve_customer",
        "export": "export_customer",
        "sensitive": "view_sensitive_customer",
    }
    for action, codename in names.items():
        assert (f"customers.{codename}" in customer_perms) == (action in rule(actor).may), codename
    org = {"accounts.view_user", "accounts.add_user", "accounts.change_user"}
    assert (org <= set(body["permissions"])) == ("org" in rule(actor).may)


# --- customers API: one record -----------------------------------------------------------


def _assert_not_found(response: Any, customer: Customer) -> None:
    assert response.status_code == 404, response.content
    text = response.content.decode()
    for secret in (customer.name, customer.code, customer.mobile, customer.email):
        assert secret not in text


def _assert_personal(data: dict[str, Any], customer: Customer, full: bool) -> None:
    for field_name in ("mobile", "phone", "email"):
        value, stored = data[field_name], getattr(customer, field_name)
        if full:
            assert value == stored, field_name
        else:
            assert value != stored and "*" in value, (field_name, value)


@pytest.mark.parametrize(("actor", "customer"), ACTOR_CUSTOMER)
def test_api_get(world: World, actor: str, customer: str) -> None:
    c = world.customers[customer]
    response = world.api(actor).get(f"/api/v1/customers/{c.pk}")
    if not can_read(actor, customer):
        _assert_not_found(response, c)
        assert response.json()["code"] == "ERR-005"
        return
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == c.pk and data["name"] == c.name
    _assert_personal(data, c, sees_full(actor, customer))


@pytest.mark.parametrize(("actor", "customer"), ACTOR_CUSTOMER)
def test_api_history(world: World, actor: str, customer: str) -> None:
    c = world.customers[customer]
    response = world.api(actor).get(f"/api/v1/customers/{c.pk}/history")
    if not can_read(actor, customer):
        _assert_not_found(response, c)
        return
    assert response.status_code == 200
    assert response.json()["items"]
    # Personal values in the history are masked for everyone (they were masked when logged).
    assert c.mobile not in response.content.decode()


@pytest.mark.parametrize(("actor", "customer"), ACTOR_CUSTOMER)
def test_api_reveal(world: World, actor: str, customer: str) -> None:
    c = world.customers[customer]
    response = world.api(actor).post(
        f"/api/v1/customers/{c.pk}/reveal", {"field": "mobile"}, content_type="application/json"
    )
    if not can_read(actor, customer):
        _assert_not_found(response, c)
    elif sees_full(actor, customer):
        assert response.status_code == 200
        assert response.json()["value"] == c.mobile
    else:
        assert response.status_code == 403
        assert c.mobile not in response.content.decode()


def _api_write(world: World, actor: str, c: Customer, action: str) -> Any:
    client = world.api(actor)
    url = f"/api/v1/customers/{c.pk}"
    if action == "change":
        body = {"address": "矩阵新地址 1 号", "version": c.version}
        return client.patch(url, body, content_type="application/json")
    if action == "status":
        body = {"status": "cooperating", "reason": "矩阵", "version": c.version}
        return client.post(f"{url}/status", body, content_type="application/json")
    return client.delete(url)


WRITES = {"change": ("change", 200), "status": ("change", 200), "delete": ("delete", 204)}
AUDIT_ACTIONS = {
    "change": "customer.update",
    "status": "customer.change_status",
    "delete": "customer.delete",
}


def _assert_refusal_audited(c: Customer, action: str) -> None:
    """Refused attempts are in the audit log too (DESIGN.md, rule 2)."""
    assert AuditEntry.objects.filter(
        action=AUDIT_ACTIONS[action], result="denied", object_id=str(c.pk)
    ).exists()


@pytest.mark.parametrize("action", list(WRITES))
@pytest.mark.parametrize(("actor", "customer"), ACTOR_WRITE_TARGET)
def test_api_write(world: World, actor: str, customer: str, action: str) -> None:
    c = world.customers[customer]
    perm, ok_status = WRITES[action]
    before = row(c.pk)
    response = _api_write(world, actor, c, action)
    expected = write_outcome(actor, customer, perm)
    if expected != "ok":
        assert response.status_code == int(expected), response.content
        if expected == "404":
            _assert_not_found(response, c)
        else:
            _assert_refusal_audited(c, action)
        assert row(c.pk) == before, "a refused write changed the row"
        return
    assert response.status_code == ok_status, response.content
    after = row(c.pk)
    assert after["version"] == before["version"] + 1
    if action == "change":
        assert after["address"] == "矩阵新地址 1 号"
    elif action == "status":
        assert after["status"] == "cooperating"
    else:
        assert after["deleted_at"] is not None


BAD_BODIES = {
    "change": ("patch", "", {"version": "abc", "mobile": "1" * 60}),
    "status": ("post", "/status", {"status": "no-such-status"}),
}


@pytest.mark.parametrize("action", list(BAD_BODIES))
@pytest.mark.parametrize(("actor", "customer"), ACTOR_WRITE_TARGET)
def test_api_refusal_comes_before_validation(
    world: World, actor: str, customer: str, action: str
) -> None:
    """Someone who may not write gets the refusal, not a review of their input (as the pages
    do: 404 outside the read scope, 403 without the permission, 404 outside the write scope)."""
    c = world.customers[customer]
    method, suffix, body = BAD_BODIES[action]
    before = row(c.pk)
    client = world.api(actor)
    url = f"/api/v1/customers/{c.pk}{suffix}"
    response = getattr(client, method)(url, body, content_type="application/json")
    expected = write_outcome(actor, customer, "change")
    assert response.status_code == (422 if expected == "ok" else int(expected)), response.content
    assert row(c.pk) == before
    if expected == "403":
        _assert_refusal_audited(c, action)


@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_api_create_refusal_comes_before_validation(world: World, actor: str) -> None:
    count = Customer.objects.count()
    response = world.api(actor).post(
        "/api/v1/customers", {"mobile": "x"}, content_type="application/json"
    )
    assert response.status_code == (422 if "add" in rule(actor).may else 403)
    assert Customer.objects.count() == count


# --- customers API: lists, search, create ------------------------------------------------


def _api_ids(world: World, actor: str, params: dict[str, Any]) -> tuple[int, set[int], Any]:
    response = world.api(actor).get("/api/v1/customers", {"limit": 500, **params})
    ids = (
        {item["id"] for item in response.json().get("items", [])}
        if response.status_code == 200
        else set()
    )
    return response.status_code, ids, response


def _readable_ids(world: World, actor: str) -> set[int]:
    return {world.customers[c].pk for c in CUSTOMERS if can_read(actor, c)}


@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_api_list_is_the_read_scope(world: World, actor: str) -> None:
    status, ids, response = _api_ids(world, actor, {})
    assert status == 200
    assert ids == _readable_ids(world, actor)
    by_id = {c.pk: key for key, c in world.customers.items()}
    for item in response.json()["items"]:
        key = by_id[item["id"]]
        _assert_personal(item, world.customers[key], sees_full(actor, key))


# Exact mobile (blind index), code, and name (n-gram tokens): the three search paths.
SEARCH_FIELDS = ["mobile", "code", "name"]


@pytest.mark.parametrize("by", SEARCH_FIELDS)
@pytest.mark.parametrize(("actor", "customer"), ACTOR_CUSTOMER)
def test_api_search_never_crosses_the_scope(
    world: World, actor: str, customer: str, by: str
) -> None:
    """An exact phone, e-mail, code or name finds the record only inside the read scope."""
    c = world.customers[customer]
    status, ids, _response = _api_ids(world, actor, {"q": getattr(c, by)})
    assert status == 200
    assert (c.pk in ids) == can_read(actor, customer)
    assert ids <= _readable_ids(world, actor)


@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_api_create(world: World, actor: str) -> None:
    count = Customer.objects.count()
    response = world.api(actor).post(
        "/api/v1/customers", customer_data(), content_type="application/json"
    )
    if "add" not in rule(actor).may:
        assert response.status_code == 403
        assert Customer.objects.count() == count
        return
    assert response.status_code == 201, response.content
    created = Customer.objects.get(pk=response.json()["id"])
    assert created.owner_id == world.users[actor].pk
    assert created.department_id == world.depts[USERS[actor][1]].pk
    assert world.api(actor).get(f"/api/v1/customers/{created.pk}").status_code == 200


@pytest.mark.parametrize(("actor", "owner"), pairs(ACTOR_KEYS, ACTOR_KEYS))
def test_api_create_for_another_owner(world: World, actor: str, owner: str) -> None:
    """Assigning a new customer to someone is limited to the actor's write scope."""
    count = Customer.objects.count()
    body = customer_data(owner_id=world.users[owner].pk)
    response = world.api(actor).post("/api/v1/customers", body, content_type="application/json")
    if "add" not in rule(actor).may:
        assert response.status_code == 403
    elif not may_assign(actor, owner):
        assert response.status_code == 422, response.content
        assert "owner_id" in response.json()["errors"]
    else:
        assert response.status_code == 201, response.content
        created = Customer.objects.get(pk=response.json()["id"])
        assert created.owner_id == world.users[owner].pk
        assert created.department_id == world.depts[USERS[owner][1]].pk
        return
    assert Customer.objects.count() == count


@pytest.mark.parametrize(("actor", "customer"), ACTOR_LIVE_CUSTOMER)
def test_api_duplicate_names_only_what_the_caller_may_see(
    world: World, actor: str, customer: str
) -> None:
    """A duplicate mobile is refused (409) naming only records in the caller's scope."""
    c = world.customers[customer]
    count = Customer.objects.count()
    body = customer_data(mobile=c.mobile)
    response = world.api(actor).post("/api/v1/customers", body, content_type="application/json")
    assert Customer.objects.count() == count
    if "add" not in rule(actor).may:
        assert response.status_code == 403
        return
    assert response.status_code == 409, response.content
    data = response.json()
    assert data["code"] == "ERR-012"
    named = [d["id"] for d in data["duplicates"]]
    if can_read(actor, customer):
        assert named == [c.pk]
        assert data["hidden_count"] == 0
    else:
        assert named == []
        assert data["hidden_count"] == 1
        text = response.content.decode()
        assert c.name not in text and c.code not in text


EDITORS = [a for a in ACTOR_KEYS if "change" in rule(a).may]


@pytest.mark.parametrize(
    ("actor", "customer"),
    [pytest.param(a, o, id=f"{a}-{o}") for a in EDITORS for o in OWNERS if o != a],
)
def test_api_update_duplicate_names_only_what_the_caller_may_see(
    world: World, actor: str, customer: str
) -> None:
    """Editing one's own customer to another's mobile: 409, naming only visible records."""
    own, c = world.customers[actor], world.customers[customer]
    before = row(own.pk)
    response = world.api(actor).patch(
        f"/api/v1/customers/{own.pk}",
        {"mobile": c.mobile, "version": own.version},
        content_type="application/json",
    )
    assert response.status_code == 409, response.content
    assert row(own.pk) == before
    data = response.json()
    assert [d["id"] for d in data["duplicates"]] == ([c.pk] if can_read(actor, customer) else [])
    if not can_read(actor, customer):
        assert c.name not in response.content.decode()


# Query strings that must neither fail nor widen the list: unknown keys, lookups smuggled
# into keys, orderings off the allow-list, malformed values.
PROBES: dict[str, dict[str, Any]] = {
    "ordering-password": {"ordering": "owner__password"},
    "ordering-bidx": {"ordering": "-mobile_bidx"},
    "ordering-join": {"ordering": "owner__department__name"},
    "ordering-double-dash": {"ordering": "--id"},
    "ordering-random": {"ordering": "?"},
    "ordering-valid": {"ordering": "name"},
    "owner-other": {"owner_id": "@rep_b"},
    "owner-garbage": {"owner_id": "1 OR 1=1"},
    "department-head": {"department_id": "@head"},
    "department-sales": {"department_id": "@sales"},
    "lookup-owner": {"owner__username": "mx_rep_b"},
    "lookup-deleted": {"deleted_at__isnull": "false"},
    "include-deleted": {"include_deleted": "1", "deleted": "true", "scope": "all"},
    "id-in": {"id__in": "@all", "pk": "@rep_b"},
    "review-status": {"review_status": "approved"},
    "bad-cursor": {"cursor": "bm90LWEtY3Vyc29y"},
}
PROBE_KEYS = list(PROBES)


def _probe(world: World, name: str) -> dict[str, Any]:
    def value(v: str) -> str:
        if not v.startswith("@"):
            return v
        key = v[1:]
        if key == "all":
            return ",".join(str(c.pk) for c in world.customers.values())
        if key in world.depts:
            return str(world.depts[key].pk)
        return str(world.users[key].pk)

    return {k: value(v) for k, v in PROBES[name].items()}


@pytest.mark.parametrize("probe", PROBE_KEYS)
@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_api_list_probes_never_widen(world: World, actor: str, probe: str) -> None:
    status, ids, response = _api_ids(world, actor, _probe(world, probe))
    assert status in (200, 422), response.content
    assert ids <= _readable_ids(world, actor)


# --- customer pages -----------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "customer"), ACTOR_CUSTOMER)
def test_html_detail(world: World, actor: str, customer: str) -> None:
    c = world.customers[customer]
    response = world.browser(actor).get(f"/customers/{c.pk}/")
    if not can_read(actor, customer):
        _assert_not_found(response, c)
        return
    assert response.status_code == 200
    text = response.content.decode()
    assert c.name in text
    for value in (c.mobile, c.phone, c.email):
        assert (value in text) == sees_full(actor, customer), value
    # Edit and delete are offered exactly where they would be allowed.
    assert (f"/customers/{c.pk}/edit/" in text) == (
        write_outcome(actor, customer, "change") == "ok"
    )
    assert (f"/customers/{c.pk}/delete/" in text) == (
        write_outcome(actor, customer, "delete") == "ok"
    )


@pytest.mark.parametrize(("actor", "customer"), ACTOR_CUSTOMER)
def test_html_reveal(world: World, actor: str, customer: str) -> None:
    c = world.customers[customer]
    response = world.browser(actor).post(f"/customers/{c.pk}/reveal/", {"field": "mobile"})
    if not can_read(actor, customer):
        _assert_not_found(response, c)
    elif sees_full(actor, customer):
        assert response.status_code == 200
        assert c.mobile in response.content.decode()
    else:
        assert response.status_code == 403
        assert c.mobile not in response.content.decode()


def _edit_form(c: Customer) -> dict[str, Any]:
    return {
        "name": c.name,
        "customer_type": c.customer_type,
        "contact_name": c.contact_name,
        "mobile": c.mobile,
        "phone": c.phone,
        "email": c.email,
        "province": c.province,
        "city": c.city,
        "district": c.district,
        "address": "矩阵新地址 2 号",
        "industry": c.industry,
        "category": c.category,
        "source": c.source,
        "notes": c.notes,
        "tags": "",
        "version": c.version,
    }


# page: (url suffix, permission, POST body builder)
PAGES: dict[str, tuple[str, str, Any]] = {
    "edit": ("edit/", "change", _edit_form),
    "status": (
        "status/",
        "change",
        lambda c: {"status": "cooperating", "reason": "矩阵", "version": c.version},
    ),
    "delete": ("delete/", "delete", lambda c: {}),
}


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize(("actor", "customer"), ACTOR_WRITE_TARGET)
def test_html_write_pages(world: World, actor: str, customer: str, page: str, method: str) -> None:
    c = world.customers[customer]
    suffix, perm, body = PAGES[page]
    url = f"/customers/{c.pk}/{suffix}"
    before = row(c.pk)
    client = world.browser(actor)
    response = client.get(url) if method == "get" else client.post(url, body(c))
    expected = write_outcome(actor, customer, perm)
    if expected != "ok":
        assert response.status_code == int(expected), response.status_code
        if expected == "404":
            _assert_not_found(response, c)
        elif method == "post":
            _assert_refusal_audited(c, "change" if page == "edit" else page)
        assert row(c.pk) == before, "a refused write changed the row"
        return
    after = row(c.pk)
    if method == "get":
        assert response.status_code == 200
        assert after == before
        return
    assert response.status_code == 302, response.content.decode()[:2000]
    assert after["version"] == before["version"] + 1
    if page == "edit":
        assert after["address"] == "矩阵新地址 2 号"
    elif page == "status":
        assert after["status"] == "cooperating"
    else:
        assert after["deleted_at"] is not None


@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_html_list_is_the_read_scope(world: World, actor: str) -> None:
    response = world.browser(actor).get("/customers/")
    assert response.status_code == 200
    text = response.content.decode()
    for key, c in world.customers.items():
        assert (c.name in text) == can_read(actor, key), key
        assert (c.mobile in text) == sees_full(actor, key), key


@pytest.mark.parametrize(("actor", "customer"), ACTOR_CUSTOMER)
def test_html_search_by_mobile(world: World, actor: str, customer: str) -> None:
    c = world.customers[customer]
    response = world.browser(actor).get("/customers/", {"q": c.mobile})
    assert response.status_code == 200
    text = response.content.decode()
    assert (c.name in text) == can_read(actor, customer)
    for key, other in world.customers.items():
        if key != customer:
            assert other.name not in text


HTML_PROBES = [
    "ordering-password",
    "ordering-join",
    "owner-other",
    "department-head",
    "lookup-owner",
    "include-deleted",
    "id-in",
]


@pytest.mark.parametrize("probe", HTML_PROBES)
@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_html_list_probes_never_widen(world: World, actor: str, probe: str) -> None:
    response = world.browser(actor).get("/customers/", _probe(world, probe))
    assert response.status_code in (200, 422)
    text = response.content.decode()
    for key, c in world.customers.items():
        if not can_read(actor, key):
            assert c.name not in text, key


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("actor", ACTOR_KEYS)
def test_html_create(world: World, actor: str, method: str) -> None:
    count = Customer.objects.count()
    client = world.browser(actor)
    data = customer_data()
    response = (
        client.get("/customers/new/") if method == "get" else client.post("/customers/new/", data)
    )
    if "add" not in rule(actor).may:
        assert response.status_code == 403
        assert Customer.objects.count() == count
        refusals = AuditEntry.objects.filter(
            action="customer.create", result="denied", actor=world.users[actor]
        )
        assert refusals.exists() == (method == "post")  # a refused submission is audited
        return
    if method == "get":
        assert response.status_code == 200
        return
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Customer.objects.get(name=data["name"])
    assert created.owner_id == world.users[actor].pk


@pytest.mark.parametrize(("actor", "customer"), ACTOR_LIVE_CUSTOMER)
def test_html_duplicate_names_only_what_the_caller_may_see(
    world: World, actor: str, customer: str
) -> None:
    c = world.customers[customer]
    count = Customer.objects.count()
    response = world.browser(actor).post("/customers/new/", customer_data(mobile=c.mobile))
    assert Customer.objects.count() == count
    if "add" not in rule(actor).may:
        assert response.status_code == 403
        return
    assert response.status_code in (409, 422)
    text = response.content.decode()
    assert (c.name in text) == can_read(actor, customer)
    assert c.code not in text or can_read(actor, customer)


# --- reassigning an owner moves visibility -----------------------------------------------


def _visible(world: World, actor: str, c: Customer) -> bool:
    status = world.api(actor).get(f"/api/v1/customers/{c.pk}").status_code
    _s, ids, _r = _api_ids(world, actor, {"q": c.mobile})
    assert status in (200, 404)
    assert (status == 200) == (c.pk in ids)
    return status == 200


def _reassign(world: World, actor: str, customer: str, owner: str) -> Any:
    c = Customer.objects.get(pk=world.customers[customer].pk)
    body = {"owner_id": world.users[owner].pk, "version": c.version}
    return world.api(actor).patch(
        f"/api/v1/customers/{c.pk}", body, content_type="application/json"
    )


# Whose view of a customer can change with its owner (the read-all roles see it anyway: one
# of them, the service rep, stands for the rest).
WATCHERS = ["admin", "manager", "manager_a", "rep_a", "rep_b", "rep_c", "service_rep"]
REASSIGNMENTS = [
    # (actor, customer, new owner)
    ("admin", "rep_a", "rep_b"),
    ("admin", "rep_a", "rep_c"),
    ("data_admin", "rep_c", "rep_a"),
    ("manager", "rep_a", "rep_b"),
    ("manager", "rep_b", "manager"),
    ("manager", "rep_a", "rep_c"),  # out of the manager's tree: refused
    ("manager", "rep_a", "service_rep"),  # out of the tree: refused
    ("manager_a", "rep_a", "rep_b"),  # sideways: refused
    ("manager_a", "rep_a", "manager"),  # upwards: refused
    ("rep_a", "rep_a", "rep_b"),  # a rep cannot give customers away
    ("rep_b", "rep_a", "rep_b"),  # nor take them
    ("service_rep", "rep_a", "service_rep"),
]


@pytest.mark.parametrize(
    ("actor", "customer", "owner"),
    [pytest.param(*r, id="{}-{}-to-{}".format(*r)) for r in REASSIGNMENTS],
)
def test_reassign_owner_moves_visibility(
    world: World, actor: str, customer: str, owner: str
) -> None:
    c = world.customers[customer]
    before = row(c.pk)
    watchers = WATCHERS
    seen_before = {w: _visible(world, w, c) for w in watchers}
    assert seen_before == {w: can_read(w, customer) for w in watchers}
    response = _reassign(world, actor, customer, owner)
    outcome = write_outcome(actor, customer, "change")
    if outcome == "ok" and not may_assign(actor, owner):
        outcome = "422"
    if outcome != "ok":
        assert response.status_code == int(outcome), response.content
        assert row(c.pk) == before
        assert {w: _visible(world, w, c) for w in watchers} == seen_before
        return
    assert response.status_code == 200, response.content
    after = row(c.pk)
    assert after["owner_id"] == world.users[owner].pk
    assert after["department_id"] == world.depts[USERS[owner][1]].pk
    # Visibility now follows the new owner, for everyone.
    for w in watchers:
        assert _visible(world, w, c) == can_read(w, owner), w
    # The previous owner (a rep) can no longer write it either.
    if customer != owner and USERS[customer][0] == "sales_rep":
        stale = Customer.objects.get(pk=c.pk)
        kept = row(c.pk)
        refused = world.api(customer).patch(
            f"/api/v1/customers/{c.pk}",
            {"address": "旧负责人", "version": stale.version},
            content_type="application/json",
        )
        assert refused.status_code == 404
        assert row(c.pk) == kept

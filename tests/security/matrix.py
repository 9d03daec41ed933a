"""The access matrix's expectations and its world (issue 3).

``RULES`` is a small declarative table written from DESIGN.md ("who uses it") and API.md,
not from the code under test; ``can_read``, ``write_outcome``, ``sees_full`` and
``may_assign`` derive each case's expected answer from it:

* outside the read scope a record is 404 (never 403, never data);
* inside the read scope, a write without the permission is 403, and a write on a record
  outside the write scope is 404;
* personal values are shown in full to the record's owner and to holders of the
  sensitive-data permission, masked to everyone else;
* the organisation (users, departments, roles) is administered by the admin role alone.

``build_world`` creates the departments, users (one per actor), customers (one per owner, one
in the recycle bin), API tokens and browser sessions the matrix runs against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from guanxi.accounts.models import Department, User
from guanxi.customers.models import Customer
from tests.conftest import customer_data, make_department, make_user

# --- the rules (the expected behaviour, independent of the implementation) ----------------

OWN, TREE, ALL = "own", "department_tree", "all"


@dataclass(frozen=True)
class Rule:
    """What a role may do: read and write scope for customers, and its actions.

    Actions: view, add, change, delete, approve, export (customers), sensitive (see personal
    values of any customer in full), org (administer users, departments and roles).
    """

    read: str | None
    write: str | None
    may: frozenset[str]


_MANAGE = frozenset({"view", "add", "change", "delete", "approve", "export", "sensitive"})
_READ_ONLY = frozenset({"view"})
RULES: dict[str | None, Rule] = {
    "admin": Rule(ALL, ALL, _MANAGE | {"org"}),
    "data_admin": Rule(ALL, ALL, _MANAGE),
    "sales_manager": Rule(TREE, TREE, _MANAGE),
    "sales_rep": Rule(OWN, OWN, frozenset({"view", "add", "change"})),
    # Read everything, never edit customer base data (DESIGN.md: 客服代表 ... cannot edit).
    "service_rep": Rule(ALL, None, _READ_ONLY),
    "marketing": Rule(ALL, None, _READ_ONLY),
    "finance": Rule(ALL, None, _READ_ONLY),
    "analyst": Rule(ALL, None, _READ_ONLY | {"export"}),
    None: Rule(None, None, frozenset()),  # a user without any role
}

# key: (name, parent key)
DEPARTMENTS: dict[str, tuple[str, str | None]] = {
    "head": ("矩阵总公司", None),
    "sales": ("矩阵销售部", "head"),
    "team_a": ("矩阵销售一组", "sales"),
    "team_b": ("矩阵销售二组", "sales"),
    "east": ("矩阵华东销售部", "head"),
    "service": ("矩阵客服部", "head"),
    "empty": ("矩阵空部门", "head"),
}
# key: (role code, department key) — everyone who calls an endpoint in the matrix.
ACTORS: dict[str, tuple[str | None, str]] = {
    "admin": ("admin", "head"),
    "data_admin": ("data_admin", "head"),
    "manager": ("sales_manager", "sales"),
    "manager_a": ("sales_manager", "team_a"),  # the tree goes down, never up or sideways
    "rep_a": ("sales_rep", "team_a"),
    "rep_b": ("sales_rep", "team_b"),
    "rep_c": ("sales_rep", "east"),
    "service_rep": ("service_rep", "service"),
    "marketing": ("marketing", "head"),
    "finance": ("finance", "head"),
    "analyst": ("analyst", "head"),
    "norole": (None, "east"),
}
# Users that only appear as targets (organisation writes).
TARGETS: dict[str, tuple[str | None, str]] = {"spare": ("sales_rep", "team_b")}
USERS = {**ACTORS, **TARGETS}
# One live customer owned by each actor that can own one, plus one in the recycle bin.
OWNERS = [key for key in ACTORS if key != "norole"]
DELETED = "deleted"
CUSTOMERS = [*OWNERS, DELETED]
DELETED_OWNER = "rep_a"


def rule(actor: str) -> Rule:
    return RULES[USERS[actor][0]]


def _ancestors(dept: str) -> list[str]:
    chain = [dept]
    while DEPARTMENTS[chain[-1]][1] is not None:
        chain.append(DEPARTMENTS[chain[-1]][1])
    return chain


def subtree(dept: str) -> set[str]:
    return {d for d in DEPARTMENTS if dept in _ancestors(d)}


def owner_of(customer: str) -> str:
    return DELETED_OWNER if customer == DELETED else customer


def covers(scope: str | None, actor: str, owner: str) -> bool:
    """Whether ``scope`` held by ``actor`` includes what ``owner`` owns (or ``owner`` itself)."""
    if scope is None:
        return False
    if scope == ALL or owner == actor:
        return True
    if scope == TREE:
        return USERS[owner][1] in subtree(USERS[actor][1])
    return False


def can_read(actor: str, customer: str) -> bool:
    r = rule(actor)
    return customer != DELETED and "view" in r.may and covers(r.read, actor, owner_of(customer))


def write_outcome(actor: str, customer: str, action: str) -> str:
    """The expected outcome: "ok", or the refusal — 404 outside the read scope, 403 without
    the permission, 404 outside the write scope."""
    r = rule(actor)
    if not can_read(actor, customer):
        return "404"
    if action not in r.may:
        return "403"
    if not covers(r.write, actor, owner_of(customer)):
        return "404"
    return "ok"


def sees_full(actor: str, customer: str) -> bool:
    return can_read(actor, customer) and (
        owner_of(customer) == actor or "sensitive" in rule(actor).may
    )


def may_assign(actor: str, owner: str) -> bool:
    """Whether ``actor`` may create a customer owned by ``owner`` (within the write scope)."""
    return "add" in rule(actor).may and covers(rule(actor).write, actor, owner)


# --- the world, built once per module ----------------------------------------------------


@dataclass
class World:
    depts: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    # One client per actor and kind for the module: a new client loads the middleware again
    # (WhiteNoise scans the static files each time), which would dominate the run.
    clients: dict[tuple[str, str], Client] = field(default_factory=dict)

    def _client(self, actor: str, kind: str) -> Client:
        client = self.clients.get((actor, kind))
        if client is None:
            headers = {"Authorization": f"Bearer {self.tokens[actor]}"} if kind == "api" else {}
            client = self.clients[actor, kind] = Client(headers=headers)
        # Fresh cookies each time: nothing (a flash message, a changed session) carries over.
        client.cookies = SimpleCookie()
        if kind == "browser":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[actor]
        return client

    def api(self, actor: str) -> Client:
        """A bearer-token client (the integrators' way in)."""
        return self._client(actor, "api")

    def browser(self, actor: str) -> Client:
        """A client carrying the actor's signed-in browser session."""
        return self._client(actor, "browser")


def build_world() -> World:
    """Everything the matrix runs against (called once per test module)."""
    from guanxi.accounts.seeds import ensure_default_roles
    from guanxi.accounts.tokens import token_issue
    from guanxi.customers.services import customer_create, customer_delete

    ensure_default_roles()
    world = World()
    for key, (name, parent) in DEPARTMENTS.items():
        world.depts[key] = make_department(name, world.depts[parent] if parent else None)
    for n, (key, (role, dept)) in enumerate(USERS.items()):
        world.users[key] = make_user(
            role,
            world.depts[dept],
            username=f"mx_{key}",
            name=f"矩阵用户{key}",
            mobile=f"1366600{n:04d}",
            email=f"mx.{key}@example.com",
        )
    admin = world.users["admin"]
    for n, key in enumerate(CUSTOMERS):
        owner = world.users[owner_of(key)]
        world.customers[key] = customer_create(
            actor=admin,
            data=customer_data(
                name=f"矩阵{key}客户公司",
                mobile=f"1375550{n:04d}",
                phone=f"0755-8{n:07d}",
                email=f"matrix.{key}@example.com",
                status="not_cooperating",  # deletable, so a permitted delete succeeds
                owner_id=owner.pk,
            ),
        )
    customer_delete(actor=admin, customer=world.customers[DELETED])
    for key in ACTORS:
        world.tokens[key] = token_issue(user=world.users[key])[0]
        client = Client()
        client.force_login(world.users[key])
        world.sessions[key] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world


ROW_FIELDS = (
    "name",
    "address",
    "notes",
    "status",
    "owner_id",
    "department_id",
    "review_status",
    "version",
    "updated_at",
    "updated_by_id",
    "deleted_at",
    "mobile_bidx",
)


def row(pk: int) -> dict[str, Any]:
    return Customer.objects.filter(pk=pk).values(*ROW_FIELDS).get()


def pairs(actors: list[str], objects: list[str]) -> list[Any]:
    return [pytest.param(a, o, id=f"{a}-{o}") for a in actors for o in objects]


ACTOR_KEYS = list(ACTORS)
ACTOR_CUSTOMER = pairs(ACTOR_KEYS, CUSTOMERS)
ACTOR_LIVE_CUSTOMER = pairs(ACTOR_KEYS, OWNERS)
# Writes: one customer per place in the tree (the customers of the other read-only roles sit
# in the head office like the admin's and answer the same), plus the recycle bin.
WRITE_TARGETS = ["admin", "manager", "manager_a", "rep_a", "rep_b", "rep_c", "service_rep", DELETED]
ACTOR_WRITE_TARGET = pairs(ACTOR_KEYS, WRITE_TARGETS)


def ref(world: World, actor: str, template: str) -> str:
    """``template`` with each @key replaced by that department's or user's id (@self: the actor)."""

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "self":
            return str(world.users[actor].pk)
        if key in world.depts:
            return str(world.depts[key].pk)
        return str(world.users[key].pk)

    return re.sub(r"@(\w+)", sub, template)

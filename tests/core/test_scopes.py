"""Data scopes per role and object type: RoleScope rows over role defaults, widest role wins,
read and write apart, one query per request, and ``restrict`` as the only door."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.accounts.models import Department, Role, RoleScope, User
from guanxi.core.scopes import (
    ALL,
    DEPARTMENT,
    DEPARTMENT_TREE,
    OWN,
    effective_scope,
    object_type_of,
)
from guanxi.customers.models import Customer, StatusChange
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The same user as a new request would load it (no per-request caches)."""
    return User.objects.get(pk=user.pk)


def visible_ids(user: User, action: str = "view") -> set[int]:
    return set(Customer.objects.alive().restrict(fresh(user), action).values_list("pk", flat=True))


@pytest.fixture
def customers(org, make_customer):
    """One customer per sales rep and one of the manager's; all created by the admin."""
    admin = org["admin"]
    return {
        "a": make_customer(admin, owner_id=org["rep_a"].pk),
        "b": make_customer(admin, owner_id=org["rep_b"].pk),
        "manager": make_customer(admin, owner_id=org["manager"].pk),
        "admin": make_customer(admin),
    }


def test_object_type_is_declared_or_the_model_name():
    assert object_type_of(Customer) == "customer"
    assert object_type_of(Department) == "department"  # no declaration: its model name


def test_default_roles_fall_back_to_role_scopes(org):
    assert effective_scope(fresh(org["rep_a"]), "view", "customer") == OWN
    assert effective_scope(fresh(org["manager"]), "change", "customer") == DEPARTMENT_TREE
    service = fresh(org["service_rep"])
    assert effective_scope(service, "view", "customer") == ALL
    assert effective_scope(service, "change", "customer") == OWN
    assert effective_scope(service, "delete", "customer") == OWN


def test_role_scope_row_overrides_defaults_for_its_object_type_only(org):
    role = Role.objects.get(code="sales_rep")
    RoleScope.objects.create(
        role=role, object_type="customer", read_scope=DEPARTMENT, write_scope=OWN
    )
    rep = fresh(org["rep_a"])
    assert effective_scope(rep, "view", "customer") == DEPARTMENT
    assert effective_scope(rep, "change", "customer") == OWN
    assert effective_scope(rep, "view", "follow_up") == OWN  # no row: the role's default
    assert effective_scope(rep, "view") == OWN  # no object type: defaults only


def test_role_scope_row_can_narrow_a_wide_default(org, customers):
    role = Role.objects.get(code="service_rep")
    RoleScope.objects.create(role=role, object_type="customer", read_scope=OWN, write_scope=OWN)
    assert visible_ids(org["service_rep"]) == set()


def test_widest_scope_among_roles_wins_per_kind(org, customers):
    rep = org["rep_a"]
    rep.roles.add(Role.objects.get(code="service_rep"))  # read all, write own
    user = fresh(rep)
    assert effective_scope(user, "view", "customer") == ALL
    assert effective_scope(user, "change", "customer") == OWN
    assert visible_ids(rep) == {c.pk for c in customers.values()}
    assert visible_ids(rep, "change") == {customers["a"].pk}


def test_widest_wins_across_role_scope_rows_and_defaults(org):
    narrow = Role.objects.create(code="narrow", name="窄", read_scope=ALL, write_scope=ALL)
    RoleScope.objects.create(role=narrow, object_type="customer", read_scope=OWN, write_scope=OWN)
    wide = Role.objects.create(code="wide", name="宽", read_scope=OWN, write_scope=OWN)
    RoleScope.objects.create(
        role=wide, object_type="customer", read_scope=DEPARTMENT_TREE, write_scope=DEPARTMENT
    )
    user = make_user(None, org["sales"])
    user.roles.add(narrow, wide)
    user = fresh(user)
    assert effective_scope(user, "view", "customer") == DEPARTMENT_TREE
    assert effective_scope(user, "change", "customer") == DEPARTMENT
    assert effective_scope(user, "view", "order") == ALL  # narrow's default for other types


def test_department_scopes_filter_rows(org, customers):
    role = Role.objects.get(code="sales_manager")
    RoleScope.objects.create(
        role=role, object_type="customer", read_scope=DEPARTMENT_TREE, write_scope=DEPARTMENT
    )
    manager = org["manager"]  # in 销售部; rep_a and rep_b are in its two teams
    assert visible_ids(manager) == {customers["a"].pk, customers["b"].pk, customers["manager"].pk}
    # Write scope "department": only 销售部 itself (and the manager's own records).
    assert visible_ids(manager, "change") == {customers["manager"].pk}


def test_one_query_for_all_roles_and_scopes_then_cached(org):
    rep = org["rep_a"]
    rep.roles.add(Role.objects.get(code="service_rep"), Role.objects.get(code="analyst"))
    RoleScope.objects.create(
        role=Role.objects.get(code="analyst"), object_type="customer", read_scope=OWN
    )
    user = fresh(rep)
    with CaptureQueriesContext(connection) as queries:
        effective_scope(user, "view", "customer")
        effective_scope(user, "change", "customer")
        effective_scope(user, "view", "follow_up")
        effective_scope(user, "view")
    assert len(queries) == 1


def test_no_roles_inactive_and_anonymous_see_nothing(org, customers):
    from django.contrib.auth.models import AnonymousUser

    nobody = make_user(None, org["sales"])
    assert effective_scope(fresh(nobody), "view", "customer") is None
    assert visible_ids(nobody) == set()
    assert Customer.objects.restrict(AnonymousUser()).count() == 0
    rep = org["rep_a"]
    rep.is_active = False
    rep.save()
    assert visible_ids(rep) == set()


def test_superuser_sees_everything(org, customers):
    root = make_user(None, None, is_superuser=True)
    assert effective_scope(fresh(root), "change", "customer") == ALL
    assert visible_ids(root) == {c.pk for c in customers.values()}


def test_role_without_customer_view_permission_sees_no_customers(org, customers):
    """Scope filters rows; the view permission decides whether there are rows at all."""
    from guanxi.customers.selectors import customer_queryset

    role = Role.objects.create(code="warehouse", name="仓库", read_scope=ALL, write_scope=ALL)
    user = make_user(None, org["head"])
    user.roles.add(role)
    assert customer_queryset(fresh(user)).count() == 0


def test_scope_changes_apply_on_the_next_request(org, customers, client_for):
    """The per-request cache lives on the user object: a new request sees the new scope."""
    client = client_for(org["rep_a"])
    url = f"/api/v1/customers/{customers['b'].pk}"
    assert client.get(url).status_code == 404
    RoleScope.objects.create(
        role=Role.objects.get(code="sales_rep"), object_type="customer", read_scope=ALL
    )
    assert client.get(url).status_code == 200
    before = StatusChange.objects.count()
    # Read scope only: writes stay refused, as 404, and nothing changes.
    response = client.post(f"{url}/status", {"status": "lost"}, content_type="application/json")
    assert response.status_code == 404
    assert StatusChange.objects.count() == before
    customers["b"].refresh_from_db()
    assert customers["b"].status == "potential"


def test_write_scope_covering_the_read_scope_needs_no_query(org, customers):
    """``customer_writable`` asks the database only when writing reaches fewer rows than
    reading; its answer is the write scope's either way."""
    from guanxi.core.scopes import scope_covers
    from guanxi.customers.selectors import customer_writable

    rep = fresh(org["rep_a"])  # own / own
    assert scope_covers(rep, Customer, "change")
    with CaptureQueriesContext(connection) as ctx:
        assert customer_writable(rep, customers["a"])
    assert not ctx.captured_queries
    rep.roles.add(Role.objects.get(code="service_rep"))  # read all, write own
    wide_reader = fresh(rep)
    assert not scope_covers(wide_reader, Customer, "change")
    assert customer_writable(wide_reader, customers["a"])
    assert not customer_writable(wide_reader, customers["b"])

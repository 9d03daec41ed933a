"""Shared fixtures: an organisation with one user per default role, and customer factories."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.test import Client

from guanxi.accounts.models import Department, Role, User
from guanxi.accounts.seeds import ensure_default_roles
from guanxi.workflow.seeds import ensure_default_flows

PASSWORD = "Guanxi-test-2026"


def pytest_configure(config: pytest.Config) -> None:
    """Cheap password hashing for the suite (tests/fast_hasher.py); servers the tests start
    as processes keep the production settings."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = [
        "tests.fast_hasher.FastArgon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


_seq = itertools.count(1)


def make_department(name: str, parent: Department | None = None) -> Department:
    from guanxi.accounts.services import department_create

    return department_create(name=name, parent=parent)


def make_user(role_code: str | None, department: Department | None = None, **extra: Any) -> User:
    n = next(_seq)
    user = User.objects.create_user(
        username=extra.pop("username", f"{role_code or 'user'}{n}"),
        password=PASSWORD,
        name=extra.pop("name", f"测试用户{n}"),
        department=department,
        **extra,
    )
    if role_code:
        user.roles.add(Role.objects.get(code=role_code))
    return user


def customer_data(**overrides: Any) -> dict[str, Any]:
    """Valid create input; every call gives a unique name and mobile."""
    n = next(_seq)
    data = {
        "name": f"测试科技有限公司{n:05d}",
        "customer_type": "enterprise",
        "contact_name": "张三",
        "mobile": f"139{n:08d}",
        "province": "广东省",
        "city": "深圳市",
        "district": "南山区",
        "industry": "I",
        "category": "normal",
        "source": "web",
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached values must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _empty_report_tallies(request: pytest.FixtureRequest) -> None:
    """A transactional test starts on flushed tables, so the report tallies must be empty too.

    Django flushes between such tests table by table; on SQLite each DELETE fires the tally
    triggers, and customers deleted after the tally tables were flushed leave negative counts
    behind for the next test. (No deployment flushes tables: there the triggers keep the
    tallies equal to the rows.)
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from guanxi.reports.models import (
        CustomerDayTally,
        CustomerTally,
        FollowUpTally,
        StatusChangeTally,
    )

    for model in (CustomerTally, CustomerDayTally, StatusChangeTally, FollowUpTally):
        model.objects.all().delete()


@pytest.fixture
def org(db: Any) -> dict[str, Any]:
    """Head office with a sales department (two teams) and a service department."""
    ensure_default_roles()
    ensure_default_flows()
    head = make_department("总公司")
    sales = make_department("销售部", head)
    team_a = make_department("销售一组", sales)
    team_b = make_department("销售二组", sales)
    service = make_department("客服部", head)
    return {
        "head": head,
        "sales": sales,
        "team_a": team_a,
        "team_b": team_b,
        "service": service,
        "admin": make_user("admin", head, username="admin_user"),
        "data_admin": make_user("data_admin", head),
        "manager": make_user("sales_manager", sales),
        "rep_a": make_user("sales_rep", team_a),
        "rep_b": make_user("sales_rep", team_b),
        "service_rep": make_user("service_rep", service),
        "marketing": make_user("marketing", head),
        "finance": make_user("finance", head),
        "analyst": make_user("analyst", head),
    }


def mark_reviewed(customer: Any) -> None:
    """Test set-up: close a pending review as approved, straight in the database."""
    from guanxi.customers.models import Customer
    from guanxi.workflow.models import ApprovalRequest, ApprovalTask

    Customer.objects.filter(pk=customer.pk).update(review_status="approved")
    requests = ApprovalRequest.objects.filter(object_type="customer", object_id=customer.pk)
    ApprovalTask.objects.filter(request__in=requests).update(is_open=False)
    requests.update(status="approved")
    customer.review_status = "approved"


@pytest.fixture
def make_customer(db: Any):
    """Create customers through the real service as ``actor``. By default the record is
    then marked as having passed review (as if an approver had approved it, without a
    version bump); ``reviewed=False`` leaves a rep's new customer 待审核."""
    from guanxi.customers.services import customer_create

    def _make(actor: User, reviewed: bool = True, **overrides: Any):
        customer = customer_create(actor=actor, data=customer_data(**overrides))
        if reviewed and customer.review_status == "pending":
            mark_reviewed(customer)
        return customer

    return _make


@pytest.fixture
def client_for():
    """A logged-in Django test client for a user."""

    def _client(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return _client

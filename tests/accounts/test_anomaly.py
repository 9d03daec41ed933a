"""The anomaly alert: more than ANOMALY_ROLE_CHANGES role or permission changes by one user
within ANOMALY_WINDOW_MINUTES notify every admin and write ``security.anomaly`` to the audit
log, once per window per user (a continuing burst must not flood the admins' bell)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from guanxi.accounts import role_services, services
from guanxi.accounts.anomaly import ANOMALY_ACTION, check_role_change_burst
from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import User
from guanxi.audit.models import AuditEntry
from guanxi.core.errors import PermissionDenied
from guanxi.workflow.models import Notification, NotificationLevel
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LIMIT = 3
WINDOW = 10


@pytest.fixture(autouse=True)
def _anomaly_settings(settings: Any) -> None:
    settings.ANOMALY_ROLE_CHANGES = LIMIT
    settings.ANOMALY_WINDOW_MINUTES = WINDOW


@pytest.fixture
def actor(org: dict[str, Any]) -> User:
    """A second admin who makes the changes (so the alert's recipients are two admins)."""
    return make_user("admin", org["head"], username="admin_two")


def change_roles(actor: User, target: User, n: int, start: int = 0) -> None:
    """``n`` real role changes: the target alternates between one and two roles."""
    for i in range(start, start + n):
        roles = ["sales_rep", "marketing"] if i % 2 == 0 else ["sales_rep"]
        services.user_set_roles(actor=actor, user=target, roles=roles)


def alerts() -> Any:
    return Notification.objects.filter(kind=ANOMALY_ACTION)


def anomaly_entries() -> Any:
    return AuditEntry.objects.filter(action=ANOMALY_ACTION)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, timedelta]:
    """Move time forward (``clock["offset"]``) for the services and for new audit entries.

    The audit log is append-only (PostgreSQL refuses UPDATEs to it), so "old" changes are
    made by advancing the clock afterwards rather than by rewriting their timestamps.
    """
    real_now = timezone.now
    state = {"offset": timedelta(0)}

    def now() -> Any:
        return real_now() + state["offset"]

    monkeypatch.setattr(timezone, "now", now)
    # The field's default was bound to the original function when the model was defined.
    monkeypatch.setattr(AuditEntry._meta.get_field("occurred_at"), "_get_default", now)
    return state


def test_n_changes_raise_no_alert(org, actor):
    change_roles(actor, org["rep_a"], LIMIT)

    counted = AuditEntry.objects.filter(actor=actor, action="user.roles", result="success")
    assert counted.count() == LIMIT
    assert not alerts().exists()
    assert not anomaly_entries().exists()


def test_one_more_change_alerts_each_admin_once_with_an_audit_entry(org, actor):
    manager = org["manager"]
    change_roles(actor, org["rep_a"], LIMIT + 1)

    notes = list(alerts())
    assert sorted(n.recipient_id for n in notes) == sorted([org["admin"].pk, actor.pk])
    for note in notes:
        assert note.level == NotificationLevel.ALERT
        assert note.read_at is None
        assert f"{LIMIT + 1} 次角色或权限变更" in note.title
        assert f"{WINDOW} 分钟" in note.title
        assert actor.display_name in note.title
        assert actor.username in note.body
        assert note.url == reverse("org:user_detail", args=[actor.pk])
    assert not Notification.objects.filter(recipient=manager).exists()

    entry = anomaly_entries().get()
    assert entry.actor is None  # raised by the system, about the actor
    assert (entry.object_type, entry.object_id) == ("user", str(actor.pk))
    assert entry.result == "success"
    assert entry.params == {
        "kind": "role_changes",
        "count": LIMIT + 1,
        "threshold": LIMIT,
        "minutes": WINDOW,
    }


def test_a_continuing_burst_does_not_storm(org, actor):
    change_roles(actor, org["rep_a"], LIMIT + 1)
    change_roles(actor, org["rep_b"], 3 * LIMIT, start=LIMIT + 1)

    assert anomaly_entries().count() == 1
    assert alerts().count() == 2  # one per admin, not one per further change
    assert alerts().filter(recipient=org["admin"]).count() == 1


def test_changes_outside_the_window_do_not_count(org, actor, clock):
    change_roles(actor, org["rep_a"], LIMIT)
    clock["offset"] = timedelta(minutes=WINDOW, seconds=1)

    change_roles(actor, org["rep_a"], LIMIT, start=LIMIT)
    assert not alerts().exists(), "old changes were counted"

    change_roles(actor, org["rep_a"], 1, start=2 * LIMIT)
    assert anomaly_entries().get().params["count"] == LIMIT + 1


def test_changes_spread_inside_the_window_still_count(org, actor, clock):
    change_roles(actor, org["rep_a"], LIMIT)
    clock["offset"] = timedelta(minutes=WINDOW - 1)
    change_roles(actor, org["rep_a"], 1, start=LIMIT)
    assert anomaly_entries().get().params["count"] == LIMIT + 1


def test_a_new_burst_after_the_window_alerts_again(org, actor, clock):
    change_roles(actor, org["rep_a"], LIMIT + 1)
    clock["offset"] = timedelta(minutes=WINDOW, seconds=1)

    change_roles(actor, org["rep_a"], LIMIT, start=LIMIT + 1)
    assert anomaly_entries().count() == 1
    change_roles(actor, org["rep_a"], 1, start=2 * LIMIT + 1)
    assert anomaly_entries().count() == 2
    assert alerts().filter(recipient=org["admin"]).count() == 2


def test_each_user_is_counted_on_their_own(org, actor):
    change_roles(actor, org["rep_a"], LIMIT)
    change_roles(org["admin"], org["rep_b"], LIMIT)

    assert not alerts().exists()
    change_roles(org["admin"], org["rep_b"], 1, start=LIMIT)
    entry = anomaly_entries().get()
    assert entry.object_id == str(org["admin"].pk)


def test_role_edits_and_role_assignments_count_together(org, actor):
    role = role_services.role_create(
        actor=actor, data={"code": "auditor_x", "name": "临时审计"}, permissions=[]
    )
    role_services.role_set_permissions(
        actor=actor, role=role, permissions=["customers.view_customer"]
    )
    role_services.role_set_scopes(
        actor=actor, role=role, scopes={"customer": {"read": "all", "write": "own"}}
    )
    assert not alerts().exists()
    services.user_update(actor=actor, user=org["rep_a"], data={"roles": ["sales_rep", role]})

    entry = anomaly_entries().get()
    assert entry.params["count"] == LIMIT + 1
    assert alerts().count() == 2


def test_unchanged_saves_and_refusals_do_not_count(org, actor):
    target = org["rep_a"]
    for _ in range(LIMIT + 2):
        services.user_set_roles(actor=actor, user=target, roles=["sales_rep"])  # no change
    manager = org["manager"]
    for _ in range(LIMIT + 2):
        with pytest.raises(PermissionDenied):
            services.user_set_roles(actor=manager, user=target, roles=["admin"])

    assert AuditEntry.objects.filter(actor=manager, result="denied").count() == LIMIT + 2
    assert not alerts().exists()
    assert not anomaly_entries().exists()


def test_inactive_admins_get_no_alert(org, actor):
    locked_admin = make_user("admin", org["head"])
    User.objects.filter(pk=locked_admin.pk).update(status=UserStatus.DISABLED, is_active=False)
    change_roles(actor, org["rep_a"], LIMIT + 1)

    assert not alerts().filter(recipient=locked_admin).exists()
    assert alerts().count() == 2


def test_a_rolled_back_change_leaves_no_alert(org, actor):
    change_roles(actor, org["rep_a"], LIMIT)
    with pytest.raises(RuntimeError), transaction.atomic():
        change_roles(actor, org["rep_a"], 1, start=LIMIT)
        assert anomaly_entries().count() == 1
        raise RuntimeError("the surrounding work failed")

    assert not anomaly_entries().exists()
    assert not alerts().exists()


def test_no_alert_for_system_changes(org):
    assert check_role_change_burst(actor=None) is None
    for _ in range(LIMIT + 2):
        services.user_set_roles(actor=None, user=org["rep_a"], roles=["sales_rep", "marketing"])
        services.user_set_roles(actor=None, user=org["rep_a"], roles=["sales_rep"])
    assert not alerts().exists()

"""Reminder rules: each rule's finder, exactly-once under repeated and concurrent runs,
disabled rules, tasks / notifications / e-mail made only by the run that fired."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core import mail
from django.db import connection

from guanxi.workflow import reminders
from guanxi.workflow.models import Notification, Reminder, ReminderRule, Task
from guanxi.workflow.reminders import RULES, ensure_reminder_rules, run_reminders
from tests.conftest import make_user
from tests.workflow.task_support import NOW, at, make_contact, set_customer

pytestmark = pytest.mark.django_db


def _rule(code: str, **fields) -> ReminderRule:
    ensure_reminder_rules()
    ReminderRule.objects.filter(code=code).update(**fields)
    return ReminderRule.objects.get(code=code)


@pytest.fixture
def rep_customer(org, make_customer):
    """A cooperating customer of rep_a, created long ago and followed up yesterday."""
    customer = make_customer(org["rep_a"])
    return set_customer(
        customer, status="cooperating", created_at=at(1, 9), last_follow_up_at=at(23, 15)
    )


def test_the_four_rules_are_seeded_once(db):
    ReminderRule.objects.all().delete()
    ensure_reminder_rules()
    _rule("not_followed", params={"days": 9}, enabled=False)
    ensure_reminder_rules()
    assert sorted(ReminderRule.objects.values_list("code", flat=True)) == sorted(
        ["followup_due", "not_followed", "birthday_tomorrow", "close_date_near"]
    )
    kept = ReminderRule.objects.get(code="not_followed")
    assert kept.params == {"days": 9} and not kept.enabled
    assert "尚未提供" in RULES["close_date_near"].description


# --- followup_due --------------------------------------------------------------------------


def test_followup_due_fires_within_the_run_window_once(org, rep_customer):
    _rule("not_followed", enabled=False)
    set_customer(rep_customer, next_follow_up_at=at(24, 10, 10))
    assert run_reminders(NOW)["followup_due"] == 1
    reminder = Reminder.objects.get(rule="followup_due")
    assert reminder.recipient == org["rep_a"] and reminder.period == "2026-11-24"
    assert reminder.subject == f"customer:{rep_customer.pk}"
    task = reminder.task
    assert task.assignee == org["rep_a"] and task.customer == rep_customer
    assert task.due_at == at(24, 10, 10) and task.rule == "followup_due"
    assert task.department == org["team_a"]
    note = reminder.notification
    assert note.recipient == org["rep_a"] and rep_customer.name in note.title
    assert note.url == f"/customers/{rep_customer.pk}/"
    # the next runs of the day fire nothing more
    assert run_reminders(NOW + dt.timedelta(minutes=15))["followup_due"] == 0
    assert run_reminders(at(24, 23, 50))["followup_due"] == 0
    assert Task.objects.count() == 1
    assert Notification.objects.filter(kind__startswith="reminder").count() == 1
    assert mail.outbox == []  # e-mail is off by default


def test_followup_due_waits_for_its_window_and_ignores_other_days(org, rep_customer, make_customer):
    _rule("not_followed", enabled=False)
    set_customer(rep_customer, next_follow_up_at=at(24, 16))
    tomorrow = set_customer(make_customer(org["rep_a"]), next_follow_up_at=at(25, 9))
    assert run_reminders(NOW)["followup_due"] == 0
    assert run_reminders(at(24, 15, 50))["followup_due"] == 1
    # already passed earlier today still fires (a worker was down at the time)
    set_customer(tomorrow, next_follow_up_at=at(24, 8))
    assert run_reminders(at(24, 16))["followup_due"] == 1
    # rescheduled to another day: a new period, a new reminder
    set_customer(tomorrow, next_follow_up_at=at(25, 8))
    assert run_reminders(at(25, 7, 50))["followup_due"] == 1
    assert Reminder.objects.filter(rule="followup_due").count() == 3


def test_followup_due_skips_deleted_customers_and_disabled_owners(org, rep_customer, make_customer):
    _rule("not_followed", enabled=False)
    set_customer(rep_customer, next_follow_up_at=at(24, 9), deleted_at=at(24, 8))
    gone = make_user("sales_rep", org["team_a"])
    other = set_customer(make_customer(gone), next_follow_up_at=at(24, 9))
    type(gone).objects.filter(pk=gone.pk).update(status="disabled")
    assert run_reminders(NOW)["followup_due"] == 0
    assert other.owner_id == gone.pk and not Reminder.objects.exists()


def test_make_task_off_and_email_on(org, rep_customer, django_capture_on_commit_callbacks):
    _rule("not_followed", enabled=False)
    _rule("followup_due", make_task=False, send_email=True)
    type(org["rep_a"]).objects.filter(pk=org["rep_a"].pk).update(email="rep_a@example.com")
    set_customer(rep_customer, next_follow_up_at=at(24, 9, 30))
    with django_capture_on_commit_callbacks(execute=True):
        run_reminders(NOW)
    assert not Task.objects.exists()
    assert (
        Notification.objects.filter(kind__startswith="reminder", recipient=org["rep_a"]).count()
        == 1
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rep_a@example.com"]
    assert (
        message.subject.startswith("【关系 Guanxi】跟进提醒：")
        and rep_customer.name in message.body
    )
    assert f"/customers/{rep_customer.pk}/" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        run_reminders(NOW + dt.timedelta(minutes=15))
    assert len(mail.outbox) == 1


def test_disabled_rule_does_nothing(org, rep_customer):
    _rule("followup_due", enabled=False)
    _rule("not_followed", enabled=False)
    set_customer(rep_customer, next_follow_up_at=at(24, 9), last_follow_up_at=at(1, 9))
    assert run_reminders(NOW) == {"birthday_tomorrow": 0, "close_date_near": 0}
    assert not Reminder.objects.exists()
    assert not Notification.objects.filter(kind__startswith="reminder").exists()


# --- not_followed --------------------------------------------------------------------------


def test_not_followed_fires_once_per_lapse(org, rep_customer):
    _rule("followup_due", enabled=False)
    _rule("not_followed", make_task=True)  # seeded as a bell item only; tasks switched on
    assert run_reminders(NOW)["not_followed"] == 0  # followed up yesterday
    set_customer(rep_customer, last_follow_up_at=at(20, 15))
    assert run_reminders(NOW)["not_followed"] == 1
    reminder = Reminder.objects.get(rule="not_followed")
    assert reminder.period == "f2026-11-20"
    assert "超过 3 天未跟进" in reminder.notification.title
    assert reminder.task.due_at == at(24, 23, 59)
    # the same lapse, later runs and later days: nothing new
    assert run_reminders(NOW + dt.timedelta(days=2))["not_followed"] == 0
    # followed up again, then another lapse: a new reminder
    set_customer(rep_customer, last_follow_up_at=at(26, 9))
    assert run_reminders(at(29, 8))["not_followed"] == 0  # not yet three days
    assert run_reminders(at(29, 10))["not_followed"] == 1
    assert Reminder.objects.get(rule="not_followed", period="f2026-11-26")


def test_not_followed_by_default_rings_the_bell_without_filing_tasks(org, rep_customer):
    """Seeded without tasks: over an existing customer base the rule would otherwise file
    one task per lapsed customer the first time it runs."""
    _rule("followup_due", enabled=False)
    set_customer(rep_customer, last_follow_up_at=at(20, 15))
    assert run_reminders(NOW)["not_followed"] == 1
    reminder = Reminder.objects.get(rule="not_followed")
    assert reminder.task is None and reminder.notification is not None


def test_not_followed_days_parameter_status_and_never_followed(org, rep_customer, make_customer):
    _rule("followup_due", enabled=False)
    _rule("not_followed", params={"days": 7})
    set_customer(rep_customer, last_follow_up_at=at(20, 15))
    assert run_reminders(NOW)["not_followed"] == 0  # 4 days < 7
    never = set_customer(
        make_customer(org["rep_b"]),
        status="potential",
        created_at=at(10, 9),
        last_follow_up_at=None,
    )
    set_customer(make_customer(org["rep_b"]), status="lost", created_at=at(1, 9))
    set_customer(make_customer(org["rep_b"]), status="not_cooperating", created_at=at(1, 9))
    fresh = set_customer(make_customer(org["rep_b"]), status="potential", created_at=at(20, 9))
    assert run_reminders(NOW)["not_followed"] == 1
    reminder = Reminder.objects.get(rule="not_followed")
    assert reminder.subject == f"customer:{never.pk}" and reminder.period == "c2026-11-10"
    assert reminder.recipient == org["rep_b"]
    assert "尚无跟进记录" in reminder.notification.body
    assert not Reminder.objects.filter(subject=f"customer:{fresh.pk}").exists()


# --- birthday_tomorrow ---------------------------------------------------------------------


def test_birthday_tomorrow_reminds_the_owner_once(org, rep_customer):
    _rule("followup_due", enabled=False)
    _rule("not_followed", enabled=False)
    contact = make_contact(rep_customer, "王经理", dt.date(1980, 11, 25))
    make_contact(rep_customer, "赵工", dt.date(1985, 11, 26))
    deleted = make_contact(rep_customer, "钱总", dt.date(1975, 11, 25))
    type(deleted).objects.filter(pk=deleted.pk).update(deleted_at=NOW)
    assert run_reminders(NOW)["birthday_tomorrow"] == 1
    reminder = Reminder.objects.get(rule="birthday_tomorrow")
    assert reminder.subject == f"contact:{contact.pk}" and reminder.period == "2026-11-25"
    assert reminder.recipient == org["rep_a"] and reminder.task is None  # no task by default
    assert "王经理" in reminder.notification.title
    assert run_reminders(at(24, 20))["birthday_tomorrow"] == 0
    assert run_reminders(at(25, 8))["birthday_tomorrow"] == 1  # 赵工, the day after


def test_leap_day_birthdays_are_remembered_on_first_of_march(org, rep_customer):
    _rule("followup_due", enabled=False)
    _rule("not_followed", enabled=False)
    make_contact(rep_customer, "闰年生", dt.date(1996, 2, 29))
    assert run_reminders(at(28, 10, month=2))["birthday_tomorrow"] == 1  # 2026 is no leap year


def test_close_date_near_yields_nothing_until_sales_exists(org, rep_customer):
    assert list(RULES["close_date_near"].finder(_rule("close_date_near"), NOW)) == []
    assert run_reminders(NOW)["close_date_near"] == 0


# --- exactly once under concurrency --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_fire_each_reminder_once(org, make_customer, monkeypatch):
    """Two threads (two database connections) evaluate the same rules at the same moment.

    A slow notification step keeps the first insert's transaction open, so the second
    worker's insert of the same key really has to wait and lose. SQLite serialises whole
    write transactions, so there the race is the sequential case (tested above).
    """
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite runs them one after another")
    ensure_reminder_rules()
    customers = [
        set_customer(
            make_customer(org["rep_a"]),
            status="cooperating",
            created_at=at(1, 9),
            last_follow_up_at=at(23, 9),
            next_follow_up_at=at(24, 9, i),
        )
        for i in range(3)
    ]
    slow_notify = reminders.notify

    def notify(*args, **kwargs):
        time.sleep(0.2)
        return slow_notify(*args, **kwargs)

    monkeypatch.setattr(reminders, "notify", notify)
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(run_reminders(NOW))
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sum(r["followup_due"] for r in results) == 3
    assert Reminder.objects.filter(rule="followup_due").count() == 3
    assert Task.objects.filter(rule="followup_due").count() == 3
    assert Notification.objects.filter(kind="reminder.followup_due").count() == 3
    for customer in customers:
        assert Task.objects.filter(customer=customer).count() == 1


def test_a_quiet_run_costs_a_few_queries_whatever_the_backlog(
    org, make_customer, django_assert_max_num_queries
):
    """Lapses reminded already are excluded in the database, not re-read every 15 minutes."""
    for _ in range(6):
        set_customer(make_customer(org["rep_a"]), status="potential", created_at=at(1, 9))
    assert run_reminders(NOW)["not_followed"] == 6
    with django_assert_max_num_queries(6):
        assert run_reminders(NOW + dt.timedelta(minutes=15))["not_followed"] == 0

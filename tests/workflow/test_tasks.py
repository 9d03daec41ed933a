"""Tasks (待办任务): services (who may assign to whom, customer scope, completing), the
selectors' tabs and team view, the pages and the reminder-rule settings page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.workflow import task_selectors
from guanxi.workflow.models import ReminderRule, Task, TaskStatus
from guanxi.workflow.task_services import (
    MSG_BAD_ASSIGNEE,
    MSG_BAD_CUSTOMER,
    MSG_REQUIRED,
    task_complete,
    task_create,
    task_for_complete,
)
from tests.conftest import make_user
from tests.workflow.task_support import NOW, at, make_task

pytestmark = pytest.mark.django_db

DUE = "2026-11-25T15:00:00+08:00"


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict


# --- create --------------------------------------------------------------------------------


def test_rep_creates_own_task_with_defaults_and_audit(org):
    rep = org["rep_a"]
    task = task_create(actor=rep, data={"title": "  准备 报价单 ", "due_at": DUE})
    assert task.assignee == rep and task.created_by == rep
    assert task.department == org["team_a"]
    assert task.title == "准备 报价单" and task.priority == "normal" and task.status == "open"
    assert task.due_at == dt.datetime(2026, 11, 25, 7, 0, tzinfo=dt.UTC)
    entry = AuditEntry.objects.get(action="task.create")
    assert entry.object_type == "task" and entry.object_id == str(task.pk)
    assert entry.actor == rep and entry.result == "success"


def test_date_only_due_means_six_pm_local(org):
    task = task_create(actor=org["rep_a"], data={"title": "写周报", "due_at": "2026-11-27"})
    assert task.due_at == at(27, 18)


def test_every_bad_field_is_reported_at_once(org):
    with pytest.raises(ValidationError) as caught:
        task_create(
            actor=org["rep_a"],
            data={"title": " ", "due_at": "明天下午", "priority": "asap", "customer_id": "x"},
        )
    errors = _errors(caught.value)
    assert errors["title"] == [MSG_REQUIRED]
    assert set(errors) == {"title", "due_at", "priority", "customer_id"}
    assert not Task.objects.exists()
    assert AuditEntry.objects.get(action="task.create").result == "failed"


def test_rep_may_not_assign_to_a_colleague(org):
    with pytest.raises(ValidationError) as caught:
        task_create(
            actor=org["rep_a"],
            data={"title": "帮忙回访", "due_at": DUE, "assignee_id": org["rep_b"].pk},
        )
    assert _errors(caught.value) == {"assignee_id": [MSG_BAD_ASSIGNEE]}
    assert not Task.objects.exists()


def test_manager_assigns_within_department_tree_only(org):
    manager = org["manager"]
    task = task_create(
        actor=manager, data={"title": "跟进大客户", "due_at": DUE, "assignee_id": org["rep_b"].pk}
    )
    assert task.assignee == org["rep_b"] and task.department == org["team_b"]
    assert task.created_by == manager
    # the assignee hears about it
    assert org["rep_b"].notifications.filter(kind="task.assigned").count() == 1
    with pytest.raises(ValidationError) as caught:
        task_create(
            actor=manager,
            data={"title": "x", "due_at": DUE, "assignee_id": org["service_rep"].pk},
        )
    assert "assignee_id" in _errors(caught.value)
    assert Task.objects.count() == 1


def test_admin_assigns_to_anyone_but_not_to_disabled_users(org):
    task = task_create(
        actor=org["admin"],
        data={"title": "客服回访", "due_at": DUE, "assignee_id": org["service_rep"].pk},
    )
    assert task.assignee == org["service_rep"]
    gone = make_user("sales_rep", org["team_a"], status="disabled")
    with pytest.raises(ValidationError):
        task_create(actor=org["admin"], data={"title": "x", "due_at": DUE, "assignee_id": gone.pk})


def test_customer_must_be_in_read_scope(org, make_customer):
    mine = make_customer(org["rep_a"])
    theirs = make_customer(org["rep_b"])
    task = task_create(
        actor=org["rep_a"], data={"title": "回访", "due_at": DUE, "customer_id": mine.pk}
    )
    assert task.customer == mine
    with pytest.raises(ValidationError) as caught:
        task_create(
            actor=org["rep_a"], data={"title": "回访", "due_at": DUE, "customer_id": theirs.pk}
        )
    assert _errors(caught.value) == {"customer_id": [MSG_BAD_CUSTOMER]}
    # the service desk reads every customer
    task_create(
        actor=org["service_rep"], data={"title": "回访", "due_at": DUE, "customer_id": theirs.pk}
    )


def test_without_permission_nothing_is_created(org):
    nobody = make_user(None, org["team_a"])
    with pytest.raises(PermissionDenied):
        task_create(actor=nobody, data={"title": "x", "due_at": DUE})
    assert not Task.objects.exists()
    assert AuditEntry.objects.get(action="task.create").result == "denied"


# --- complete ------------------------------------------------------------------------------


def test_assignee_completes_once(org):
    task = make_task(org["rep_a"], due_at=NOW)
    done = task_complete(actor=org["rep_a"], task=task_for_complete(org["rep_a"], task.pk))
    assert done.status == TaskStatus.DONE and done.completed_by == org["rep_a"]
    assert done.version == 2 and done.completed_at is not None
    again = task_complete(actor=org["rep_a"], task=task)
    assert again.version == 2
    assert AuditEntry.objects.filter(action="task.complete").count() == 1


def test_only_the_write_scope_may_complete_someone_elses_task(org):
    task = make_task(org["rep_a"], due_at=NOW)
    for outsider in (org["rep_b"], org["service_rep"]):
        with pytest.raises(NotFound):
            task_for_complete(outsider, task.pk)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    found = task_for_complete(org["manager"], task.pk)
    assert task_complete(actor=org["manager"], task=found).completed_by == org["manager"]
    with pytest.raises(NotFound):
        task_for_complete(org["rep_a"], "not-a-number")


# --- selectors -----------------------------------------------------------------------------


def test_tabs_and_team_view(org):
    rep, other = org["rep_a"], org["rep_b"]
    overdue = make_task(rep, due_at=at(23, 9))
    today = make_task(rep, due_at=at(24, 17))
    later = make_task(rep, due_at=at(28, 9))
    done = make_task(rep, due_at=at(20, 9), status="done", completed_at=at(21, 9))
    theirs = make_task(other, due_at=at(24, 12))

    def ids(user, tab, scope="mine"):
        return {
            t.pk for t in task_selectors.task_queryset(user=user, scope=scope, tab=tab, now=NOW)
        }

    assert ids(rep, "open") == {overdue.pk, today.pk, later.pk}
    assert ids(rep, "today") == {today.pk}
    assert ids(rep, "overdue") == {overdue.pk}
    assert ids(rep, "done") == {done.pk}
    assert ids(rep, "open", "team") == ids(rep, "open")  # a rep's team is themselves
    assert ids(org["manager"], "today", "team") == {today.pk, theirs.pk}
    assert ids(org["manager"], "today") == set()
    assert ids(org["service_rep"], "open", "team") == set()
    counts = task_selectors.tab_counts(user=rep, now=NOW)
    assert counts == {"open": 3, "today": 1, "overdue": 1}
    assert task_selectors.can_view_team(org["manager"])
    assert not task_selectors.can_view_team(rep)


# --- pages ---------------------------------------------------------------------------------


def test_list_page_tabs_and_htmx_complete(org, client_for, make_customer):
    rep = org["rep_a"]
    customer = make_customer(rep)
    task = make_task(rep, due_at=at(20, 9), customer=customer, title="寄样品")
    client = client_for(rep)
    html = client.get(reverse("tasks:list")).content.decode()
    assert "待办任务" in html and "寄样品" in html and customer.name in html
    assert "已逾期" in html and 'data-testid="scope-team"' not in html
    response = client.post(
        reverse("tasks:complete", args=[task.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"task-{task.pk}",
    )
    assert response.status_code == 200
    assert 'data-testid="task-done"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == "done"
    done_html = client.get(reverse("tasks:list"), {"tab": "done"}).content.decode()
    assert "寄样品" in done_html
    # someone else's task is a 404 and stays open
    foreign = make_task(org["rep_b"], due_at=NOW)
    assert client.post(reverse("tasks:complete", args=[foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "open"


def test_manager_sees_team_tab(org, client_for):
    make_task(org["rep_b"], due_at=NOW, title="二组的任务")
    client = client_for(org["manager"])
    assert "二组的任务" not in client.get(reverse("tasks:list")).content.decode()
    html = client.get(reverse("tasks:list"), {"scope": "team"}).content.decode()
    assert "二组的任务" in html and 'data-testid="scope-team"' in html
    rep_html = client_for(org["rep_a"]).get(reverse("tasks:list"), {"scope": "team"})
    assert "二组的任务" not in rep_html.content.decode()


def test_create_page_from_customer_returns_to_customer(org, client_for, make_customer):
    rep = org["rep_a"]
    customer = make_customer(rep)
    client = client_for(rep)
    url = reverse("tasks:create")
    page = client.get(url, {"customer": customer.pk}).content.decode()
    assert customer.name in page and 'name="assignee_id"' in page
    bad = client.post(url, {"customer_id": customer.pk, "title": "", "due_at": ""})
    assert bad.status_code == 200 and 'data-field-error="title"' in bad.content.decode()
    assert not Task.objects.exists()
    response = client.post(
        url,
        {
            "customer_id": customer.pk,
            "title": "上门拜访",
            "due_at": "2026-11-26T10:30",
            "priority": "high",
            "assignee_id": rep.pk,
            "next": reverse("customers:detail", args=[customer.pk]),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    task = Task.objects.get()
    assert task.customer == customer and task.priority == "high" and task.due_at == at(26, 10, 30)
    # a customer out of scope is a 404, and nothing is created
    theirs = make_customer(org["rep_b"])
    assert client.get(url, {"customer": theirs.pk}).status_code == 404
    post = {"customer_id": theirs.pk, "title": "x", "due_at": "2026-11-26T10:30"}
    assert client.post(url, {**post, "assignee_id": rep.pk}).status_code == 404
    assert Task.objects.count() == 1


def test_customer_page_block_lists_open_tasks_lazily(org, client_for, make_customer):
    rep = org["rep_a"]
    customer = make_customer(rep)
    task = make_task(rep, due_at=at(26, 9), customer=customer, title="发合同")
    make_task(rep, due_at=at(26, 9), customer=customer, title="旧任务", status="done")
    client = client_for(rep)
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    block_url = reverse("tasks:customer_block", args=[customer.pk])
    assert block_url in detail
    block = client.get(block_url).content.decode()
    assert "发合同" in block and "旧任务" not in block
    assert f"{reverse('tasks:create')}?customer={customer.pk}" in block
    response = client.post(
        reverse("tasks:complete", args=[task.pk]), {"block": "1"}, HTTP_HX_REQUEST="true"
    )
    assert "暂无未完成的待办" in response.content.decode()
    assert client_for(org["rep_b"]).get(block_url).status_code == 404


def test_list_page_query_count_does_not_grow(
    org, client_for, make_customer, django_assert_max_num_queries
):
    rep = org["rep_a"]
    customers = [make_customer(rep) for _ in range(3)]
    for i in range(3):
        make_task(rep, due_at=at(25, 9, i), customer=customers[i])
    client = client_for(rep)
    url = reverse("tasks:list")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(25):
        make_task(rep, due_at=at(26, 9, i), customer=customers[i % 3])
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert html.count('data-testid="task-row"') == 20
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_max_num_queries(20):
        client.get(url, {"scope": "team"})


# --- 提醒规则 settings page ---------------------------------------------------------------------


def test_rules_page_edits_and_audits(org, client_for):
    rule = ReminderRule.objects.get(code="not_followed")
    client = client_for(org["admin"])
    page = client.get(reverse("tasks:rules")).content.decode()
    assert "客户超过 N 天未跟进" in page and "商机（销售）模块尚未提供" in page
    url = reverse("tasks:rule_update", args=[rule.pk])
    response = client.post(url, {"enabled": "on", "days": "5", "send_email": "on"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.params["days"] == 5 and rule.send_email and not rule.make_task
    entry = AuditEntry.objects.get(action="reminder_rule.update")
    assert entry.changes["days"] == [3, 5] and entry.changes["send_email"] == [False, True]
    assert "make_task" not in entry.changes  # off by default for this rule; unchanged
    bad = client.post(url, {"enabled": "on", "days": "0"})
    assert bad.status_code == 422 and "天数须为 1 到 365 之间的整数" in bad.content.decode()
    rule.refresh_from_db()
    assert rule.params["days"] == 5
    # a sales rep may neither see nor change the rules
    rep = client_for(org["rep_a"])
    assert rep.get(reverse("tasks:rules")).status_code == 403
    assert rep.post(url, {"days": "9"}).status_code == 403
    rule.refresh_from_db()
    assert rule.params["days"] == 5 and rule.enabled

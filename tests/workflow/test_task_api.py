"""Tasks API over real HTTP (API.md "Relationship"): GET/POST /tasks, POST /tasks/{id}/complete."""

from __future__ import annotations

import pytest
from django.test import Client

from guanxi.workflow.models import Task
from tests.customers.test_api import Api
from tests.workflow.task_support import at, make_task

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks"


def test_create_defaults_to_the_caller(org, make_customer):
    rep = org["rep_a"]
    customer = make_customer(rep)
    api = Api(rep)
    response = api.post(
        TASKS,
        {"title": "电话回访", "due_at": "2026-11-25T15:00:00+08:00", "customer_id": customer.pk},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["assignee_id"] == rep.pk and body["customer_id"] == customer.pk
    assert body["customer_name"] == customer.name and body["priority"] == "normal"
    assert body["status"] == "open" and body["version"] == 1 and body["rule"] == ""
    assert body["due_at"] == "2026-11-25T15:00:00+08:00"
    assert body["department_id"] == org["team_a"].pk


def test_create_answers_422_with_field_errors(org, make_customer):
    api = Api(org["rep_a"])
    theirs = make_customer(org["rep_b"])
    response = api.post(
        TASKS,
        {
            "title": "",
            "due_at": "soon",
            "priority": "p0",
            "assignee_id": org["rep_b"].pk,
            "customer_id": theirs.pk,
        },
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ERR-006"
    assert set(body["errors"]) == {"title", "due_at", "priority", "assignee_id", "customer_id"}
    assert body["errors"]["customer_id"] == ["客户不存在或不在您的数据范围内"]
    assert api.post(TASKS, ["not", "an", "object"]).status_code == 422
    far = api.post(TASKS, {"title": "x", "due_at": "1188-06-26T00:05:40+08:00"})
    assert far.json()["errors"] == {"due_at": ["截止时间须在 2000 年至 2099 年之间"]}
    assert not Task.objects.exists()


def test_manager_assigns_in_tree(org):
    api = Api(org["manager"])
    body = {"title": "拜访", "due_at": "2026-11-26", "assignee_id": org["rep_a"].pk}
    response = api.post(TASKS, {**body, "priority": "urgent"})
    assert response.status_code == 201
    assert response.json()["assignee_id"] == org["rep_a"].pk
    assert response.json()["due_at"] == "2026-11-26T18:00:00+08:00"
    outside = api.post(TASKS, {**body, "assignee_id": org["service_rep"].pk})
    assert outside.status_code == 422 and "assignee_id" in outside.json()["errors"]


def test_list_is_the_callers_own_and_team_for_managers(org):
    mine = make_task(org["rep_a"], due_at=at(25, 9), title="我的")
    theirs = make_task(org["rep_b"], due_at=at(25, 10), title="二组")
    make_task(org["rep_a"], due_at=at(20, 9), title="做完了", status="done", completed_at=at(21, 9))
    rep = Api(org["rep_a"])
    items = rep.get(TASKS).json()["items"]
    assert [i["id"] for i in items] == [mine.pk]
    assert [i["title"] for i in rep.get(TASKS, status="done").json()["items"]] == ["做完了"]
    assert [i["id"] for i in rep.get(TASKS, scope="team").json()["items"]] == [mine.pk]
    manager = Api(org["manager"])
    assert manager.get(TASKS).json()["items"] == []
    team = manager.get(TASKS, scope="team").json()
    assert [i["id"] for i in team["items"]] == [mine.pk, theirs.pk]
    assert team["next_cursor"] is None
    page = manager.get(TASKS, scope="team", limit=1).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = manager.get(TASKS, scope="team", limit=1, cursor=page["next_cursor"]).json()
    assert [i["id"] for i in rest["items"]] == [theirs.pk]
    bad = rep.get(TASKS, status="someday", limit=0)
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"status", "limit"}


def test_list_filters_by_customer(org, make_customer):
    rep = org["rep_a"]
    customer = make_customer(rep)
    about = make_task(rep, due_at=at(25, 9), customer=customer)
    make_task(rep, due_at=at(25, 9))
    items = Api(rep).get(TASKS, customer_id=customer.pk).json()["items"]
    assert [i["id"] for i in items] == [about.pk]


def test_complete(org):
    task = make_task(org["rep_a"], due_at=at(25, 9))
    url = f"{TASKS}/{task.pk}/complete"
    assert Api(org["rep_b"]).post(url, {}).status_code == 404
    task.refresh_from_db()
    assert task.status == "open"
    response = Api(org["rep_a"]).post(url, {})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done" and body["completed_by_id"] == org["rep_a"].pk
    assert body["version"] == 2 and body["completed_at"]
    for junk in ("abc", "-1", "1.5", "99999999999999999999999", str(2**63)):
        assert Api(org["rep_a"]).post(f"{TASKS}/{junk}/complete", {}).status_code == 404


def test_anonymous_gets_401_and_schema_lists_the_endpoints(org):
    response = Client().get(TASKS)
    assert response.status_code == 401 and response.json()["code"] == "ERR-001"
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/tasks" in schema["paths"] and "/api/v1/tasks/{id}/complete" in schema["paths"]
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/tasks"])


def test_any_iso_offset_is_kept_as_the_same_instant(org):
    """ISO offsets reach ±23:59; PostgreSQL stores only ±15:59, so the service keeps UTC."""
    api = Api(org["rep_a"])
    response = api.post(TASKS, {"title": "0", "due_at": "2030-01-01T00:00:00-18:13"})
    assert response.status_code == 201, response.content
    assert response.json()["due_at"] == "2030-01-02T02:13:00+08:00"  # 18:13 UTC, local +8

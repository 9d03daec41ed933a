"""Tasks API (API.md "Relationship"): GET/POST /tasks, POST /tasks/{id}/complete.

Thin: the list reads through workflow.task_selectors, writes go through
workflow.task_services (which validate and answer 422 with field errors).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.audit.services import RequestMeta
from guanxi.core.api_schema import (
    COMMON_ERRORS,
    ERROR_SCHEMA,
    ListQuerySerializer,
    list_query,
    page_schema,
)
from guanxi.core.ids import MAX_ID
from guanxi.workflow import task_selectors, task_services
from guanxi.workflow.models import Task, TaskPriority, TaskStatus


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    priority = serializers.ChoiceField(choices=TaskPriority.choices)
    due_at = serializers.DateTimeField()
    is_overdue = serializers.BooleanField()
    assignee_id = serializers.IntegerField()
    assignee_name = serializers.CharField()
    department_id = serializers.IntegerField(allow_null=True)
    customer_id = serializers.IntegerField(allow_null=True)
    customer_name = serializers.CharField(allow_null=True)
    rule = serializers.CharField(help_text="生成该任务的提醒规则代码，手工创建为空")
    created_by_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    completed_by_id = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField()

    def to_representation(self, task: Task) -> dict[str, Any]:
        from django.utils import timezone

        stamp = serializers.DateTimeField()
        return {
            "id": task.pk,
            "title": task.title,
            "description": task.description,
            "status": task.status,
            "priority": task.priority,
            "due_at": stamp.to_representation(task.due_at),
            "is_overdue": task.status == TaskStatus.OPEN and task.due_at < timezone.now(),
            "assignee_id": task.assignee_id,
            "assignee_name": task.assignee.display_name,
            "department_id": task.department_id,
            "customer_id": task.customer_id,
            "customer_name": task.customer.name if task.customer_id else None,
            "rule": task.rule,
            "created_by_id": task.created_by_id,
            "created_at": stamp.to_representation(task.created_at),
            "completed_at": stamp.to_representation(task.completed_at)
            if task.completed_at
            else None,
            "completed_by_id": task.completed_by_id,
            "version": task.version,
        }


class TaskCreateSerializer(serializers.Serializer):
    """The create body (documentation; the service checks every field)."""

    title = serializers.CharField(max_length=task_services.TITLE_MAX)
    due_at = serializers.DateTimeField(help_text="截止时间，ISO 8601；只给日期时为当天 18:00")
    assignee_id = serializers.IntegerField(required=False, help_text="默认本人")
    customer_id = serializers.IntegerField(required=False)
    priority = serializers.ChoiceField(choices=TaskPriority.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class TaskListQuery(ListQuerySerializer):
    scope = serializers.ChoiceField(
        choices=task_selectors.SCOPES,
        default="mine",
        help_text="mine：本人的任务；team：数据范围内（如本部门及下级）的任务",
    )
    status = serializers.ChoiceField(
        choices=task_selectors.TABS,
        default="open",
        help_text="open 未完成 / today 今天到期 / overdue 已逾期 / done 已完成",
    )
    customer_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


def _meta(request: Request) -> RequestMeta:
    return RequestMeta.from_request(request)


class TaskListView(APIView):
    @extend_schema(
        operation_id="tasks_list",
        parameters=[TaskListQuery],
        responses={
            200: page_schema("TaskPage", TaskSerializer),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["tasks"],
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, TaskListQuery)
        page = task_selectors.task_list(
            user=request.user,
            scope=query["scope"],
            tab=query["status"],
            customer_id=query.get("customer_id"),
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        return Response(
            {"items": TaskSerializer(page.items, many=True).data, "next_cursor": page.next_cursor}
        )

    @extend_schema(
        operation_id="tasks_create",
        request=TaskCreateSerializer,
        responses={201: TaskSerializer, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["tasks"],
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationError({"title": [task_services.MSG_REQUIRED]})
        task = task_services.task_create(actor=request.user, data=request.data, meta=_meta(request))
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)


class TaskCompleteView(APIView):
    @extend_schema(
        operation_id="tasks_complete",
        request=None,
        responses={200: TaskSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["tasks"],
    )
    def post(self, request: Request, pk: str) -> Response:
        task = task_services.task_for_complete(request.user, pk)
        task = task_services.task_complete(actor=request.user, task=task, meta=_meta(request))
        return Response(TaskSerializer(task).data)


urlpatterns = [
    path("tasks", TaskListView.as_view(), name="tasks"),
    path("tasks/<str:pk>/complete", TaskCompleteView.as_view(), name="task-complete"),
]

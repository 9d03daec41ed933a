"""Audit log API: ``GET /api/v1/audit`` (same filters as the page) and one entry, for
holders of ``audit.view_auditentry`` (others 403). Read-only: the log is written by services.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.audit import selectors
from guanxi.audit.actions import action_label
from guanxi.audit.filters import AuditEntryFilter
from guanxi.audit.models import AuditEntry, AuditResult
from guanxi.core.api_schema import (
    COMMON_ERRORS,
    ERROR_SCHEMA,
    ListQuerySerializer,
    filter_parameters,
    list_query,
    page_schema,
)


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor_id = serializers.IntegerField(allow_null=True)
    actor_username = serializers.CharField()
    ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    action = serializers.CharField()
    action_label = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    changes = serializers.JSONField()
    params = serializers.JSONField()
    result = serializers.ChoiceField(choices=AuditResult.choices)
    error_code = serializers.CharField()
    prev_hash = serializers.CharField()
    entry_hash = serializers.CharField()

    def to_representation(self, e: AuditEntry) -> dict[str, Any]:
        return {
            "id": e.pk,
            "occurred_at": serializers.DateTimeField().to_representation(e.occurred_at),
            "actor_id": e.actor_id,
            "actor_username": e.actor_username,
            "ip": e.ip,
            "user_agent": e.user_agent,
            "action": e.action,
            "action_label": action_label(e.action),
            "object_type": e.object_type,
            "object_id": e.object_id,
            "object_repr": e.object_repr,
            "changes": e.changes,
            "params": e.params,
            "result": e.result,
            "error_code": e.error_code,
            "prev_hash": e.prev_hash,
            "entry_hash": e.entry_hash,
        }


class AuditListView(APIView):
    @extend_schema(
        operation_id="audit_list",
        parameters=[*filter_parameters(AuditEntryFilter), ListQuerySerializer],
        responses={
            200: page_schema("AuditPage", AuditEntrySerializer),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["audit"],
    )
    def get(self, request: Request) -> Response:
        filterset = selectors.audit_filter(request.user, request.query_params)  # 403 first
        query = list_query(request, filterset=filterset)
        page = selectors.audit_list(
            user=request.user,
            params=request.query_params,
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        items = AuditEntrySerializer(page.items, many=True).data
        return Response({"items": items, "next_cursor": page.next_cursor})


class AuditDetailView(APIView):
    @extend_schema(
        operation_id="audit_retrieve",
        responses={200: AuditEntrySerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["audit"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(AuditEntrySerializer(selectors.audit_get(user=request.user, pk=pk)).data)


urlpatterns = [
    path("audit", AuditListView.as_view(), name="audit"),
    path("audit/<str:pk>", AuditDetailView.as_view(), name="audit-entry"),
]

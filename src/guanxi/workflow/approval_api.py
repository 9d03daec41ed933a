"""Approvals API (API.md, Governance): the caller's inbox, one request, approve, reject."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
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
from guanxi.workflow import approval_selectors as selectors
from guanxi.workflow import approvals
from guanxi.workflow.models import ApprovalRequest, ApprovalStatus


class ApprovalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object_type = serializers.CharField()
    object_id = serializers.IntegerField()
    action = serializers.CharField()
    summary = serializers.CharField()
    status = serializers.ChoiceField(choices=ApprovalStatus.choices)
    submitted_by = serializers.DictField()
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    step = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    payload = serializers.DictField()

    def to_representation(self, instance: ApprovalRequest) -> dict[str, Any]:
        stamp = serializers.DateTimeField().to_representation
        return {
            "id": instance.pk,
            "object_type": instance.object_type,
            "object_id": instance.object_id,
            "action": instance.action,
            "summary": instance.summary,
            "status": instance.status,
            "submitted_by": {"id": instance.submitted_by_id, "name": instance.submitted_by.name},
            "submitted_at": stamp(instance.submitted_at),
            "decided_at": stamp(instance.decided_at) if instance.decided_at else None,
            "step": instance.step_order,
            "comment": instance.comment,
            "payload": instance.payload,
        }


class ApprovalListQuery(ListQuerySerializer):
    status = serializers.ChoiceField(
        choices=ApprovalStatus.choices,
        default=ApprovalStatus.PENDING,
        help_text="pending: 待我审批；其他：我提交或参与的",
    )


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ApprovalListView(APIView):
    @extend_schema(
        operation_id="approvals_list",
        parameters=[ApprovalListQuery],
        responses={
            200: page_schema("ApprovalPage", ApprovalSerializer),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["approvals"],
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, ApprovalListQuery)
        page = selectors.approval_list(
            user=request.user,
            status=query["status"],
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        items = ApprovalSerializer(page.items, many=True).data
        return Response({"items": items, "next_cursor": page.next_cursor})


class ApprovalDetailView(APIView):
    @extend_schema(
        operation_id="approvals_retrieve",
        responses={200: ApprovalSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["approvals"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(ApprovalSerializer(selectors.approval_get(user=request.user, pk=pk)).data)


def _decide(request: Request, pk: str, decide: Any) -> Response:
    approval = selectors.approval_get(user=request.user, pk=pk)
    body = DecisionSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    decided = decide(
        actor=request.user,
        approval=approval,
        comment=body.validated_data["comment"],
        meta=RequestMeta.from_request(request),
    )
    fresh = selectors.approval_get(user=request.user, pk=decided.pk)
    return Response(ApprovalSerializer(fresh).data)


DECISION_RESPONSES = {
    200: ApprovalSerializer,
    404: ERROR_SCHEMA,
    409: ERROR_SCHEMA,
    422: ERROR_SCHEMA,
    **COMMON_ERRORS,
}


class ApprovalApproveView(APIView):
    @extend_schema(
        operation_id="approvals_approve",
        request=DecisionSerializer,
        responses=DECISION_RESPONSES,
        tags=["approvals"],
    )
    def post(self, request: Request, pk: str) -> Response:
        return _decide(request, pk, approvals.approval_approve)


class ApprovalRejectView(APIView):
    @extend_schema(
        operation_id="approvals_reject",
        request=DecisionSerializer,
        responses=DECISION_RESPONSES,
        tags=["approvals"],
    )
    def post(self, request: Request, pk: str) -> Response:
        """Reject with a reason (``comment`` required)."""
        return _decide(request, pk, approvals.approval_reject)


urlpatterns = [
    path("approvals", ApprovalListView.as_view(), name="approvals"),
    path("approvals/<str:pk>", ApprovalDetailView.as_view(), name="approval"),
    path("approvals/<str:pk>/approve", ApprovalApproveView.as_view(), name="approval-approve"),
    path("approvals/<str:pk>/reject", ApprovalRejectView.as_view(), name="approval-reject"),
]

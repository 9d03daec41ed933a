"""Notifications API (API.md "Relationship"): the caller's own notifications only."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.core.api_errors import error_body
from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA
from guanxi.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, BadCursor
from guanxi.workflow import selectors, services
from guanxi.workflow.models import Notification, NotificationLevel

MSG_BAD_CURSOR = "无效的分页游标"


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    level = serializers.ChoiceField(choices=NotificationLevel.choices)
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    is_read = serializers.BooleanField()

    def to_representation(self, n: Notification) -> dict[str, Any]:
        stamp = serializers.DateTimeField()
        return {
            "id": n.pk,
            "kind": n.kind,
            "level": n.level,
            "title": n.title,
            "body": n.body,
            "url": n.url,
            "created_at": stamp.to_representation(n.created_at),
            "read_at": stamp.to_representation(n.read_at) if n.read_at else None,
            "is_read": n.read_at is not None,
        }


class ListQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="只看未读")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    cursor = serializers.CharField(max_length=500, required=False)


PAGE_SCHEMA = inline_serializer(
    "NotificationPage",
    fields={
        "items": NotificationSerializer(many=True),
        "next_cursor": serializers.CharField(allow_null=True),
        "unread_count": serializers.IntegerField(),
    },
)
READ_ALL_SCHEMA = inline_serializer(
    "NotificationReadAll",
    fields={"updated": serializers.IntegerField(), "unread_count": serializers.IntegerField()},
)


class NotificationListView(APIView):
    @extend_schema(
        operation_id="notifications_list",
        parameters=[ListQuerySerializer],
        responses={200: PAGE_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["notifications"],
    )
    def get(self, request: Request) -> Response:
        query = ListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            page = selectors.notification_list(
                user=request.user,
                unread_only=query.validated_data["unread"],
                cursor=query.validated_data.get("cursor"),
                limit=query.validated_data["limit"],
            )
        except BadCursor:
            return Response(error_body("ERR-006", errors={"cursor": [MSG_BAD_CURSOR]}), status=422)
        return Response(
            {
                "items": NotificationSerializer(page.items, many=True).data,
                "next_cursor": page.next_cursor,
                "unread_count": selectors.unread_count(request.user),
            }
        )


class NotificationReadView(APIView):
    @extend_schema(
        operation_id="notifications_read",
        request=None,
        responses={200: NotificationSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["notifications"],
    )
    def post(self, request: Request, pk: str) -> Response:
        notification = services.notification_mark_read(actor=request.user, pk=pk)
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(
        operation_id="notifications_read_all",
        request=None,
        responses={200: READ_ALL_SCHEMA, **COMMON_ERRORS},
        tags=["notifications"],
    )
    def post(self, request: Request) -> Response:
        updated = services.notification_mark_all_read(actor=request.user)
        return Response({"updated": updated, "unread_count": selectors.unread_count(request.user)})


urlpatterns = [
    path("notifications", NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/read-all", NotificationReadAllView.as_view(), name="notifications-read-all"
    ),
    path("notifications/<str:pk>/read", NotificationReadView.as_view(), name="notification-read"),
]

"""Notifications API (API.md "Relationship"): the caller's own notifications only."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.core.api_schema import (
    COMMON_ERRORS,
    ERROR_SCHEMA,
    ListQuerySerializer,
    list_query,
    page_schema,
)
from guanxi.workflow import selectors, services
from guanxi.workflow.models import Notification, NotificationLevel


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


class NotificationListQuery(ListQuerySerializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="只看未读")


READ_ALL_SCHEMA = inline_serializer(
    "NotificationReadAll",
    fields={"updated": serializers.IntegerField(), "unread_count": serializers.IntegerField()},
)


class NotificationListView(APIView):
    @extend_schema(
        operation_id="notifications_list",
        parameters=[NotificationListQuery],
        responses={
            200: page_schema(
                "NotificationPage", NotificationSerializer, unread_count=serializers.IntegerField()
            ),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["notifications"],
    )
    def get(self, request: Request) -> Response:
        query = list_query(request, NotificationListQuery)
        page = selectors.notification_list(
            user=request.user,
            unread_only=query["unread"],
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
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

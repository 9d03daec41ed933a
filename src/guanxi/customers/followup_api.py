"""Follow-ups, interactions and the customer timeline (API.md "Relationship"): thin views over
customers.follow_ups (writes), follow_up_selectors and timeline (reads)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.audit.services import RequestMeta, require_perm_audited
from guanxi.core.api_errors import error_body
from guanxi.core.api_schema import (
    COMMON_ERRORS,
    ERROR_SCHEMA,
    ListQuerySerializer,
    filter_parameters,
    list_query,
    page_schema,
)
from guanxi.core.errors import StaleVersion
from guanxi.core.ids import MAX_ID
from guanxi.customers import follow_up_selectors, follow_ups, selectors, timeline
from guanxi.customers.models import FollowUp

_dt = serializers.DateTimeField()


def _time(value: Any) -> str | None:
    return _dt.to_representation(value) if value else None


class FollowUpSerializer(serializers.Serializer):
    """A follow-up as read: dictionary codes plus their labels, and who and whom by name."""

    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    contact_id = serializers.IntegerField(allow_null=True)
    contact_name = serializers.CharField()
    owner_id = serializers.IntegerField(help_text="跟进人 (who followed up)")
    owner_name = serializers.CharField()
    method = serializers.CharField(help_text="dictionary followup_method code")
    method_label = serializers.CharField()
    result = serializers.CharField(help_text="dictionary followup_result code, may be empty")
    result_label = serializers.CharField()
    content = serializers.CharField()
    followed_at = serializers.DateTimeField()
    next_follow_up_at = serializers.DateTimeField(allow_null=True)
    next_plan = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, f: FollowUp) -> dict[str, Any]:
        labels = self.context["labels"]
        return {
            "id": f.pk,
            "customer_id": f.customer_id,
            "customer_name": f.customer.name,
            "contact_id": f.contact_id,
            "contact_name": f.contact.name if f.contact else "",
            "owner_id": f.owner_id,
            "owner_name": f.owner.display_name,
            "method": f.method,
            "method_label": labels["method"].get(f.method, f.method),
            "result": f.result,
            "result_label": labels["result"].get(f.result, f.result) if f.result else "",
            "content": f.content,
            "followed_at": _time(f.followed_at),
            "next_follow_up_at": _time(f.next_follow_up_at),
            "next_plan": f.next_plan,
            "version": f.version,
            "created_at": _time(f.created_at),
            "updated_at": _time(f.updated_at),
        }


class FollowUpWriteSerializer(serializers.Serializer):
    """Shape of the input only; the rules (required fields, dictionaries, times, contact) live
    in the service, so one 422 names every bad field."""

    customer_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    contact_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    method = serializers.CharField(
        max_length=64,
        allow_blank=True,
        required=False,
        help_text="code or label: 电话, 拜访, 邮件, 微信 …",
    )
    content = serializers.CharField(
        max_length=follow_ups.CONTENT_MAX, allow_blank=True, required=False
    )
    result = serializers.CharField(
        max_length=64, allow_blank=True, required=False, help_text="code or label"
    )
    followed_at = serializers.DateTimeField(required=False, help_text="default: now")
    next_follow_up_at = serializers.DateTimeField(required=False, allow_null=True)
    next_plan = serializers.CharField(
        max_length=follow_ups.PLAN_MAX, allow_blank=True, required=False
    )


class FollowUpPatchSerializer(FollowUpWriteSerializer):
    version = serializers.IntegerField(
        min_value=1, max_value=2**31, required=False, help_text="the version read; stale: 409"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("customer_id")
        for field in self.fields.values():
            field.required = False


def _record(request: Request, follow_up: FollowUp) -> dict[str, Any]:
    labels = follow_up_selectors.follow_up_labels()
    return FollowUpSerializer(follow_up, context={"request": request, "labels": labels}).data


class FollowUpListView(APIView):
    @extend_schema(
        operation_id="follow_ups_list",
        summary="Follow-ups in the caller's scope, newest first",
        parameters=[*filter_parameters(follow_up_selectors.FollowUpFilter), ListQuerySerializer],
        responses={
            200: page_schema("FollowUpPage", FollowUpSerializer),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["follow-ups"],
    )
    def get(self, request: Request) -> Response:
        filterset = follow_up_selectors.follow_up_filter(request.user, request.query_params)
        query = list_query(request, ListQuerySerializer, filterset)
        page = follow_up_selectors.follow_up_list(
            user=request.user,
            params=request.query_params,
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        labels = follow_up_selectors.follow_up_labels()
        context = {"request": request, "labels": labels}
        items = [FollowUpSerializer(f, context=context).data for f in page.items]
        return Response({"items": items, "next_cursor": page.next_cursor})

    @extend_schema(
        operation_id="follow_ups_create",
        summary="Record a follow-up; updates the customer's last/next follow-up time",
        request=FollowUpWriteSerializer,
        responses={201: FollowUpSerializer, 404: ERROR_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["follow-ups"],
    )
    def post(self, request: Request) -> Response:
        meta = RequestMeta.from_request(request)
        require_perm_audited(  # 403 before judging the body
            actor=request.user,
            perm="customers.add_followup",
            action="follow_up.create",
            target="follow_up",
            meta=meta,
        )
        body = FollowUpWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        customer_id = data.pop("customer_id")
        saved = follow_ups.follow_up_create(
            actor=request.user, customer_id=customer_id, data=data, meta=meta
        )
        record = _record(request, follow_up_selectors.follow_up_get(user=request.user, pk=saved.pk))
        return Response(record, status=status.HTTP_201_CREATED)


class FollowUpDetailView(APIView):
    @extend_schema(
        operation_id="follow_ups_retrieve",
        responses={200: FollowUpSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["follow-ups"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(
            _record(request, follow_up_selectors.follow_up_get(user=request.user, pk=pk))
        )

    @extend_schema(
        operation_id="follow_ups_partial_update",
        summary="Edit a follow-up (its author, or a user with a wider write scope)",
        request=FollowUpPatchSerializer,
        responses={
            200: FollowUpSerializer,
            404: ERROR_SCHEMA,
            409: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["follow-ups"],
    )
    def patch(self, request: Request, pk: str) -> Response:
        follow_up = follow_up_selectors.follow_up_get(user=request.user, pk=pk)
        meta = RequestMeta.from_request(request)
        require_perm_audited(
            actor=request.user,
            perm="customers.change_followup",
            action="follow_up.update",
            target="follow_up",
            follow_up=follow_up,
            meta=meta,
        )
        body = FollowUpPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("version", None)
        try:
            saved = follow_ups.follow_up_update(
                actor=request.user, follow_up=follow_up, data=data, version=version, meta=meta
            )
        except StaleVersion:
            current = follow_up_selectors.follow_up_get(user=request.user, pk=pk)
            return Response(
                error_body("ERR-007", current=_record(request, current)),
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            _record(request, follow_up_selectors.follow_up_get(user=request.user, pk=saved.pk))
        )


class InteractionWriteSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    kind = serializers.CharField(
        max_length=64,
        allow_blank=True,
        required=False,
        help_text="interaction_kind code or label: 活动参与 …",
    )
    subject = serializers.CharField(max_length=200, allow_blank=True, required=False)
    details = serializers.CharField(
        max_length=follow_ups.CONTENT_MAX, allow_blank=True, required=False
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="default: now")


class InteractionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    details = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    staff_id = serializers.IntegerField()


class InteractionCreateView(APIView):
    @extend_schema(
        operation_id="interactions_create",
        summary="Record an interaction (活动参与, 投诉咨询 …) on a customer the caller can see",
        request=InteractionWriteSerializer,
        responses={
            201: InteractionSerializer,
            404: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["follow-ups"],
    )
    def post(self, request: Request) -> Response:
        meta = RequestMeta.from_request(request)
        require_perm_audited(
            actor=request.user,
            perm="customers.add_interaction",
            action="interaction.create",
            target="interaction",
            meta=meta,
        )
        body = InteractionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        customer_id = data.pop("customer_id")
        saved = follow_ups.interaction_create(
            actor=request.user, customer_id=customer_id, data=data, meta=meta
        )
        return Response(
            {
                "id": saved.pk,
                "customer_id": saved.customer_id,
                "kind": saved.kind,
                "subject": saved.subject,
                "details": saved.details,
                "occurred_at": _time(saved.occurred_at),
                "staff_id": saved.staff_id,
            },
            status=status.HTTP_201_CREATED,
        )


class TimelineItemSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="follow_up, status_change, interaction, … (sources)")
    id = serializers.IntegerField(help_text="id within its kind")
    at = serializers.DateTimeField()
    title = serializers.CharField()
    summary = serializers.CharField()
    actor = serializers.DictField(allow_null=True, help_text="{id, name}")
    data = serializers.DictField(help_text="kind-specific fields")


def _timeline_item(item: timeline.TimelineItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "id": item.id,
        "at": _time(item.at),
        "title": item.title,
        "summary": item.summary,
        "actor": {"id": item.actor_id, "name": item.actor_name} if item.actor_id else None,
        "data": {k: _time(v) if hasattr(v, "tzinfo") else v for k, v in item.data.items()},
    }


class CustomerTimelineView(APIView):
    @extend_schema(
        operation_id="customers_timeline",
        summary="The customer's merged timeline, newest first",
        parameters=[
            ListQuerySerializer,
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                many=True,
                explode=True,
                description="only these kinds (repeat the parameter); unknown kinds: 422",
            ),
        ],
        responses={
            200: page_schema("TimelinePage", TimelineItemSerializer),
            404: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["customers"],
    )
    def get(self, request: Request, pk: str) -> Response:
        customer = selectors.customer_get(user=request.user, pk=pk)
        query = list_query(request)
        kinds = [k for k in request.query_params.getlist("kind") if k]
        unknown = [k for k in kinds if k not in timeline.SOURCES]
        if unknown:
            raise serializers.ValidationError(
                {"kind": [f"未知的类型：{', '.join(sorted(set(unknown)))[:100]}"]}
            )
        page = timeline.timeline_page(
            user=request.user,
            customer=customer,
            kinds=kinds or None,
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        items = [_timeline_item(i) for i in page.items]
        return Response({"items": items, "next_cursor": page.next_cursor})


urlpatterns = [
    path("follow-ups", FollowUpListView.as_view(), name="follow-ups"),
    path("follow-ups/<str:pk>", FollowUpDetailView.as_view(), name="follow-up"),
    path("interactions", InteractionCreateView.as_view(), name="interactions"),
    path("customers/<str:pk>/timeline", CustomerTimelineView.as_view(), name="customer-timeline"),
]

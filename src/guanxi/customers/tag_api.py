"""Tags, tag rules and segments API (API.md "Relationship"), mounted by guanxi.api: thin views
over customers.tags, customers.tag_rule_services and customers.segments."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound as ApiNotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.audit.services import RequestMeta, require_perm_audited
from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA
from guanxi.core.errors import NotFound
from guanxi.customers import segments, selectors, tag_rule_services, tags
from guanxi.customers.models import Segment, Tag, TagRule

ID_MAX = 2**62


class TagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField(help_text="#rrggbb")
    tag_type = serializers.CharField(help_text="tag_type dictionary code, may be empty")
    customer_count = serializers.IntegerField(help_text="live customers carrying it (all scopes)")


class TagWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    color = serializers.CharField(max_length=16, required=False)
    tag_type = serializers.CharField(max_length=32, allow_blank=True, required=False)


class ConditionSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="status, category, follow_ups_90d, ...")
    op = serializers.ChoiceField(choices=["eq", "ne", "in", "gt", "gte", "lt", "lte", "is_empty"])
    value = serializers.JSONField(help_text="string, number, list (op in) or boolean (is_empty)")


class TagRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    tag_id = serializers.IntegerField()
    tag_name = serializers.CharField()
    conditions = ConditionSerializer(many=True)
    enabled = serializers.BooleanField()
    last_run_at = serializers.DateTimeField(allow_null=True)
    last_run_count = serializers.IntegerField()


class TagRuleWriteSerializer(serializers.Serializer):
    """Shape only; customers.tag_rules.clean_conditions judges the conditions."""

    name = serializers.CharField(max_length=100, allow_blank=True)
    description = serializers.CharField(max_length=255, allow_blank=True, required=False)
    tag_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    conditions = serializers.JSONField()
    enabled = serializers.BooleanField(required=False, default=True)


RUN_SCHEMA = inline_serializer(
    "TagRuleRun",
    fields={
        "matched": serializers.IntegerField(),
        "added": serializers.IntegerField(),
        "removed": serializers.IntegerField(),
        "last_run_at": serializers.DateTimeField(),
    },
)


class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    params = serializers.DictField(child=serializers.CharField(), help_text="customer list filters")
    shared = serializers.BooleanField()
    owner_id = serializers.IntegerField()
    editable = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SegmentWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    description = serializers.CharField(max_length=255, allow_blank=True, required=False)
    params = serializers.DictField(
        help_text='GET /customers filters, e.g. {"status": "cooperating", "province": "广东省"}'
    )
    shared = serializers.BooleanField(required=False, default=False)


class SegmentPatchSerializer(SegmentWriteSerializer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        self.fields["shared"].default = serializers.empty


class BulkTagSerializer(serializers.Serializer):
    customer_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX), max_length=500
    )
    add = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False, max_length=50
    )
    remove = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False, max_length=50
    )


BULK_SCHEMA = inline_serializer(
    "BulkTagResult",
    fields={
        "changed": serializers.ListField(child=serializers.IntegerField()),
        "skipped": serializers.IntegerField(help_text="ids outside your write scope"),
    },
)
COUNT_SCHEMA = inline_serializer(
    "SegmentCount",
    fields={"count": serializers.IntegerField(), "capped": serializers.BooleanField()},
)


def _stamp(value: Any) -> Any:
    return serializers.DateTimeField().to_representation(value) if value else None


def _tag(tag: Tag, count: int | None = None) -> dict[str, Any]:
    return {
        "id": tag.pk,
        "name": tag.name,
        "color": tag.color,
        "tag_type": tag.tag_type,
        "customer_count": count if count is not None else getattr(tag, "n", 0),
    }


def _rule(rule: TagRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "description": rule.description,
        "tag_id": rule.tag_id,
        "tag_name": rule.tag.name,
        "conditions": rule.conditions,
        "enabled": rule.enabled,
        "last_run_at": _stamp(rule.last_run_at),
        "last_run_count": rule.last_run_count,
    }


def _segment(request: Request, segment: Segment) -> dict[str, Any]:
    return {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "params": segment.params,
        "shared": segment.shared,
        "owner_id": segment.owner_id,
        "editable": segments.editable(request.user, segment),
        "created_at": _stamp(segment.created_at),
        "updated_at": _stamp(segment.updated_at),
    }


def _meta(request: Request) -> RequestMeta:
    return RequestMeta.from_request(request)


def _require(request: Request, perm: str, action: str, **context: Any) -> None:
    require_perm_audited(
        actor=request.user, perm=perm, action=action, meta=_meta(request), **context
    )


def _id(pk: str) -> int:
    try:
        value = int(pk)
    except (TypeError, ValueError):
        raise ApiNotFound() from None
    if not 0 < value <= ID_MAX:
        raise ApiNotFound()
    return value


class TagListView(APIView):
    @extend_schema(
        operation_id="tags_list",
        responses={
            200: inline_serializer("TagList", {"items": TagSerializer(many=True)}),
            **COMMON_ERRORS,
        },
        tags=["tags"],
    )
    def get(self, request: Request) -> Response:
        _require(request, "customers.view_tag", "tag.view", target="tag")
        rows = Tag.objects.annotate(
            n=Count("customers", filter=Q(customers__deleted_at__isnull=True))
        ).order_by("name")
        return Response({"items": [_tag(t) for t in rows]})

    @extend_schema(
        operation_id="tags_create",
        request=TagWriteSerializer,
        responses={201: TagSerializer, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["tags"],
    )
    def post(self, request: Request) -> Response:
        _require(request, "customers.add_tag", "tag.create", target="tag")
        body = TagWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tag = tags.tag_create(actor=request.user, data=body.validated_data, meta=_meta(request))
        return Response(_tag(tag, 0), status=status.HTTP_201_CREATED)


class TagRuleListView(APIView):
    @extend_schema(
        operation_id="tag_rules_list",
        responses={
            200: inline_serializer("TagRuleList", {"items": TagRuleSerializer(many=True)}),
            **COMMON_ERRORS,
        },
        tags=["tags"],
    )
    def get(self, request: Request) -> Response:
        _require(request, "customers.view_tagrule", "tag_rule.view", target="rule")
        rules = TagRule.objects.select_related("tag").order_by("id")
        return Response({"items": [_rule(r) for r in rules]})

    @extend_schema(
        operation_id="tag_rules_create",
        request=TagRuleWriteSerializer,
        responses={201: TagRuleSerializer, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["tags"],
    )
    def post(self, request: Request) -> Response:
        _require(request, "customers.add_tagrule", "tag_rule.create", target="rule")
        body = TagRuleWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = tag_rule_services.tag_rule_create(
            actor=request.user, data=body.validated_data, meta=_meta(request)
        )
        return Response(_rule(rule), status=status.HTTP_201_CREATED)


class TagRuleRunView(APIView):
    @extend_schema(
        operation_id="tag_rules_run",
        request=None,
        responses={200: RUN_SCHEMA, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["tags"],
    )
    def post(self, request: Request, pk: str) -> Response:
        _require(request, "customers.change_tagrule", "tag_rule.run", target="rule")
        try:
            rule = TagRule.objects.get(pk=_id(pk))
        except TagRule.DoesNotExist:
            raise ApiNotFound() from None
        result = tag_rule_services.tag_rule_run(actor=request.user, rule=rule, meta=_meta(request))
        return Response(
            {
                "matched": result.matched,
                "added": result.added,
                "removed": result.removed,
                "last_run_at": _stamp(rule.last_run_at),
            }
        )


class SegmentListView(APIView):
    @extend_schema(
        operation_id="segments_list",
        responses={
            200: inline_serializer("SegmentList", {"items": SegmentSerializer(many=True)}),
            **COMMON_ERRORS,
        },
        tags=["segments"],
    )
    def get(self, request: Request) -> Response:
        _require(request, "customers.view_segment", "segment.view", target="segment")
        items = segments.segment_list(user=request.user)
        return Response({"items": [_segment(request, s) for s in items]})

    @extend_schema(
        operation_id="segments_create",
        request=SegmentWriteSerializer,
        responses={201: SegmentSerializer, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["segments"],
    )
    def post(self, request: Request) -> Response:
        _require(request, "customers.add_segment", "segment.create", target="segment")
        body = SegmentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        segment = segments.segment_create(
            actor=request.user, data=body.validated_data, meta=_meta(request)
        )
        return Response(_segment(request, segment), status=status.HTTP_201_CREATED)


def _visible(request: Request, pk: str) -> Segment:
    try:
        return segments.segment_get(user=request.user, pk=_id(pk))
    except NotFound:
        raise ApiNotFound() from None


class SegmentDetailView(APIView):
    @extend_schema(
        operation_id="segments_retrieve",
        responses={200: SegmentSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["segments"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(_segment(request, _visible(request, pk)))

    @extend_schema(
        operation_id="segments_partial_update",
        request=SegmentPatchSerializer,
        responses={200: SegmentSerializer, 404: ERROR_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["segments"],
    )
    def patch(self, request: Request, pk: str) -> Response:
        segment = _visible(request, pk)
        _require(request, "customers.add_segment", "segment.update", segment=segment)
        body = SegmentPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = segments.segment_update(
            actor=request.user, segment=segment, data=body.validated_data, meta=_meta(request)
        )
        return Response(_segment(request, saved))

    @extend_schema(
        operation_id="segments_destroy",
        responses={204: None, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["segments"],
    )
    def delete(self, request: Request, pk: str) -> Response:
        segment = _visible(request, pk)
        _require(request, "customers.add_segment", "segment.delete", segment=segment)
        segments.segment_delete(actor=request.user, segment=segment, meta=_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentCountView(APIView):
    @extend_schema(
        operation_id="segments_count",
        responses={200: COUNT_SCHEMA, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["segments"],
    )
    def get(self, request: Request, pk: str) -> Response:
        segment = _visible(request, pk)
        count = segments.segment_count(user=request.user, segment=segment)
        capped = count > selectors.COUNT_CAP
        return Response({"count": selectors.COUNT_CAP if capped else count, "capped": capped})


class CustomerTagsView(APIView):
    @extend_schema(
        operation_id="customers_tags_bulk",
        request=BulkTagSerializer,
        responses={200: BULK_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["customers"],
    )
    def post(self, request: Request) -> Response:
        _require(request, "customers.change_customer", "customer.tags_apply", target="customer")
        body = BulkTagSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = tags.tags_apply(
            actor=request.user,
            customer_ids=data["customer_ids"],
            add=data.get("add", []),
            remove=data.get("remove", []),
            meta=_meta(request),
        )
        return Response(result)


urlpatterns: list[URLPattern] = [
    path("tags", TagListView.as_view(), name="api_tags"),
    path("tag-rules", TagRuleListView.as_view(), name="api_tag_rules"),
    path("tag-rules/<str:pk>/run", TagRuleRunView.as_view(), name="api_tag_rule_run"),
    path("segments", SegmentListView.as_view(), name="api_segments"),
    path("segments/<str:pk>", SegmentDetailView.as_view(), name="api_segment"),
    path("segments/<str:pk>/count", SegmentCountView.as_view(), name="api_segment_count"),
    path("customers/tags", CustomerTagsView.as_view(), name="api_customer_tags"),
]

"""Duplicate check and merge API: thin over customers.duplicates, customers.merge and their
selectors; errors go through the shared exception handler."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.audit.services import RequestMeta, require_perm_audited
from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA
from guanxi.core.permissions import require_perm
from guanxi.customers import duplicates, merge, merge_selectors, selectors
from guanxi.customers.api import CustomerSerializer
from guanxi.customers.validation import clean_lookup_values


class DuplicateCheckSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    mobile = serializers.CharField(required=False, allow_blank=True, max_length=64)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=64)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    uscc = serializers.CharField(required=False, allow_blank=True, max_length=64)
    exclude_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


_MATCHES = serializers.ListField(child=serializers.DictField())
DUPLICATE_CHECK_SCHEMA = inline_serializer(
    "DuplicateCheck",
    fields={
        "blocked": serializers.BooleanField(),
        "duplicates": _MATCHES,
        "hidden_count": serializers.IntegerField(),
        "warnings": serializers.ListField(child=serializers.DictField()),
    },
)


class DuplicateCheckView(APIView):
    @extend_schema(
        operation_id="customers_duplicate_check",
        summary="Would these values duplicate a live customer? (the same rules as a save)",
        description=(
            "`duplicates` are the blocking matches in the caller's scope (`hidden_count` "
            "counts the others); `warnings` are the non-blocking findings, such as similar "
            "names with their `score`. Values are normalised as on save; a malformed one "
            "answers 422."
        ),
        request=DuplicateCheckSerializer,
        responses={200: DUPLICATE_CHECK_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["customers"],
    )
    def post(self, request: Request) -> Response:
        require_perm(request.user, "customers.view_customer")
        body = DuplicateCheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        exclude = body.validated_data.get("exclude_id")
        report = duplicates.check(
            actor=request.user,
            values=clean_lookup_values(body.validated_data),
            exclude_ids=[exclude] if exclude else [],
        )
        return Response(
            {
                "blocked": report.blocked,
                "duplicates": report.blocking,
                "hidden_count": report.blocking_hidden,
                "warnings": [w.as_dict() for w in report.warnings],
            }
        )


class MergeSerializer(serializers.Serializer):
    merged_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    fields = serializers.DictField(
        child=serializers.ChoiceField(choices=[merge.SURVIVOR, merge.MERGED, merge.BOTH]),
        required=False,
        help_text="field → survivor | merged (| both for notes); unnamed fields keep the "
        "survivor's value unless it is empty",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255)


class MergeRecordSerializer(serializers.Serializer):
    """A merge as it happened: masked snapshots of both sides, the choices, what moved."""

    id = serializers.IntegerField()
    survivor_id = serializers.IntegerField()
    merged_id = serializers.IntegerField()
    merged_code = serializers.CharField()
    field_choices = serializers.DictField()
    survivor_before = serializers.DictField()
    merged_before = serializers.DictField()
    moved = serializers.DictField(child=serializers.IntegerField())
    reason = serializers.CharField()
    merged_by = serializers.IntegerField()
    merged_at = serializers.DateTimeField()

    def to_representation(self, record: Any) -> dict[str, Any]:
        return {
            "id": record.pk,
            "survivor_id": record.survivor_id,
            "merged_id": record.merged_id,
            "merged_code": record.merged.code,
            "field_choices": record.field_choices,
            "survivor_before": record.survivor_before,
            "merged_before": record.merged_before,
            "moved": record.moved,
            "reason": record.reason,
            "merged_by": record.merged_by_id,
            "merged_at": serializers.DateTimeField().to_representation(record.merged_at),
        }


class CustomerMergeView(APIView):
    @extend_schema(
        operation_id="customers_merge",
        summary="Merge another customer into this one (needs customers.merge_customer)",
        description=(
            "Both customers must be live and in the caller's write scope (404 otherwise). "
            "Every related record moves to this customer; the merged one leaves the list "
            "and stays inspectable through the merge record."
        ),
        request=MergeSerializer,
        responses={
            200: inline_serializer(
                "MergeResult",
                fields={"merge": MergeRecordSerializer(), "customer": CustomerSerializer()},
            ),
            404: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["customers"],
    )
    def post(self, request: Request, pk: str) -> Response:
        meta = RequestMeta.from_request(request)
        survivor = selectors.customer_get(user=request.user, pk=pk)
        require_perm_audited(
            actor=request.user,
            perm=merge.MERGE_PERM,
            action="customer.merge",
            customer=survivor,
            meta=meta,
        )
        body = MergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        merged = selectors.customer_get(user=request.user, pk=body.validated_data["merged_id"])
        record = merge.customer_merge(
            actor=request.user,
            survivor=survivor,
            merged=merged,
            choices=body.validated_data.get("fields") or {},
            reason=body.validated_data.get("reason", ""),
            meta=meta,
        )
        record = merge_selectors.merge_get(user=request.user, pk=record.pk)
        customer = selectors.customer_get(user=request.user, pk=survivor.pk)
        return Response(
            {
                "merge": MergeRecordSerializer(record).data,
                "customer": CustomerSerializer(customer, context={"request": request}).data,
            }
        )


class MergeRecordView(APIView):
    @extend_schema(
        operation_id="customer_merges_retrieve",
        responses={200: MergeRecordSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["customers"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(MergeRecordSerializer(merge_selectors.merge_get(request.user, pk)).data)


urlpatterns = [
    path(
        "customers/duplicate-check", DuplicateCheckView.as_view(), name="customer-duplicate-check"
    ),
    path("customers/<str:pk>/merge", CustomerMergeView.as_view(), name="customer-merge"),
    path("customer-merges/<str:pk>", MergeRecordView.as_view(), name="customer-merge-record"),
]

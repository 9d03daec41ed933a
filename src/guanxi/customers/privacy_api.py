"""Personal information protection API: lawful bases, a data subject's copy, erasure and
the retention purge lists. Thin over customers.privacy and customers.subject_export."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.audit.services import RequestMeta, require_perm_audited
from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA
from guanxi.core.errors import PermissionDenied
from guanxi.core.ids import parse_id
from guanxi.customers import privacy, selectors, subject_export
from guanxi.customers.api import CustomerSerializer
from guanxi.customers.models import (
    Consent,
    ConsentBasis,
    RetentionList,
    RetentionStatus,
)

_dt = serializers.DateTimeField()


def _time(value: Any) -> str | None:
    return _dt.to_representation(value) if value else None


class ConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    subject_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    basis = serializers.ChoiceField(choices=ConsentBasis.choices)
    scope = serializers.CharField(max_length=255)
    source = serializers.CharField(max_length=64)
    evidence = serializers.CharField(max_length=255, required=False, allow_blank=True)
    given_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    withdrawn_at = serializers.DateTimeField(read_only=True, allow_null=True)
    withdrawn_reason = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    def to_representation(self, c: Consent) -> dict[str, Any]:
        return {
            "id": c.pk,
            "subject_name": c.subject_name,
            "basis": c.basis,
            "scope": c.scope,
            "source": c.source,
            "evidence": c.evidence,
            "given_at": _time(c.given_at),
            "expires_at": _time(c.expires_at),
            "withdrawn_at": _time(c.withdrawn_at),
            "withdrawn_reason": c.withdrawn_reason,
            "is_active": c.is_active,
        }


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CandidateSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    code = serializers.CharField()
    last_activity_at = serializers.DateTimeField()
    excluded = serializers.BooleanField()
    erased = serializers.BooleanField()


class RetentionListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=RetentionStatus.choices)
    rule = serializers.DictField()
    created_at = serializers.DateTimeField()
    decided_by = serializers.IntegerField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    comment = serializers.CharField()
    erased_count = serializers.IntegerField()
    candidates = CandidateSerializer(many=True, required=False)

    def to_representation(self, item: RetentionList) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": item.pk,
            "status": item.status,
            "rule": item.rule,
            "created_at": _time(item.created_at),
            "decided_by": item.decided_by_id,
            "decided_at": _time(item.decided_at),
            "comment": item.comment,
            "erased_count": item.erased_count,
        }
        if self.context.get("with_candidates"):
            data["candidates"] = [
                {
                    "customer_id": c.customer_id,
                    "code": c.customer.code,
                    "last_activity_at": _time(c.last_activity_at),
                    "excluded": c.excluded,
                    "erased": c.erased,
                }
                for c in item.candidates.select_related("customer").order_by("pk")
            ]
        return data


class ApproveSerializer(serializers.Serializer):
    keep_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=500)


def _int_pk(pk: str) -> int:
    """A path id as a number; anything else (letters, other scripts' digits, too large)
    becomes 0, which matches nothing: a 404 like any missing record."""
    wanted = parse_id(pk)
    return 0 if wanted is None else wanted


def _meta(request: Request) -> RequestMeta:
    return RequestMeta.from_request(request)


class ConsentListView(APIView):
    @extend_schema(
        operation_id="customer_consents_list",
        responses={
            200: inline_serializer("ConsentList", fields={"items": ConsentSerializer(many=True)}),
            404: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["privacy"],
    )
    def get(self, request: Request, pk: str) -> Response:
        customer = selectors.customer_get(user=request.user, pk=pk)
        return Response({"items": ConsentSerializer(customer.consents.all(), many=True).data})

    @extend_schema(
        operation_id="customer_consents_create",
        request=ConsentSerializer,
        responses={201: ConsentSerializer, 404: ERROR_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["privacy"],
    )
    def post(self, request: Request, pk: str) -> Response:
        customer = selectors.customer_get(user=request.user, pk=pk)
        require_perm_audited(
            actor=request.user,
            perm="customers.change_customer",
            action="customer.consent_record",
            customer=customer,
            meta=_meta(request),
        )
        body = ConsentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        consent = privacy.consent_record(
            actor=request.user, customer=customer, data=body.validated_data, meta=_meta(request)
        )
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class ConsentWithdrawView(APIView):
    @extend_schema(
        operation_id="consents_withdraw",
        request=ReasonSerializer,
        responses={200: ConsentSerializer, 404: ERROR_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["privacy"],
    )
    def post(self, request: Request, pk: str) -> Response:
        consent = get_object_or_404(Consent, pk=_int_pk(pk))
        selectors.customer_get(user=request.user, pk=consent.customer_id)  # 404 outside scope
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        consent = privacy.consent_withdraw(
            actor=request.user,
            consent=consent,
            reason=body.validated_data["reason"],
            meta=_meta(request),
        )
        return Response(ConsentSerializer(consent).data)


class PersonalDataView(APIView):
    @extend_schema(
        operation_id="customers_personal_data",
        summary="A data subject's copy of everything held (audited)",
        parameters=[OpenApiParameter("format", str, enum=["json", "xlsx"], default="json")],
        responses={
            (200, "application/octet-stream"): bytes,
            404: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["privacy"],
    )
    def get(self, request: Request, pk: str) -> FileResponse:
        result = subject_export.subject_export(
            actor=request.user,
            customer_id=pk,
            fmt=request.query_params.get("format", "json"),
            meta=_meta(request),
        )
        response = FileResponse(
            result.file,
            as_attachment=True,
            filename=result.filename,
            content_type=result.content_type,
        )
        response["Cache-Control"] = "no-store"
        return response


class EraseView(APIView):
    @extend_schema(
        operation_id="customers_erase",
        summary="Erase a customer's personal data (anonymise; business data stays)",
        request=ReasonSerializer,
        responses={200: CustomerSerializer, 404: ERROR_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["privacy"],
    )
    def post(self, request: Request, pk: str) -> Response:
        customer = selectors.customer_get(user=request.user, pk=pk)
        require_perm_audited(
            actor=request.user,
            perm=privacy.PRIVACY_PERM,
            action="customer.erase",
            customer=customer,
            meta=_meta(request),
        )
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        privacy.customer_erase(
            actor=request.user,
            customer=customer,
            reason=body.validated_data["reason"],
            meta=_meta(request),
        )
        fresh = selectors.customer_get(user=request.user, pk=customer.pk)
        return Response(CustomerSerializer(fresh, context={"request": request}).data)


def _require_privacy(request: Request) -> None:
    if not request.user.has_perm(privacy.PRIVACY_PERM):
        raise PermissionDenied()


class RetentionListsView(APIView):
    @extend_schema(
        operation_id="retention_lists",
        responses={
            200: inline_serializer(
                "RetentionListPage", fields={"items": RetentionListSerializer(many=True)}
            ),
            **COMMON_ERRORS,
        },
        tags=["privacy"],
    )
    def get(self, request: Request) -> Response:
        _require_privacy(request)
        lists = RetentionList.objects.order_by("-created_at", "-id")[:100]
        return Response({"items": RetentionListSerializer(lists, many=True).data})


class RetentionListView(APIView):
    @extend_schema(
        operation_id="retention_list",
        responses={200: RetentionListSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["privacy"],
    )
    def get(self, request: Request, pk: str) -> Response:
        _require_privacy(request)
        return _decided(_retention_list(pk))


def _retention_list(pk: str) -> RetentionList:
    return get_object_or_404(RetentionList, pk=_int_pk(pk))


def _decided(item: RetentionList) -> Response:
    return Response(RetentionListSerializer(item, context={"with_candidates": True}).data)


DECISION_RESPONSES = {
    200: RetentionListSerializer,
    404: ERROR_SCHEMA,
    409: ERROR_SCHEMA,
    422: ERROR_SCHEMA,
    **COMMON_ERRORS,
}


class RetentionApproveView(APIView):
    @extend_schema(
        operation_id="retention_approve",
        summary="Approve a purge list: erase all listed customers but keep_ids",
        request=ApproveSerializer,
        responses=DECISION_RESPONSES,
        tags=["privacy"],
    )
    def post(self, request: Request, pk: str) -> Response:
        item = _retention_list(pk)
        body = ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return _decided(
            privacy.retention_approve(
                actor=request.user,
                retention_list=item,
                keep_ids=body.validated_data["keep_ids"],
                comment=body.validated_data.get("comment", ""),
                meta=_meta(request),
            )
        )


class RetentionRejectView(APIView):
    @extend_schema(
        operation_id="retention_reject",
        request=CommentSerializer,
        responses=DECISION_RESPONSES,
        tags=["privacy"],
    )
    def post(self, request: Request, pk: str) -> Response:
        item = _retention_list(pk)
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return _decided(
            privacy.retention_reject(
                actor=request.user,
                retention_list=item,
                comment=body.validated_data["comment"],
                meta=_meta(request),
            )
        )


urlpatterns = [
    path("customers/<str:pk>/consents", ConsentListView.as_view(), name="customer-consents"),
    path("consents/<str:pk>/withdraw", ConsentWithdrawView.as_view(), name="consent-withdraw"),
    path("customers/<str:pk>/personal-data", PersonalDataView.as_view(), name="personal-data"),
    path("customers/<str:pk>/erase", EraseView.as_view(), name="customer-erase"),
    path("retention-lists", RetentionListsView.as_view(), name="retention-lists"),
    path("retention-lists/<str:pk>", RetentionListView.as_view(), name="retention-list"),
    path(
        "retention-lists/<str:pk>/approve",
        RetentionApproveView.as_view(),
        name="retention-approve",
    ),
    path(
        "retention-lists/<str:pk>/reject",
        RetentionRejectView.as_view(),
        name="retention-reject",
    ),
]

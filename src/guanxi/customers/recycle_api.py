"""Recycle bin API (API.md, "Governance"): list, restore, purge. Thin over customers.recycle
and customers.recycle_selectors; errors go through the shared exception handler."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.audit.services import RequestMeta, require_perm_audited
from guanxi.core.api_schema import (
    COMMON_ERRORS,
    DUPLICATE_SCHEMA,
    ERROR_SCHEMA,
    ListQuerySerializer,
    filter_parameters,
    list_query,
    page_schema,
)
from guanxi.customers import recycle, recycle_selectors, selectors
from guanxi.customers.api import CustomerSerializer
from guanxi.customers.choices import CustomerStatus
from guanxi.customers.models import Customer

_dt = serializers.DateTimeField()


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RecycleBinItemSerializer(serializers.Serializer):
    """A deleted customer as the bin lists it: who deleted it and when it will be purged
    (``purge_after`` is null when the retention job is off). ``deleted_by`` is an object
    (``{"id", "name"}``) so a client needs no second call to show who it was."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=CustomerStatus.choices)
    owner_id = serializers.IntegerField()
    deleted_at = serializers.DateTimeField()
    deleted_by = UserRefSerializer(allow_null=True)
    purge_after = serializers.DateTimeField(allow_null=True)

    def to_representation(self, customer: Customer) -> dict[str, Any]:
        by = customer.deleted_by
        due = recycle_selectors.purge_after(customer.deleted_at)
        return {
            "id": customer.pk,
            "code": customer.code,
            "name": customer.name,
            "status": customer.status,
            "owner_id": customer.owner_id,
            "deleted_at": _dt.to_representation(customer.deleted_at),
            "deleted_by": {"id": by.pk, "name": by.display_name} if by else None,
            "purge_after": _dt.to_representation(due) if due else None,
        }


class PurgeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=recycle.REASON_MAX_LENGTH)


class RecycleBinListView(APIView):
    @extend_schema(
        operation_id="recycle_bin_customers_list",
        summary="Deleted customers in the caller's scope (needs customers.delete_customer)",
        parameters=[
            *filter_parameters(recycle_selectors.RecycleBinFilter),
            ListQuerySerializer,
        ],
        responses={
            200: page_schema("RecycleBinPage", RecycleBinItemSerializer),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["recycle-bin"],
    )
    def get(self, request: Request) -> Response:
        filterset = recycle_selectors.recycle_bin_filter(request.user, request.query_params)
        query = list_query(request, ListQuerySerializer, filterset)
        page = recycle_selectors.recycle_bin_list(
            user=request.user,
            params=request.query_params,
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        items = [RecycleBinItemSerializer(c).data for c in page.items]
        return Response({"items": items, "next_cursor": page.next_cursor})


class DeleteWithBodySchema(AutoSchema):
    """drf-spectacular documents bodies for POST/PUT/PATCH only; the purge's DELETE carries
    its mandatory reason in the body (API.md), so integrators must see it in the document."""

    def _get_request_body(self, direction: str = "request") -> Any:
        method, self.method = self.method, "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = method


class RecycleBinPurgeView(APIView):
    schema = DeleteWithBodySchema()

    @extend_schema(
        operation_id="recycle_bin_customers_purge",
        summary="Purge a deleted customer for good (needs customers.purge_customer)",
        description=(
            "Deletes the customer and its tag links and status history; the audit log keeps "
            "the reason with the customer's code and name. 404 for a live customer or one "
            "outside the caller's write scope; 422 without a reason."
        ),
        request=PurgeSerializer,
        responses={
            204: None,
            404: ERROR_SCHEMA,
            409: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["recycle-bin"],
    )
    def delete(self, request: Request, pk: str) -> Response:
        meta = RequestMeta.from_request(request)
        require_perm_audited(
            actor=request.user,
            perm=recycle.PURGE_PERMISSION,
            action=recycle.PURGE_ACTION,
            target="customer",
            meta=meta,
        )
        customer = recycle_selectors.recycle_bin_get(user=request.user, pk=pk)
        body = PurgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        recycle.customer_purge(
            actor=request.user, customer=customer, reason=body.validated_data["reason"], meta=meta
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerRestoreView(APIView):
    @extend_schema(
        operation_id="customers_restore",
        summary="Restore a customer from the recycle bin (status becomes not_cooperating)",
        description=(
            "Needs customers.delete_customer. 404 for a live customer or one outside the "
            "caller's write scope; 409 (ERR-012) when a live customer now holds the name."
        ),
        request=None,
        responses={
            200: CustomerSerializer,
            404: ERROR_SCHEMA,
            409: DUPLICATE_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["customers"],
    )
    def post(self, request: Request, pk: str) -> Response:
        meta = RequestMeta.from_request(request)
        require_perm_audited(
            actor=request.user,
            perm=recycle_selectors.BIN_PERMISSION,
            action=recycle.RESTORE_ACTION,
            target="customer",
            meta=meta,
        )
        customer = recycle_selectors.recycle_bin_get(user=request.user, pk=pk)
        recycle.customer_restore(actor=request.user, customer=customer, meta=meta)
        restored = selectors.customer_get(user=request.user, pk=customer.pk)
        return Response(CustomerSerializer(restored, context={"request": request}).data)


urlpatterns = [
    path("recycle-bin/customers", RecycleBinListView.as_view(), name="recycle-bin-customers"),
    path(
        "recycle-bin/customers/<str:pk>",
        RecycleBinPurgeView.as_view(),
        name="recycle-bin-customer",
    ),
    path("customers/<str:pk>/restore", CustomerRestoreView.as_view(), name="customer-restore"),
]

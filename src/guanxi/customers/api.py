"""Customers API (API.md): thin views over the same services and selectors as the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.audit.services import RequestMeta, require_perm_audited
from guanxi.core.api_errors import error_body
from guanxi.core.api_schema import (
    COMMON_ERRORS,
    DUPLICATE_SCHEMA,
    ERROR_SCHEMA,
    ListQuerySerializer,
    filter_parameters,
    list_query,
    page_schema,
)
from guanxi.core.errors import StaleVersion
from guanxi.customers import approvals, reveal, selectors, services
from guanxi.customers.choices import CustomerStatus, CustomerType, ReviewStatus
from guanxi.customers.filters import ORDERING_FIELDS, CustomerFilter
from guanxi.customers.models import Customer, CustomerTag


class CustomerSerializer(serializers.Serializer):
    """The read shape of a customer. Personal values: in full for the record's owner and
    sensitive-data holders, masked for everyone else (``selectors.shows_sensitive``)."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    customer_type = serializers.ChoiceField(choices=CustomerType.choices)
    contact_name = serializers.CharField()
    mobile = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    uscc = serializers.CharField()
    province = serializers.CharField()
    city = serializers.CharField()
    district = serializers.CharField()
    address = serializers.CharField()
    industry = serializers.CharField()
    category = serializers.CharField()
    status = serializers.ChoiceField(choices=CustomerStatus.choices)
    source = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    tag_details = serializers.ListField(
        child=inline_serializer(
            "CustomerTagDetail",
            fields={
                "name": serializers.CharField(),
                "color": serializers.CharField(),
                "rule": serializers.CharField(
                    allow_null=True, help_text="the tag rule that set it; null = manual"
                ),
            },
        ),
        help_text="the tags with colour and, for automatic ones, the rule that set them",
    )
    owner_id = serializers.IntegerField()
    department_id = serializers.IntegerField(allow_null=True)
    review_status = serializers.ChoiceField(choices=ReviewStatus.choices)
    notes = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    custom_fields = serializers.DictField(
        help_text=(
            "Admin-defined fields (GET /custom-fields?object_type=customer): key → value, "
            "null when empty. number: JSON number; money: string with two decimals; date: "
            "YYYY-MM-DD; boolean; choice: dictionary code; multi_choice: list of codes."
        )
    )

    def to_representation(self, customer: Customer) -> dict[str, Any]:
        request = self.context["request"]
        user = request.user
        data = {
            f: getattr(customer, f)
            for f in (
                "id",
                "code",
                "name",
                "customer_type",
                "contact_name",
                "province",
                "city",
                "district",
                "address",
                "industry",
                "category",
                "status",
                "source",
                "owner_id",
                "department_id",
                "review_status",
                "notes",
                "version",
            )
        }
        personal = selectors.sensitive_values(user, customer)
        for field in ("mobile", "phone", "email", "uscc"):
            data[field] = personal[field]
        links = _tag_links(customer)
        data["tags"] = [link.tag.name for link in links]
        data["tag_details"] = [
            {
                "name": link.tag.name,
                "color": link.tag.color,
                "rule": getattr(link.rule, "name", None),
            }
            for link in links
        ]
        data["created_at"] = serializers.DateTimeField().to_representation(customer.created_at)
        data["updated_at"] = serializers.DateTimeField().to_representation(customer.updated_at)
        stored = customer.custom_fields or {}
        data["custom_fields"] = {key: stored.get(key) for key in _custom_keys(request)}
        return data


def _tag_links(customer: Customer) -> list[CustomerTag]:
    links = getattr(customer, "tag_links", None)
    if links is None:
        prefetch_tag_links([customer])
        links = customer.tag_links  # type: ignore[attr-defined]
    return sorted(links, key=lambda link: link.tag.name)


def prefetch_tag_links(customers: list[Customer]) -> None:
    """One query for the tag rows (with their rules) of every customer on a page."""
    prefetch_related_objects(
        customers,
        Prefetch(
            "customertag_set",
            queryset=CustomerTag.objects.select_related("tag", "rule"),
            to_attr="tag_links",
        ),
    )


def _custom_keys(request: Request) -> list[str]:
    """The active custom field keys, read once per request however many records it shows."""
    keys = getattr(request, "_customer_custom_keys", None)
    if keys is None:
        keys = [f.key for f in services.custom_field_definitions(active_only=True)]
        request._customer_custom_keys = keys  # type: ignore[attr-defined]
    return keys


class DuplicateWarningSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="mobile, phone, email, uscc or similar_name")
    message = serializers.CharField()
    duplicates = serializers.ListField(
        child=serializers.DictField(), help_text="{id, name, code, matched_on, score?}"
    )
    hidden_count = serializers.IntegerField()


class CustomerSavedSerializer(CustomerSerializer):
    """A saved customer as create and edit answer it (documentation shape): the record, plus
    the non-blocking duplicate findings when a rule set to "warn" matched."""

    warnings = DuplicateWarningSerializer(many=True, required=False)


class CustomerWriteSerializer(serializers.Serializer):
    """Shape of create/edit input only; the rules live in customers.validation."""

    name = serializers.CharField(max_length=200, allow_blank=True, trim_whitespace=False)
    customer_type = serializers.ChoiceField(choices=CustomerType.choices, required=False)
    contact_name = serializers.CharField(max_length=200, allow_blank=True)
    mobile = serializers.CharField(max_length=40, allow_blank=True, required=False)
    phone = serializers.CharField(max_length=40, allow_blank=True, required=False)
    email = serializers.CharField(max_length=254, allow_blank=True, required=False)
    uscc = serializers.CharField(max_length=40, allow_blank=True, required=False)
    id_number = serializers.CharField(max_length=40, allow_blank=True, required=False)
    province = serializers.CharField(max_length=32, allow_blank=True, required=False)
    city = serializers.CharField(max_length=32, allow_blank=True, required=False)
    district = serializers.CharField(max_length=32, allow_blank=True, required=False)
    address = serializers.CharField(max_length=255, allow_blank=True, required=False)
    industry = serializers.CharField(max_length=64, allow_blank=True, required=False)
    category = serializers.CharField(max_length=64, allow_blank=True, required=False)
    source = serializers.CharField(max_length=64, allow_blank=True, required=False)
    status = serializers.ChoiceField(choices=CustomerStatus.choices, required=False)
    notes = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=32), max_length=50, required=False
    )
    owner_id = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    custom_fields = serializers.DictField(
        required=False,
        allow_empty=True,
        help_text=(
            "key → value for admin-defined fields; on PATCH only the keys given change, "
            "null or an empty value clears one. Multi choice takes a list of codes or labels."
        ),
    )


class CustomerPatchSerializer(CustomerWriteSerializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CustomerStatus.choices)
    reason = serializers.CharField(max_length=255, allow_blank=True, required=False)
    version = serializers.IntegerField(min_value=1, max_value=2**31, required=False)


class CustomerListQuery(ListQuerySerializer):
    ordering = serializers.ChoiceField(
        choices=[o for f in ORDERING_FIELDS for o in (f, f"-{f}")], required=False
    )


RENAME_PENDING_SCHEMA = inline_serializer(
    "RenamePending",
    fields={"approval_id": serializers.IntegerField(), "status": serializers.CharField()},
)


def _record(request: Request, customer: Customer) -> dict[str, Any]:
    return CustomerSerializer(customer, context={"request": request}).data


def _get_for_write(request: Request, pk: str, perm: str, action: str) -> Customer:
    """The record to write: 404 outside the read scope, then 403 without ``perm`` (audited),
    both before the body is judged — a caller who may not write gets the refusal, not a
    review of the input. The service still checks the write scope (404) and the rest."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    require_perm_audited(
        actor=request.user,
        perm=perm,
        action=action,
        customer=customer,
        meta=RequestMeta.from_request(request),
    )
    return customer


def _with_warnings(body: dict[str, Any], saved: Customer) -> dict[str, Any]:
    """Non-blocking duplicate findings of a save ride along with the record (API.md)."""
    if saved.duplicate_warnings:
        body["warnings"] = [w.as_dict() for w in saved.duplicate_warnings]
    return body


def _stale_response(request: Request, exc: StaleVersion) -> Response:
    current = selectors.customer_get(user=request.user, pk=exc.extra["current"].pk)
    return Response(
        error_body(exc.code, exc.message, current=_record(request, current)), status=409
    )


class CustomerListView(APIView):
    @extend_schema(
        operation_id="customers_list",
        parameters=[*filter_parameters(CustomerFilter), CustomerListQuery],
        responses={
            200: page_schema("CustomerPage", CustomerSerializer),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["customers"],
    )
    def get(self, request: Request) -> Response:
        filterset = selectors.customer_filter(request.user, request.query_params)
        query = list_query(request, CustomerListQuery, filterset)
        page = selectors.customer_list(
            user=request.user,
            params=request.query_params,
            cursor=query.get("cursor"),
            limit=query["limit"],
            related=False,
        )
        prefetch_tag_links(list(page.items))
        items = [_record(request, c) for c in page.items]
        return Response({"items": items, "next_cursor": page.next_cursor})

    @extend_schema(
        operation_id="customers_create",
        request=CustomerWriteSerializer,
        responses={
            201: CustomerSavedSerializer,
            409: DUPLICATE_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["customers"],
    )
    def post(self, request: Request) -> Response:
        require_perm_audited(  # 403 before judging the body
            actor=request.user,
            perm="customers.add_customer",
            action="customer.create",
            meta=RequestMeta.from_request(request),
        )
        body = CustomerWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = services.customer_create(
            actor=request.user, data=body.validated_data, meta=RequestMeta.from_request(request)
        )
        customer = selectors.customer_get(user=request.user, pk=saved.pk)
        return Response(
            _with_warnings(_record(request, customer), saved), status=status.HTTP_201_CREATED
        )


class CustomerDetailView(APIView):
    @extend_schema(
        operation_id="customers_retrieve",
        responses={200: CustomerSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["customers"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(_record(request, selectors.customer_get(user=request.user, pk=pk)))

    @extend_schema(
        operation_id="customers_partial_update",
        request=CustomerPatchSerializer,
        responses={
            200: CustomerSavedSerializer,
            202: RENAME_PENDING_SCHEMA,
            404: ERROR_SCHEMA,
            409: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["customers"],
    )
    def patch(self, request: Request, pk: str) -> Response:
        customer = _get_for_write(request, pk, "customers.change_customer", "customer.update")
        body = CustomerPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("version")
        try:
            saved = services.customer_update(
                actor=request.user,
                customer=customer,
                data=data,
                version=version,
                meta=RequestMeta.from_request(request),
            )
        except StaleVersion as exc:
            return _stale_response(request, exc)
        if saved.pending_rename is not None:  # the name waits for its approval
            return Response(
                {"approval_id": saved.pending_rename.pk, "status": "pending"},
                status=status.HTTP_202_ACCEPTED,
            )
        customer = selectors.customer_get(user=request.user, pk=saved.pk)
        return Response(_with_warnings(_record(request, customer), saved))

    @extend_schema(
        operation_id="customers_destroy",
        responses={204: None, 404: ERROR_SCHEMA, 409: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["customers"],
    )
    def delete(self, request: Request, pk: str) -> Response:
        customer = _get_for_write(request, pk, "customers.delete_customer", "customer.delete")
        services.customer_delete(
            actor=request.user, customer=customer, meta=RequestMeta.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerStatusView(APIView):
    @extend_schema(
        operation_id="customers_change_status",
        request=StatusChangeSerializer,
        responses={
            200: CustomerSerializer,
            404: ERROR_SCHEMA,
            409: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["customers"],
    )
    def post(self, request: Request, pk: str) -> Response:
        customer = _get_for_write(
            request, pk, "customers.change_customer", "customer.change_status"
        )
        body = StatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            customer = services.customer_change_status(
                actor=request.user,
                customer=customer,
                meta=RequestMeta.from_request(request),
                **body.validated_data,
            )
        except StaleVersion as exc:
            return _stale_response(request, exc)
        return Response(_record(request, selectors.customer_get(user=request.user, pk=customer.pk)))


HISTORY_SCHEMA = inline_serializer(
    "CustomerHistory",
    fields={
        "items": serializers.ListField(
            child=inline_serializer(
                "HistoryItem",
                fields={
                    "id": serializers.IntegerField(),
                    "kind": serializers.ChoiceField(
                        choices=["create", "update", "status", "delete", "other"]
                    ),
                    "action": serializers.CharField(),
                    "at": serializers.DateTimeField(),
                    "user": serializers.DictField(allow_null=True),
                    "ip": serializers.CharField(allow_null=True),
                    "changes": serializers.DictField(),
                },
            )
        )
    },
)
_KINDS = {
    "customer.create": "create",
    "customer.update": "update",
    "customer.change_status": "status",
    "customer.delete": "delete",
    "customer.rename": "update",
    "customer.review": "review",
    "customer.resubmit": "review",
}


class CustomerResubmitView(APIView):
    @extend_schema(
        operation_id="customers_resubmit",
        request=None,
        responses={200: CustomerSerializer, 404: ERROR_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["customers"],
    )
    def post(self, request: Request, pk: str) -> Response:
        """Send a rejected customer, fixed, back to review."""
        customer = selectors.customer_get(user=request.user, pk=pk)
        approvals.customer_resubmit(
            actor=request.user, customer=customer, meta=RequestMeta.from_request(request)
        )
        return Response(_record(request, selectors.customer_get(user=request.user, pk=pk)))


class CustomerHistoryView(APIView):
    @extend_schema(
        operation_id="customers_history",
        responses={200: HISTORY_SCHEMA, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["customers"],
    )
    def get(self, request: Request, pk: str) -> Response:
        customer = selectors.customer_get(user=request.user, pk=pk)
        items = []
        for entry in selectors.customer_change_history(customer=customer):
            # Personal values were masked when the entry was written.
            changes = {
                field: {"before": before, "after": after}
                for field, (before, after) in entry.changes.items()
            }
            items.append(
                {
                    "id": entry.pk,
                    "kind": _KINDS.get(entry.action, "other"),
                    "action": entry.action,
                    "at": serializers.DateTimeField().to_representation(entry.occurred_at),
                    "user": {"id": entry.actor_id, "name": entry.actor.display_name}
                    if entry.actor
                    else None,
                    "ip": entry.ip,
                    "changes": changes,
                }
            )
        return Response({"items": items})


class RevealSerializer(serializers.Serializer):
    # Not required here: the service answers 404 outside the scope before judging the field.
    field = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


REVEAL_SCHEMA = inline_serializer(
    "RevealedValue", fields={"field": serializers.CharField(), "value": serializers.CharField()}
)


class CustomerRevealView(APIView):
    @extend_schema(
        operation_id="customers_reveal",
        summary="Reveal one personal value (audited)",
        description=(
            "Answers one of mobile, phone, email, uscc, id_number in full to the record's "
            "owner or a holder of customers.view_sensitive_customer; 403 for other callers "
            "who can see the record, 404 outside the caller's scope, 422 for another field. "
            "Every call is audited as customer.reveal (the value itself is never logged)."
        ),
        request=RevealSerializer,
        responses={
            200: REVEAL_SCHEMA,
            403: ERROR_SCHEMA,
            404: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["customers"],
    )
    def post(self, request: Request, pk: str) -> Response:
        body = RevealSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        field = body.validated_data["field"]
        value = reveal.customer_reveal(
            actor=request.user,
            customer_id=pk,
            field=field,
            meta=RequestMeta.from_request(request),
        )
        response = Response({"field": field, "value": value})
        response["Cache-Control"] = "no-store"
        return response


urlpatterns = [
    path("customers", CustomerListView.as_view(), name="customers"),
    path("customers/<str:pk>", CustomerDetailView.as_view(), name="customer"),
    path("customers/<str:pk>/status", CustomerStatusView.as_view(), name="customer-status"),
    path("customers/<str:pk>/history", CustomerHistoryView.as_view(), name="customer-history"),
    path("customers/<str:pk>/reveal", CustomerRevealView.as_view(), name="customer-reveal"),
    path("customers/<str:pk>/resubmit", CustomerResubmitView.as_view(), name="customer-resubmit"),
]

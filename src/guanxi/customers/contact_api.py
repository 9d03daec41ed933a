"""Contacts API (API.md "Relationship"): thin views over customers.contacts and
customers.contact_selectors. Contacts follow their customer's data scope: outside it a
contact is 404; inside it, a write without the permission is 403."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.audit.services import RequestMeta, require_perm_audited
from guanxi.core.api_errors import error_body
from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA, ListQuerySerializer, page_schema
from guanxi.core.errors import StaleVersion
from guanxi.customers import contact_selectors, contacts, selectors
from guanxi.customers.models import Contact

ID_MAX = 2**62


class ContactSerializer(serializers.Serializer):
    """The read shape of a contact. Personal values (mobile, phone, email, wechat): in full
    for the customer's owner and sensitive-data holders, masked for everyone else."""

    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    department_name = serializers.CharField()
    mobile = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    wechat = serializers.CharField()
    birthday = serializers.DateField(allow_null=True)
    notes = serializers.CharField()
    is_primary = serializers.BooleanField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, contact: Contact) -> dict[str, Any]:
        user = self.context["request"].user
        stamp = serializers.DateTimeField().to_representation
        return {
            "id": contact.pk,
            "customer_id": contact.customer_id,
            "customer_name": contact.customer.name,
            "name": contact.name,
            "title": contact.title,
            "department_name": contact.department_name,
            **contact_selectors.contact_values(user, contact),
            "birthday": contact.birthday.isoformat() if contact.birthday else None,
            "notes": contact.notes,
            "is_primary": contact.is_primary,
            "version": contact.version,
            "created_at": stamp(contact.created_at),
            "updated_at": stamp(contact.updated_at),
        }


class ContactFieldsSerializer(serializers.Serializer):
    """Shape of the editable fields only; the rules live in customers.contacts."""

    name = serializers.CharField(max_length=200, allow_blank=True)
    title = serializers.CharField(max_length=200, allow_blank=True, required=False)
    department_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    mobile = serializers.CharField(max_length=40, allow_blank=True, required=False)
    phone = serializers.CharField(
        max_length=40, allow_blank=True, required=False, help_text="landline, 010-12345678"
    )
    email = serializers.CharField(max_length=254, allow_blank=True, required=False)
    wechat = serializers.CharField(max_length=64, allow_blank=True, required=False)
    birthday = serializers.CharField(
        max_length=10, allow_blank=True, allow_null=True, required=False, help_text="YYYY-MM-DD"
    )
    notes = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    is_primary = serializers.BooleanField(required=False)


class ContactCreateSerializer(ContactFieldsSerializer):
    customer_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)


class ContactPatchSerializer(ContactFieldsSerializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False


class ContactListQuery(ListQuerySerializer):
    customer_id = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)
    q = serializers.CharField(max_length=100, required=False, allow_blank=True)
    ordering = serializers.ChoiceField(choices=contact_selectors.ORDERINGS, required=False)


def _record(request: Request, contact: Contact) -> dict[str, Any]:
    return ContactSerializer(contact, context={"request": request}).data


def _reread(request: Request, contact: Contact) -> dict[str, Any]:
    return _record(request, contact_selectors.contact_get(user=request.user, pk=contact.pk))


def _get_for_write(request: Request, pk: str, perm: str, action: str) -> Contact:
    """404 outside the read scope, then 403 without ``perm`` (audited), before the body is
    judged; the service still checks the customer's write scope (404)."""
    contact = contact_selectors.contact_get(user=request.user, pk=pk)
    require_perm_audited(
        actor=request.user,
        perm=perm,
        action=action,
        contact=contact,
        target="contact",
        meta=RequestMeta.from_request(request),
    )
    return contact


CONTACT_PAGE = page_schema("ContactPage", ContactSerializer)


class ContactListView(APIView):
    @extend_schema(
        operation_id="contacts_list",
        parameters=[ContactListQuery],
        responses={200: CONTACT_PAGE, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["contacts"],
    )
    def get(self, request: Request) -> Response:
        query = ContactListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = contact_selectors.contact_list(
            user=request.user,
            params=params,
            cursor=params.get("cursor"),
            limit=params["limit"],
        )
        items = [_record(request, c) for c in page.items]
        return Response({"items": items, "next_cursor": page.next_cursor})

    @extend_schema(
        operation_id="contacts_create",
        request=ContactCreateSerializer,
        responses={201: ContactSerializer, 404: ERROR_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["contacts"],
    )
    def post(self, request: Request) -> Response:
        meta = RequestMeta.from_request(request)
        require_perm_audited(  # 403 before judging the body
            actor=request.user,
            perm="customers.add_contact",
            action="contact.create",
            target="contact",
            meta=meta,
        )
        body = ContactCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        customer_id = data.pop("customer_id")
        saved = contacts.contact_create(
            actor=request.user, customer_id=customer_id, data=data, meta=meta
        )
        return Response(_reread(request, saved), status=status.HTTP_201_CREATED)


class ContactDetailView(APIView):
    @extend_schema(
        operation_id="contacts_retrieve",
        responses={200: ContactSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["contacts"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(_record(request, contact_selectors.contact_get(user=request.user, pk=pk)))

    @extend_schema(
        operation_id="contacts_partial_update",
        request=ContactPatchSerializer,
        responses={
            200: ContactSerializer,
            404: ERROR_SCHEMA,
            409: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["contacts"],
    )
    def patch(self, request: Request, pk: str) -> Response:
        contact = _get_for_write(request, pk, "customers.change_contact", "contact.update")
        body = ContactPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("version")
        try:
            saved = contacts.contact_update(
                actor=request.user,
                contact=contact,
                data=data,
                version=version,
                meta=RequestMeta.from_request(request),
            )
        except StaleVersion as exc:
            current = _reread(request, exc.extra["current"])
            return Response(error_body(exc.code, exc.message, current=current), status=409)
        return Response(_reread(request, saved))

    @extend_schema(
        operation_id="contacts_destroy",
        responses={204: None, 404: ERROR_SCHEMA, 409: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["contacts"],
    )
    def delete(self, request: Request, pk: str) -> Response:
        contact = _get_for_write(request, pk, "customers.delete_contact", "contact.delete")
        contacts.contact_delete(
            actor=request.user, contact=contact, meta=RequestMeta.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerContactsView(APIView):
    @extend_schema(
        operation_id="customers_contacts",
        summary="A customer's contacts, primary first",
        responses={200: CONTACT_PAGE, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["contacts"],
    )
    def get(self, request: Request, pk: str) -> Response:
        customer = selectors.customer_get(user=request.user, pk=pk)
        rows = contact_selectors.customer_contacts(user=request.user, customer=customer)
        return Response({"items": [_record(request, c) for c in rows], "next_cursor": None})


urlpatterns = [
    path("contacts", ContactListView.as_view(), name="contacts"),
    path("contacts/<str:pk>", ContactDetailView.as_view(), name="contact"),
    path("customers/<str:pk>/contacts", CustomerContactsView.as_view(), name="customer-contacts"),
]

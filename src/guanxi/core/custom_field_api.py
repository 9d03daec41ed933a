"""Custom field definitions for API clients: which keys ``custom_fields`` holds, their types
and, for choice fields, the codes they take (writes are in 系统设置, not the API)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA
from guanxi.core.custom_field_queries import param_names
from guanxi.core.custom_fields import OBJECT_TYPES, definitions
from guanxi.core.dictionaries import dictionary_choices
from guanxi.core.models import CustomField, CustomFieldType

MSG_BAD_OBJECT = _("无效的对象类型")


class CustomFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    label_en = serializers.CharField()
    field_type = serializers.ChoiceField(choices=CustomFieldType.choices)
    required = serializers.BooleanField()
    show_in_list = serializers.BooleanField()
    filterable = serializers.BooleanField()
    searchable = serializers.BooleanField()
    help_text = serializers.CharField()
    dictionary = serializers.CharField(allow_null=True)
    choices = serializers.ListField(child=serializers.DictField(), help_text="[{code, label}]")
    filter_params = serializers.ListField(
        child=serializers.CharField(), help_text="query parameters of the list that filter on it"
    )

    def to_representation(self, field: CustomField) -> dict[str, Any]:
        code = field.dictionary.code if field.dictionary else None
        return {
            "key": field.key,
            "label": field.label,
            "label_en": field.label_en,
            "field_type": field.field_type,
            "required": field.required,
            "show_in_list": field.show_in_list,
            "filterable": field.filterable,
            "searchable": field.searchable,
            "help_text": field.help_text,
            "dictionary": code,
            "choices": [{"code": c, "label": label} for c, label in dictionary_choices(code)]
            if code
            else [],
            "filter_params": list(param_names(field)) if field.filterable else [],
        }


class CustomFieldListView(APIView):
    @extend_schema(
        operation_id="custom_fields_list",
        summary="Active custom fields of an object type",
        parameters=[
            OpenApiParameter(
                "object_type", str, enum=list(OBJECT_TYPES), default="customer", required=False
            )
        ],
        responses={
            200: inline_serializer(
                "CustomFieldList", fields={"items": CustomFieldSerializer(many=True)}
            ),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["custom-fields"],
    )
    def get(self, request: Request) -> Response:
        object_type = request.query_params.get("object_type") or "customer"
        if object_type not in OBJECT_TYPES:
            raise serializers.ValidationError({"object_type": [MSG_BAD_OBJECT]})
        fields = definitions(object_type)
        return Response({"items": CustomFieldSerializer(fields, many=True).data})


urlpatterns = [path("custom-fields", CustomFieldListView.as_view(), name="custom-fields")]

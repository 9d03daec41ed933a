"""What every app's API shares: the error bodies of API.md and the shape of a list endpoint
(its query, its page, its filter parameters), so one list reads and documents like another."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from guanxi.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

ERROR_SCHEMA = inline_serializer(
    "Error",
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
    },
)
COMMON_ERRORS = {400: ERROR_SCHEMA, 401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 429: ERROR_SCHEMA}
# The 409 body of a DuplicateRecord (customers and users alike).
DUPLICATE_SCHEMA = inline_serializer(
    "DuplicateError",
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "duplicates": serializers.ListField(child=serializers.DictField()),
        "hidden_count": serializers.IntegerField(),
        "matched_on": serializers.ListField(child=serializers.CharField()),
    },
)


def page_schema(name: str, item: type[serializers.Serializer], **extra: serializers.Field) -> Any:
    """The OpenAPI component of one keyset page of ``item`` (plus ``extra`` fields)."""
    fields = {"items": item(many=True), "next_cursor": serializers.CharField(allow_null=True)}
    return inline_serializer(name, fields={**fields, **extra})


class ListQuerySerializer(serializers.Serializer):
    """The paging query of every list; subclasses add ``ordering`` and the like."""

    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    cursor = serializers.CharField(max_length=500, required=False)


_FILTER_TYPES = (
    (django_filters.NumberFilter, OpenApiTypes.INT),
    (django_filters.DateFilter, OpenApiTypes.DATE),
)
_FILTER_BOUNDS = {"max_length": "maxLength", "min_value": "minimum", "max_value": "maximum"}


def filter_parameters(filterset: type[django_filters.FilterSet]) -> list[OpenApiParameter]:
    """The query parameters of a list, documented from the FilterSet that applies them."""
    params = []
    for name, flt in filterset.base_filters.items():
        kind = next((t for cls, t in _FILTER_TYPES if isinstance(flt, cls)), OpenApiTypes.STR)
        schema = {
            **build_basic_type(kind),
            **{key: flt.extra[arg] for arg, key in _FILTER_BOUNDS.items() if arg in flt.extra},
        }
        enum = [c[0] for c in flt.extra["choices"]] if "choices" in flt.extra else None
        params.append(OpenApiParameter(name, schema, description=str(flt.label), enum=enum))
    return params


def list_query(
    request: Request,
    serializer: type[serializers.Serializer] = ListQuerySerializer,
    filterset: django_filters.FilterSet | None = None,
) -> dict[str, Any]:
    """The validated paging query of a list; bad paging, then bad filters (judged by the
    FilterSet itself, not a copy of its rules), answer 422 with field errors."""
    query = serializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    if filterset is not None and not filterset.is_valid():
        errors = {k: [str(m) for m in v] for k, v in filterset.errors.items()}
        raise serializers.ValidationError(errors)
    return query.validated_data

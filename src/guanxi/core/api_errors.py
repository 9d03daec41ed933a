"""API error bodies: ``{"code", "message", "errors"?}`` for every failure (API.md)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from guanxi.core.errors import ERROR_CODES, DomainError
from guanxi.core.pagination import BadCursor

logger = logging.getLogger("guanxi.api")
MSG_BAD_CURSOR = "无效的分页游标"


def error_body(code: str, message: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": str(message or ERROR_CODES[code][1])}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, messages in _field_errors(value).items():
                    out[f"{key}.{sub}"] = messages
            else:
                items = value if isinstance(value, list) else [value]
                out[key] = [str(m) for m in items]
        return out
    items = detail if isinstance(detail, list) else [detail]
    return {"non_field_errors": [str(m) for m in items]}


def django_validation_response(exc: DjangoValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    else:
        errors = {"non_field_errors": [str(m) for m in exc.messages]}
    return Response(
        error_body("ERR-006", errors=errors), status=status.HTTP_422_UNPROCESSABLE_ENTITY
    )


def domain_response(exc: DomainError, *, extra: dict[str, Any] | None = None) -> Response:
    body = error_body(exc.code, exc.message)
    for key, value in exc.extra.items():
        if key != "current":
            body[key] = value
    body.update(extra or {})
    return Response(body, status=exc.status)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map every exception to the contract's status codes and bodies (never a bare 500)."""
    if isinstance(exc, DomainError):
        return domain_response(exc)
    if isinstance(exc, DjangoValidationError):
        return django_validation_response(exc)
    if isinstance(exc, BadCursor):  # a cursor we did not make, on any list
        exc = exceptions.ValidationError({"cursor": [MSG_BAD_CURSOR]})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return Response(error_body("ERR-009"), status=500)
    if isinstance(exc, exceptions.ValidationError):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        response.data = error_body("ERR-006", errors=_field_errors(exc.detail))
    elif isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
        response.data = error_body("ERR-013", exc.detail)
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = 401
        response.data = error_body("ERR-001")
    elif isinstance(exc, exceptions.PermissionDenied):
        code = getattr(exc, "guanxi_code", "ERR-002")
        response.data = error_body(code)
    elif isinstance(exc, exceptions.NotFound):
        response.data = error_body("ERR-005")
    elif isinstance(exc, exceptions.Throttled):
        response.data = error_body("ERR-008", wait_seconds=exc.wait)
    elif isinstance(exc, exceptions.MethodNotAllowed):
        response.data = error_body("ERR-014")
    else:
        response.data = error_body("ERR-013", getattr(exc, "detail", None))
    return response

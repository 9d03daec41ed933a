"""Token issue and the caller's identity (``/auth/token``, ``/me``)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from guanxi.accounts.models import User
from guanxi.accounts.status import ensure_may_sign_in
from guanxi.accounts.tokens import token_issue
from guanxi.audit.models import AuditResult
from guanxi.audit.services import RequestMeta, audit_record
from guanxi.core.api_errors import error_body
from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA
from guanxi.core.errors import DomainError


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class TokenView(APIView):
    """Exchange username and password for a bearer token (same status rules as the web)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        operation_id="auth_token",
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "Token",
                fields={
                    "token": serializers.CharField(),
                    "expires_at": serializers.DateTimeField(),
                },
            ),
            401: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        meta = RequestMeta.from_request(request)
        username = body.validated_data["username"]
        candidate = User.objects.filter(username=username).first()
        if candidate is not None:
            try:
                ensure_may_sign_in(candidate)
            except DomainError as exc:
                audit_record(
                    actor=None,
                    action="auth.token",
                    result=AuditResult.DENIED,
                    obj=candidate,
                    error_code=exc.code,
                    meta=meta,
                )
                raise
        user = authenticate(
            request._request, username=username, password=body.validated_data["password"]
        )
        if user is None:
            audit_record(
                actor=None,
                action="auth.token",
                result=AuditResult.DENIED,
                object_type="user",
                object_repr=username[:150],
                error_code="ERR-015",
                meta=meta,
            )
            return Response(error_body("ERR-015"), status=401)
        raw, token = token_issue(user=user)
        audit_record(actor=user, action="auth.token", obj=user, meta=meta)
        return Response(
            {
                "token": raw,
                "expires_at": serializers.DateTimeField().to_representation(token.expires_at),
            }
        )


class MeView(APIView):
    @extend_schema(
        operation_id="me",
        responses={
            200: inline_serializer(
                "Me",
                fields={
                    "id": serializers.IntegerField(),
                    "username": serializers.CharField(),
                    "name": serializers.CharField(),
                    "department": serializers.DictField(allow_null=True),
                    "roles": serializers.ListField(child=serializers.CharField()),
                    "permissions": serializers.ListField(child=serializers.CharField()),
                },
            ),
            **COMMON_ERRORS,
        },
        tags=["accounts"],
    )
    def get(self, request: Request) -> Response:
        user = request.user
        dept = user.department
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "name": user.display_name,
                "department": {"id": dept.pk, "name": dept.name} if dept else None,
                "roles": [r.code for r in user.roles.all()],
                "permissions": sorted(user.get_all_permissions()),
            }
        )


urlpatterns = [
    path("auth/token", TokenView.as_view(), name="auth-token"),
    path("me", MeView.as_view(), name="me"),
]

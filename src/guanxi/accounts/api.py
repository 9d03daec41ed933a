"""Token issue and the caller's identity (``/auth/token``, ``/me``)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from guanxi.accounts import signin
from guanxi.audit.services import RequestMeta
from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=8,
        required=False,
        allow_blank=True,
        help_text=(
            "6-digit code from the user's authenticator app. Required when the user has "
            "two-factor authentication enabled: missing gives 401 ERR-016, wrong 401 ERR-017 "
            "(a wrong code counts toward the lockout like a wrong password)."
        ),
    )


TOKEN_DESCRIPTION = """Exchange username and password (and `otp` when the user has enabled
two-factor authentication) for a bearer token. The same rules as the web sign-in apply: every
attempt is recorded; after `GUANXI_LOCKOUT_FAILURES` wrong passwords or codes within
`GUANXI_LOCKOUT_WINDOW_MINUTES` the account is locked.

Errors: 401 `ERR-015` wrong username or password; 401 `ERR-016` `otp` required;
401 `ERR-017` wrong `otp`; 403 `ERR-003` locked (`locked_until` in the body); 403 `ERR-004`
disabled; 403 `ERR-019` the user's role requires two-factor authentication and none is set up
(enrol on the web page 双因素认证 first); 403 `ERR-020` the password has expired or must be
changed (change it on the web first); 422 `ERR-006` invalid body; 429 `ERR-008` throttled."""


class TokenView(APIView):
    """Exchange username and password for a bearer token (same rules as the web sign-in)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        operation_id="auth_token",
        description=TOKEN_DESCRIPTION,
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
        data = body.validated_data
        raw, token = signin.token_sign_in(
            request=request._request,
            username=data["username"],
            password=data["password"],
            otp=data.get("otp") or "",
            meta=RequestMeta.from_request(request),
        )
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

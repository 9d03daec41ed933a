"""Organisation API (API.md "Organisation"): departments, users, roles.

Thin views over accounts.selectors (reads, which check the view permission) and
accounts.services (writes, which check theirs): a caller without the permission gets 403,
an unknown id 404, bad input 422 with field errors, a taken username 409.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.accounts import selectors, services
from guanxi.accounts.choices import Gender, UserStatus
from guanxi.accounts.models import Department, Role, User
from guanxi.accounts.permission_catalog import catalog, catalog_index, group_dotted
from guanxi.accounts.user_filters import ORDERINGS, UserFilter
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
from guanxi.core.pagination import paginate
from guanxi.core.scopes import SCOPE_CHOICES, SCOPED_OBJECT_TYPES

ID_MAX = 2**62
# What PATCH /users/{id} may set (deleting is DELETE /users/{id}).
WRITABLE_STATUSES = [
    (UserStatus.ACTIVE.value, UserStatus.ACTIVE.label),
    (UserStatus.LOCKED.value, UserStatus.LOCKED.label),
    (UserStatus.DISABLED.value, UserStatus.DISABLED.label),
]


def _dt(value: Any) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None


def _meta(request: Request) -> RequestMeta:
    return RequestMeta.from_request(request)


# --- departments ------------------------------------------------------------------------


class DepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)
    manager_id = serializers.IntegerField(allow_null=True)
    manager_name = serializers.CharField(allow_null=True)
    path = serializers.CharField()
    sort = serializers.IntegerField()
    member_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def to_representation(self, dept: Department) -> dict[str, Any]:
        return {
            "id": dept.pk,
            "name": dept.name,
            "parent_id": dept.parent_id,
            "manager_id": dept.manager_id,
            "manager_name": dept.manager.display_name if dept.manager else None,
            "path": dept.path,
            "sort": dept.sort,
            "member_count": getattr(dept, "member_count", 0),
            "created_at": _dt(dept.created_at),
        }


class DepartmentWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    parent_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=ID_MAX
    )
    manager_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=ID_MAX
    )
    sort = serializers.IntegerField(required=False, min_value=0, max_value=99999)


class DepartmentPatchSerializer(DepartmentWriteSerializer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class DepartmentListQuery(ListQuerySerializer):
    ordering = serializers.ChoiceField(
        choices=["id", "-id", "name", "-name", "path", "-path"], required=False
    )


def _department(request: Request, pk: Any) -> dict[str, Any]:
    return DepartmentSerializer(selectors.department_get(actor=request.user, pk=pk)).data


class DepartmentListView(APIView):
    @extend_schema(
        operation_id="departments_list",
        parameters=[DepartmentListQuery],
        responses={
            200: page_schema("DepartmentPage", DepartmentSerializer),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["organisation"],
    )
    def get(self, request: Request) -> Response:
        qs = selectors.department_queryset(actor=request.user)  # 403 before judging the query
        query = list_query(request, DepartmentListQuery)
        page = paginate(
            qs,
            ordering=query.get("ordering", "id"),
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        items = [DepartmentSerializer(d).data for d in page.items]
        return Response({"items": items, "next_cursor": page.next_cursor})

    @extend_schema(
        operation_id="departments_create",
        request=DepartmentWriteSerializer,
        responses={201: DepartmentSerializer, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["organisation"],
    )
    def post(self, request: Request) -> Response:
        require_perm_audited(  # 403 before judging the body
            actor=request.user,
            perm="accounts.add_department",
            action="department.create",
            meta=_meta(request),
        )
        body = DepartmentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dept = services.department_create(
            actor=request.user,
            name=data["name"],
            parent=data.get("parent_id"),
            manager=data.get("manager_id"),
            sort=data.get("sort", 0),
            meta=_meta(request),
        )
        return Response(_department(request, dept.pk), status=status.HTTP_201_CREATED)


class DepartmentDetailView(APIView):
    @extend_schema(
        operation_id="departments_retrieve",
        responses={200: DepartmentSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["organisation"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(_department(request, pk))

    @extend_schema(
        operation_id="departments_partial_update",
        request=DepartmentPatchSerializer,
        responses={
            200: DepartmentSerializer,
            404: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["organisation"],
    )
    def patch(self, request: Request, pk: str) -> Response:
        dept = selectors.department_get(actor=request.user, pk=pk)
        body = DepartmentPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.department_update(
            actor=request.user, department=dept, data=body.validated_data, meta=_meta(request)
        )
        return Response(_department(request, dept.pk))

    @extend_schema(
        operation_id="departments_destroy",
        responses={204: None, 404: ERROR_SCHEMA, 409: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["organisation"],
    )
    def delete(self, request: Request, pk: str) -> Response:
        dept = selectors.department_get(actor=request.user, pk=pk)
        services.department_delete(actor=request.user, department=dept, meta=_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- users ------------------------------------------------------------------------------


class UserSerializer(serializers.Serializer):
    """A user as the API shows it; mobile and e-mail masked unless the caller may see them."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    employee_no = serializers.CharField()
    department_id = serializers.IntegerField(allow_null=True)
    department = inline_serializer(
        "UserDepartment",
        fields={"id": serializers.IntegerField(), "name": serializers.CharField()},
        allow_null=True,
    )
    title = serializers.CharField()
    mobile = serializers.CharField()
    email = serializers.CharField()
    gender = serializers.ChoiceField(choices=Gender.choices)
    status = serializers.ChoiceField(choices=UserStatus.choices)
    locked_until = serializers.DateTimeField(allow_null=True)
    lock_reason = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    must_change_password = serializers.BooleanField()
    last_login = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    deleted_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, user: User) -> dict[str, Any]:
        personal = selectors.user_personal_values(self.context["request"].user, user)
        dept = user.department
        return {
            "id": user.pk,
            "username": user.username,
            "name": user.name,
            "employee_no": user.employee_no,
            "department_id": user.department_id,
            "department": {"id": dept.pk, "name": dept.name} if dept else None,
            "title": user.title,
            "mobile": personal["mobile"],
            "email": personal["email"],
            "gender": user.gender,
            "status": user.status,
            "locked_until": _dt(user.locked_until),
            "lock_reason": user.lock_reason,
            "roles": sorted(r.code for r in user.roles.all()),
            "must_change_password": user.must_change_password,
            "last_login": _dt(user.last_login),
            "created_at": _dt(user.date_joined),
            "deleted_at": _dt(user.deleted_at),
        }


def _roles_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=50, required=False
    )


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, allow_blank=True)
    password = serializers.CharField(max_length=256, trim_whitespace=False, allow_blank=True)
    name = serializers.CharField(max_length=200, allow_blank=True)
    department_id = serializers.IntegerField(min_value=1, max_value=ID_MAX, allow_null=True)
    roles = _roles_field()
    employee_no = serializers.CharField(max_length=64, allow_blank=True, required=False)
    title = serializers.CharField(max_length=200, allow_blank=True, required=False)
    mobile = serializers.CharField(max_length=40, allow_blank=True, required=False)
    email = serializers.CharField(max_length=254, allow_blank=True, required=False)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    must_change_password = serializers.BooleanField(required=False, default=False)


class UserPatchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    employee_no = serializers.CharField(max_length=64, allow_blank=True, required=False)
    department_id = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, allow_null=True, required=False
    )
    title = serializers.CharField(max_length=200, allow_blank=True, required=False)
    mobile = serializers.CharField(max_length=40, allow_blank=True, required=False)
    email = serializers.CharField(max_length=254, allow_blank=True, required=False)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    roles = _roles_field()
    status = serializers.ChoiceField(choices=WRITABLE_STATUSES, required=False)
    locked_until = serializers.DateTimeField(required=False, allow_null=True)
    lock_reason = serializers.CharField(max_length=255, allow_blank=True, required=False)


class UserListQuery(ListQuerySerializer):
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False)


def _user(request: Request, pk: Any) -> dict[str, Any]:
    user = selectors.user_get(actor=request.user, pk=pk)
    return UserSerializer(user, context={"request": request}).data


class UserListView(APIView):
    @extend_schema(
        operation_id="users_list",
        parameters=[*filter_parameters(UserFilter), UserListQuery],
        responses={
            200: page_schema("UserPage", UserSerializer),
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["organisation"],
    )
    def get(self, request: Request) -> Response:
        # 403 before judging the query
        filterset = selectors.user_filter(actor=request.user, params=request.query_params)
        query = list_query(request, UserListQuery, filterset)
        page = selectors.user_list(
            actor=request.user,
            params=request.query_params,
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        context = {"request": request}
        items = [UserSerializer(u, context=context).data for u in page.items]
        return Response({"items": items, "next_cursor": page.next_cursor})

    @extend_schema(
        operation_id="users_create",
        request=UserCreateSerializer,
        responses={201: UserSerializer, 409: DUPLICATE_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["organisation"],
    )
    def post(self, request: Request) -> Response:
        require_perm_audited(  # 403 before judging the body
            actor=request.user,
            perm="accounts.add_user",
            action="user.create",
            target="user",
            meta=_meta(request),
        )
        body = UserCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        password = data.pop("password")
        roles = data.pop("roles", [])
        must_change = data.pop("must_change_password", False)
        user = services.user_create(
            actor=request.user,
            data=data,
            password=password,
            roles=roles,
            must_change_password=must_change,
            meta=_meta(request),
        )
        return Response(_user(request, user.pk), status=status.HTTP_201_CREATED)


class UserDetailView(APIView):
    @extend_schema(
        operation_id="users_retrieve",
        responses={200: UserSerializer, 404: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["organisation"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(_user(request, pk))

    @extend_schema(
        operation_id="users_partial_update",
        request=UserPatchSerializer,
        responses={
            200: UserSerializer,
            404: ERROR_SCHEMA,
            409: DUPLICATE_SCHEMA,
            422: ERROR_SCHEMA,
            **COMMON_ERRORS,
        },
        tags=["organisation"],
        description="Status `locked` or `disabled` ends the user's sessions and revokes "
        "their API tokens. `locked_until` and `lock_reason` go with status `locked`.",
    )
    def patch(self, request: Request, pk: str) -> Response:
        user = selectors.user_get(actor=request.user, pk=pk)
        body = UserPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.user_update(
            actor=request.user, user=user, data=body.validated_data, meta=_meta(request)
        )
        return Response(_user(request, user.pk))

    @extend_schema(
        operation_id="users_destroy",
        description="Soft delete: status `deleted`; history and username are kept.",
        responses={204: None, 404: ERROR_SCHEMA, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["organisation"],
    )
    def delete(self, request: Request, pk: str) -> Response:
        user = selectors.user_get(actor=request.user, pk=pk)
        services.user_soft_delete(actor=request.user, user=user, meta=_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- roles and the permission catalog ---------------------------------------------------

SCOPE_SCHEMA = inline_serializer(
    "RoleObjectScope",
    fields={
        "object_type": serializers.CharField(),
        "read_scope": serializers.ChoiceField(choices=SCOPE_CHOICES),
        "write_scope": serializers.ChoiceField(choices=SCOPE_CHOICES),
        "custom": serializers.BooleanField(),
    },
)


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    is_system = serializers.BooleanField()
    require_2fa = serializers.BooleanField()
    user_count = serializers.IntegerField()
    permissions = serializers.ListField(child=serializers.CharField())
    permission_groups = inline_serializer(
        "RolePermissionGroups",
        fields={
            "basic": serializers.ListField(child=serializers.CharField()),
            "advanced": serializers.ListField(child=serializers.CharField()),
            "sensitive": serializers.ListField(child=serializers.CharField()),
        },
    )
    read_scope = serializers.ChoiceField(choices=SCOPE_CHOICES)
    write_scope = serializers.ChoiceField(choices=SCOPE_CHOICES)
    scopes = serializers.ListField(child=SCOPE_SCHEMA)

    def to_representation(self, role: Role) -> dict[str, Any]:
        perms = list(role.permissions.all())
        rows = {s.object_type: s for s in role.scopes.all()}
        scopes = []
        for object_type in SCOPED_OBJECT_TYPES:
            row = rows.get(object_type)
            scopes.append(
                {
                    "object_type": object_type,
                    "read_scope": row.read_scope if row else role.read_scope,
                    "write_scope": row.write_scope if row else role.write_scope,
                    "custom": row is not None,
                }
            )
        return {
            "id": role.pk,
            "code": role.code,
            "name": role.name,
            "description": role.description,
            "is_system": role.is_system,
            "require_2fa": role.require_2fa,
            "user_count": getattr(role, "user_count", 0),
            "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in perms),
            "permission_groups": group_dotted(perms, self.context["index"]),
            "read_scope": role.read_scope,
            "write_scope": role.write_scope,
            "scopes": scopes,
        }


class RoleListView(APIView):
    @extend_schema(
        operation_id="roles_list",
        responses={200: page_schema("RolePage", RoleSerializer), **COMMON_ERRORS},
        tags=["organisation"],
        description="Every role with its permission codes (grouped basic/advanced/sensitive) "
        "and its data scopes: the defaults and one entry per object type.",
    )
    def get(self, request: Request) -> Response:
        roles = list(selectors.role_queryset(actor=request.user))
        context = {"index": catalog_index()}
        return Response(
            {"items": [RoleSerializer(r, context=context).data for r in roles], "next_cursor": None}
        )


CATALOG_SCHEMA = inline_serializer(
    "PermissionCatalog",
    fields={
        "items": serializers.ListField(
            child=inline_serializer(
                "PermissionObjectType",
                fields={
                    "object_type": serializers.CharField(),
                    "label": serializers.CharField(),
                    "permissions": serializers.ListField(
                        child=inline_serializer(
                            "CatalogPermission",
                            fields={
                                "permission": serializers.CharField(),
                                "action": serializers.CharField(),
                                "group": serializers.ChoiceField(
                                    choices=["basic", "advanced", "sensitive"]
                                ),
                                "label": serializers.CharField(),
                            },
                        )
                    ),
                },
            )
        )
    },
)


class PermissionCatalogView(APIView):
    @extend_schema(
        operation_id="permissions_catalog",
        responses={200: CATALOG_SCHEMA, **COMMON_ERRORS},
        tags=["organisation"],
        parameters=[
            OpenApiParameter("group", OpenApiTypes.STR, enum=["basic", "advanced", "sensitive"])
        ],
    )
    def get(self, request: Request) -> Response:
        selectors.role_queryset(actor=request.user)  # the same permission as the roles
        wanted = request.query_params.get("group")
        items = []
        for entry in catalog():
            perms = [
                {
                    "permission": p.dotted,
                    "action": p.action,
                    "group": p.group,
                    "label": str(p.label),
                }
                for p in entry.all()
                if wanted in (None, "", p.group)
            ]
            items.append(
                {"object_type": entry.key, "label": str(entry.label), "permissions": perms}
            )
        return Response({"items": items})


urlpatterns = [
    path("departments", DepartmentListView.as_view(), name="departments"),
    path("departments/<str:pk>", DepartmentDetailView.as_view(), name="department"),
    path("users", UserListView.as_view(), name="users"),
    path("users/<str:pk>", UserDetailView.as_view(), name="user"),
    path("roles", RoleListView.as_view(), name="roles"),
    path("permissions", PermissionCatalogView.as_view(), name="permissions"),
]

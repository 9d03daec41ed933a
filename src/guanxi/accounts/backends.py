"""Permissions come from roles; status (locked/disabled/deleted) is enforced at sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class RoleBackend(ModelBackend):
    """ModelBackend whose group permissions are the user's roles' permissions."""

    def user_can_authenticate(self, user: Any) -> bool:
        # Locked/disabled users are refused with their own error code by the login service.
        return super().user_can_authenticate(user)

    def _get_group_permissions(self, user_obj: Any) -> Any:
        from django.contrib.auth.models import Permission

        return Permission.objects.filter(role__users=user_obj)

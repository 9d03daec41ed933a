"""Writes to the organisation (departments now; users and roles grow with the accounts work)."""

from __future__ import annotations

from django.db import transaction

from guanxi.accounts.models import Department


def department_create(*, name: str, parent: Department | None = None, sort: int = 0) -> Department:
    """Create a department and set its materialised path ("/1/4/") for subtree queries."""
    with transaction.atomic():
        dept = Department.objects.create(name=name, parent=parent, sort=sort)
        dept.path = f"{parent.path if parent else '/'}{dept.pk}/"
        dept.save(update_fields=["path"])
    return dept

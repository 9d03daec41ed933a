"""Names of the people and departments rows point at, looked up once per export chunk.

Owners and departments are few next to the rows that name them: a chunk of 2,000 customers
asks for the handful of ids it has not seen yet, instead of joining or prefetching per row.
"""

from __future__ import annotations

from collections.abc import Iterable


class NameCache:
    """``id -> name`` for users (their display name) and departments, filled on demand."""

    def __init__(self) -> None:
        self._users: dict[int, str] = {}
        self._departments: dict[int, str] = {}

    def users(self, ids: Iterable[int | None]) -> dict[int, str]:
        from guanxi.accounts.models import User

        missing = {i for i in ids if i is not None and i not in self._users}
        if missing:
            for pk, name, username in User.objects.filter(pk__in=missing).values_list(
                "pk", "name", "username"
            ):
                self._users[pk] = name or username
        return self._users

    def departments(self, ids: Iterable[int | None]) -> dict[int, str]:
        from guanxi.accounts.models import Department

        missing = {i for i in ids if i is not None and i not in self._departments}
        if missing:
            self._departments.update(
                Department.objects.filter(pk__in=missing).values_list("pk", "name")
            )
        return self._departments

"""Collecting validation messages per field, so a form, an API body or an import row shows
every bad field at once instead of only the first one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

T = TypeVar("T")


class FieldErrors:
    """{field: [messages]} gathered while cleaning, raised together as one ValidationError."""

    def __init__(self) -> None:
        self.errors: dict[str, list[Any]] = {}

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __contains__(self, field: object) -> bool:
        return field in self.errors

    def add(self, field: str, *messages: Any) -> None:
        self.errors.setdefault(field, []).extend(messages)

    @contextmanager
    def collect(self, field: str | None = None) -> Iterator[None]:
        """Record a ValidationError raised inside instead of letting it through: under
        ``field`` when given, else under the fields it names itself."""
        try:
            yield
        except ValidationError as exc:
            if field is None and hasattr(exc, "error_dict"):
                for name, messages in exc.message_dict.items():
                    self.add(name, *messages)
            else:
                self.add(field or NON_FIELD_ERRORS, *exc.messages)

    def check(self, call: Callable[..., T], *args: Any) -> T | None:
        """``call(*args)``; None, with its messages recorded, when it raises ValidationError."""
        with self.collect():
            return call(*args)
        return None

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)

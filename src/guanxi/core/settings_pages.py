"""What the 系统设置 editing pages share: running a service call with a form's input (its
errors put back on the form), and the one-click activate/deactivate of a list row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError


def save_with_form(request: HttpRequest, form: forms.Form, call: Callable[..., Any]) -> Any:
    """``call(data=..., meta=...)`` with the form's cleaned data; on a refusal its messages
    go under the fields they name (or to the top) and None comes back."""
    try:
        return call(data=form.cleaned_data, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        for field, field_messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    except DomainError as exc:
        form.add_error(None, f"{exc.message}（{exc.code}）")
    return None


def toggle_active(
    request: HttpRequest,
    update: Callable[..., Any],
    active: bool,
    *,
    on_message: Any,
    off_message: Any,
) -> Any:
    """Flip ``is_active`` through ``update(data=..., meta=...)`` and say what happened;
    returns the updated object, or None when the service refused (the refusal is shown)."""
    try:
        obj = update(data={"is_active": not active}, meta=RequestMeta.from_request(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except DomainError as exc:
        messages.error(request, f"{exc.message}（{exc.code}）")
    else:
        message = on_message if obj.is_active else off_message
        messages.success(request, message % {"label": obj.label})
        return obj
    return None

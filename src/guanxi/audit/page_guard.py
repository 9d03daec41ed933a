"""Pages refuse the way services do: a page the user could never submit is a 403, and a
refused submission (POST) is audited exactly like the service's own refusal would be."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import HttpRequest

from guanxi.audit.services import RequestMeta, require_perm_audited
from guanxi.core.errors import PermissionDenied


def require_page_perm(request: HttpRequest, perm: str, action: str, **context: Any) -> None:
    """403 without ``perm``; ``context`` names the object as the service's keyword arguments
    do (``customer=...`` or ``target="customer"``; see ``audited_refusals``)."""
    if request.user.has_perm(perm):
        return
    if request.method == "POST":
        try:
            require_perm_audited(
                actor=request.user,
                perm=perm,
                action=action,
                meta=RequestMeta.from_request(request),
                **context,
            )
        except PermissionDenied as exc:
            raise HttpForbidden() from exc
    raise HttpForbidden()

"""The "显示" service: one personal value of one customer, shown in full on request.

Where pages and API answers mask personal values (see ``selectors.shows_sensitive``), a
permitted user reveals one value at a time, and every reveal — granted or refused — is in
the audit log without the value itself.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.audit.models import AuditResult
from guanxi.audit.services import RequestMeta, audit_record
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.customers import selectors
from guanxi.customers.models import Customer
from guanxi.customers.validation import SENSITIVE_FIELDS

MSG_REVEAL_FIELD = _("不支持显示该字段")
MSG_REVEAL_DENIED = _("您无权查看该客户的完整敏感信息")
REVEAL_ACTION = "customer.reveal"


def customer_reveal(
    *, actor: Any, customer_id: Any, field: str, meta: RequestMeta | None = None
) -> str:
    """One personal value of one customer in full, for its owner or a holder of the
    sensitive-data permission, with the record in their read scope.

    Every call is audited (``customer.reveal`` with the field name, never the value);
    refusals too, including ids outside the scope (404), so probing leaves a trace.
    """

    def refused(code: str, obj: Customer | None = None) -> None:
        audit_record(
            actor=actor,
            action=REVEAL_ACTION,
            result=AuditResult.FAILED if code == "ERR-006" else AuditResult.DENIED,
            obj=obj,
            object_type="customer",
            object_id=obj.pk if obj is not None else str(customer_id)[:64],
            params={"field": str(field)[:32]},
            error_code=code,
            meta=meta,
        )

    try:
        customer = selectors.customer_get(user=actor, pk=customer_id)
    except NotFound:
        refused(NotFound.code)
        raise
    if field not in SENSITIVE_FIELDS:
        refused("ERR-006", customer)
        raise ValidationError({"field": [MSG_REVEAL_FIELD]})
    if not selectors.can_view_sensitive(actor, customer):
        refused(PermissionDenied.code, customer)
        raise PermissionDenied(MSG_REVEAL_DENIED)
    audit_record(
        actor=actor, action=REVEAL_ACTION, obj=customer, params={"field": field}, meta=meta
    )
    return getattr(customer, field) or ""

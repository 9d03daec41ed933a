"""Reads for 流失预警: pending proposals within the reader's write scope (only someone who
may change a customer can act on its proposal)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.customers.choices import CustomerStatus
from guanxi.customers.churn import CHANGE_PERMISSION
from guanxi.customers.models import ChurnProposal, ChurnProposalStatus, Customer


def churn_pending(*, user: Any, customer_id: int | None = None) -> QuerySet:
    """Pending proposals of live cooperating customers the user may change (of one customer
    when ``customer_id`` is given), oldest end first."""
    if not user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied()
    writable = Customer.objects.alive().restrict(user, "change")
    return (
        ChurnProposal.objects.filter(
            status=ChurnProposalStatus.PENDING,
            customer__in=writable.values("pk"),
            customer__status=CustomerStatus.COOPERATING,
        )
        .filter(**({"customer_id": customer_id} if customer_id is not None else {}))
        .select_related("customer", "customer__owner")
        .order_by("last_business_on", "pk")
    )


def churn_get(*, user: Any, pk: int) -> ChurnProposal:
    try:
        return churn_pending(user=user).get(pk=pk)
    except ChurnProposal.DoesNotExist as exc:
        raise NotFound() from exc


def churn_pending_for(*, user: Any, customer: Customer) -> ChurnProposal | None:
    """The customer's pending proposal if the user may act on it (detail page banner)."""
    if customer.status != CustomerStatus.COOPERATING or not user.has_perm(CHANGE_PERMISSION):
        return None
    return churn_pending(user=user, customer_id=customer.pk).first()

"""流失预警: the daily job that proposes cooperating customers as 流失, and the decisions on
its proposals.

A customer is proposed when its status is 合作客户, some contract or order of it has ended
(the sources registered in ``customers.business_hooks``), the last of them ended more than
``churn_after_days`` ago, and nothing is running (no active contract, no open order). The
job never changes a status itself: a person who may change the customer confirms (the
status becomes 流失 through ``customer_change_status``, so the status history and the audit
log show who and why) or dismisses it. A dismissed proposal is not made again until some
later business has ended.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import DateField, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import DomainError, NotFound
from guanxi.core.permissions import require_perm
from guanxi.customers.business_hooks import business_sources, latest_date
from guanxi.customers.choices import CustomerStatus
from guanxi.customers.models import ChurnProposal, ChurnProposalStatus, Customer
from guanxi.ops.parameters import system_parameter

PROPOSE_ACTION = "churn.propose"
ACCEPT_ACTION = "churn.accept"
DISMISS_ACTION = "churn.dismiss"
CHANGE_PERMISSION = "customers.change_customer"
REASON_MAX_LENGTH = 255

MSG_DECIDED = _("该流失预警已处理")
MSG_NOT_COOPERATING = _("客户已不是“合作客户”，预警已撤回")
ACCEPT_REASON = "流失预警：最后合同/订单于 %(day)s 结束，之后无新业务"

register_actions(
    {
        PROPOSE_ACTION: _("生成流失预警"),
        ACCEPT_ACTION: _("确认客户流失"),
        DISMISS_ACTION: _("忽略流失预警"),
    }
)


def churn_after_days() -> int:
    return int(system_parameter("churn_after_days"))


def _last_business_end(today: dt.date) -> tuple[Any, Q] | None:
    """The latest end date over every registered source, and a Q for "something runs"."""
    sources = business_sources(today)
    if not sources:
        return None
    last_end = latest_date(*(s.last_end for s in sources))
    running = Q()
    for source in sources:
        running |= source.running
    return last_end, running


def churn_due(today: dt.date | None = None) -> QuerySet:
    """Cooperating live customers past the rule, annotated with ``last_business_on``, that
    have no pending proposal and none dismissed for the same (or a later) end date."""
    today = today or timezone.localdate()
    days = churn_after_days()
    business = _last_business_end(today)
    if days == 0 or business is None:  # the rule is off, or nothing is sold yet
        return Customer.objects.none().annotate(last_business_on=Value(None, DateField()))
    last_end, running = business
    decided = ChurnProposal.objects.filter(customer=OuterRef("pk")).filter(
        Q(status=ChurnProposalStatus.PENDING)
        | Q(
            status=ChurnProposalStatus.DISMISSED,
            last_business_on__gte=OuterRef("last_business_on"),
        )
    )
    return (
        Customer.objects.alive()
        .filter(status=CustomerStatus.COOPERATING)
        .annotate(last_business_on=last_end)
        .filter(last_business_on__lt=today - dt.timedelta(days=days))
        .exclude(running)
        .filter(~Exists(decided))
    )


def _withdraw_stale(now: dt.datetime) -> int:
    """Pending proposals whose customer is gone or no longer cooperating are withdrawn."""
    return (
        ChurnProposal.objects.filter(status=ChurnProposalStatus.PENDING)
        .filter(
            Q(customer__deleted_at__isnull=False) | ~Q(customer__status=CustomerStatus.COOPERATING)
        )
        .update(status=ChurnProposalStatus.WITHDRAWN, decided_at=now)
    )


def propose_churn(today: dt.date | None = None) -> int:
    """The daily job: one pending proposal per customer due, each owner told how many of
    theirs were proposed. Returns how many proposals were made."""
    from django.urls import reverse

    from guanxi.workflow.notifications import notify

    now = timezone.now()
    with transaction.atomic():
        withdrawn = _withdraw_stale(now)
        rows = list(churn_due(today).values_list("pk", "owner_id", "last_business_on"))
        ChurnProposal.objects.bulk_create(
            [
                ChurnProposal(customer_id=pk, last_business_on=day, proposed_at=now)
                for pk, _owner, day in rows
            ]
        )
        if not rows and not withdrawn:
            return 0
        audit_record(
            actor=None,
            action=PROPOSE_ACTION,
            object_type="churnproposal",
            params={"proposed": len(rows), "withdrawn": withdrawn, "days": churn_after_days()},
        )
        per_owner: dict[int, int] = defaultdict(int)
        for _pk, owner_id, _day in rows:
            per_owner[owner_id] += 1
        from guanxi.accounts.models import User

        owners = {u.pk: u for u in User.objects.filter(pk__in=per_owner, is_active=True)}
        url = reverse("customers:churn_list")
        for owner_id, count in per_owner.items():
            if owner_id in owners:
                notify(
                    [owners[owner_id]],
                    kind="churn",
                    title=f"流失预警：{count} 个合作客户长期无新合同或订单",
                    body="请确认这些客户是否已流失，或忽略预警。",
                    url=url,
                )
    return len(rows)


def _locked_pending(actor: Any, proposal: ChurnProposal) -> ChurnProposal:
    """The proposal under a row lock, its customer within ``actor``'s write scope."""
    writable = Customer.objects.alive().restrict(actor, "change")
    try:
        locked = (
            ChurnProposal.objects.select_for_update()
            .filter(customer__in=writable.values("pk"))
            .get(pk=proposal.pk)
        )
    except ChurnProposal.DoesNotExist as exc:
        raise NotFound() from exc
    if locked.status != ChurnProposalStatus.PENDING:
        raise DomainError(MSG_DECIDED, code="ERR-023")
    return locked


def _close(locked: ChurnProposal, actor: Any, status: str, reason: str) -> None:
    locked.status = status
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.reason = reason[:REASON_MAX_LENGTH]
    locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])


@audited_refusals(ACCEPT_ACTION, target="proposal")
def churn_accept(
    *, actor: Any, proposal: ChurnProposal, meta: RequestMeta | None = None
) -> ChurnProposal:
    """Confirm: the customer becomes 流失 (status history and audit through the status
    service). A customer that stopped cooperating meanwhile withdraws the proposal."""
    from guanxi.customers.services import customer_change_status

    require_perm(actor, CHANGE_PERMISSION)
    with transaction.atomic():
        locked = _locked_pending(actor, proposal)
        customer = locked.customer
        if customer.status != CustomerStatus.COOPERATING:
            _close(locked, actor, ChurnProposalStatus.WITHDRAWN, "")
            return locked
        reason = ACCEPT_REASON % {"day": locked.last_business_on.isoformat()}
        customer_change_status(
            actor=actor, customer=customer, status=CustomerStatus.LOST, reason=reason, meta=meta
        )
        _close(locked, actor, ChurnProposalStatus.ACCEPTED, reason)
        audit_record(
            actor=actor,
            action=ACCEPT_ACTION,
            obj=customer,
            params={"proposal": locked.pk, "last_business_on": locked.last_business_on},
            meta=meta,
        )
    return locked


@audited_refusals(DISMISS_ACTION, target="proposal")
def churn_dismiss(
    *,
    actor: Any,
    proposal: ChurnProposal,
    reason: str = "",
    meta: RequestMeta | None = None,
) -> ChurnProposal:
    """Keep the customer as it is; the same end date is not proposed again."""
    require_perm(actor, CHANGE_PERMISSION)
    with transaction.atomic():
        locked = _locked_pending(actor, proposal)
        _close(locked, actor, ChurnProposalStatus.DISMISSED, reason.strip())
        audit_record(
            actor=actor,
            action=DISMISS_ACTION,
            obj=locked.customer,
            params={
                "proposal": locked.pk,
                "last_business_on": locked.last_business_on,
                "reason": locked.reason,
            },
            meta=meta,
        )
    return locked

"""Writes on contracts and orders. Each checks the permission, that the customer is live and
within the actor's write scope, validates amounts and dates, and is audited. Contracts and
orders belong to the customer's owner and department, so they follow the customer's scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import DomainError, NotFound
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get
from guanxi.sales.choices import ContractStatus, OrderStatus
from guanxi.sales.codes import next_code
from guanxi.sales.models import Contract, Order

MAX_AMOUNT = Decimal("999999999999.99")
MSG_AMOUNT = _("请输入大于 0 的金额（最多两位小数）")
MSG_PAID = _("回款金额须大于 0，且累计不超过订单金额")
MSG_DATES = _("结束日期不能早于开始日期")
MSG_TITLE = _("请填写名称")
MSG_NOT_OPEN = _("只有进行中的订单可以%(action)s")
MSG_NOT_ACTIVE = _("只有执行中的合同可以结束")

register_actions(
    {
        "contract.create": _("新建合同"),
        "contract.end": _("结束合同"),
        "order.create": _("新建订单"),
        "order.payment": _("登记回款"),
        "order.complete": _("完成订单"),
        "order.cancel": _("取消订单"),
    }
)


def _amount(raw: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: [MSG_AMOUNT]}) from exc
    if value < 0 or (value == 0 and not allow_zero) or value > MAX_AMOUNT:
        raise ValidationError({field: [MSG_AMOUNT]})
    return value


def _create(model: type, kind: str, actor: Any, customer: Customer, meta: Any, **fields: Any):
    """A new contract or order of a live customer in the actor's write scope, owned like the
    customer (so it follows the customer's data scope), numbered and audited."""
    owner = customer_get(user=actor, pk=customer.pk, action="change")
    contract = fields.get("contract")
    if contract is not None and contract.customer_id != owner.pk:
        raise ValidationError({"contract": [_("合同不属于该客户")]})
    record = model.objects.create(
        code=next_code(kind),
        customer=owner,
        title=_title(fields.pop("title")),
        amount=_amount(fields.pop("amount"), "amount"),
        owner_id=owner.owner_id,
        department_id=owner.department_id,
        created_by=actor,
        updated_by=actor,
        **fields,
    )
    audit_record(
        actor=actor,
        action=f"{kind}.create",
        obj=record,
        params={"customer": owner.code, "amount": str(record.amount)},
        meta=meta,
    )
    return record


def _title(raw: str) -> str:
    title = (raw or "").strip()[:200]
    if not title:
        raise ValidationError({"title": [MSG_TITLE]})
    return title


@audited_refusals("contract.create")
def contract_create(
    *,
    actor: Any,
    customer: Customer,
    title: str,
    amount: Any,
    signed_on: dt.date,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    meta: RequestMeta | None = None,
) -> Contract:
    """A signed, active contract of the customer, owned like the customer."""
    require_perm(actor, "sales.add_contract")
    starts_on = starts_on or signed_on
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": [MSG_DATES]})
    with transaction.atomic():
        return _create(
            Contract,
            "contract",
            actor,
            customer,
            meta,
            title=title,
            amount=amount,
            signed_on=signed_on,
            starts_on=starts_on,
            ends_on=ends_on,
            status=ContractStatus.ACTIVE,
        )


def _locked(model: type, actor: Any, obj: Any) -> Any:
    try:
        return model.objects.select_for_update().alive().restrict(actor, "change").get(pk=obj.pk)
    except model.DoesNotExist as exc:
        raise NotFound() from exc


def _touch(obj: Any, actor: Any, fields: list[str]) -> None:
    obj.version += 1
    obj.updated_by = actor
    obj.updated_at = timezone.now()
    obj.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


@audited_refusals("contract.end", target="contract")
def contract_end(
    *, actor: Any, contract: Contract, ended_on: dt.date, meta: RequestMeta | None = None
) -> Contract:
    """End an active contract on ``ended_on`` (early ends are terminations)."""
    require_perm(actor, "sales.change_contract")
    with transaction.atomic():
        current = _locked(Contract, actor, contract)
        if current.status != ContractStatus.ACTIVE:
            raise DomainError(MSG_NOT_ACTIVE, code="ERR-026")
        if ended_on < current.starts_on:
            raise ValidationError({"ended_on": [MSG_DATES]})
        early = current.ends_on is not None and ended_on < current.ends_on
        old = (current.status, current.ends_on)
        current.status = ContractStatus.TERMINATED if early else ContractStatus.ENDED
        current.ends_on = ended_on
        _touch(current, actor, ["status", "ends_on"])
        audit_record(
            actor=actor,
            action="contract.end",
            obj=current,
            changes={"status": [old[0], current.status], "ends_on": [old[1], ended_on]},
            meta=meta,
        )
    return current


@audited_refusals("order.create")
def order_create(
    *,
    actor: Any,
    customer: Customer,
    title: str,
    amount: Any,
    ordered_on: dt.date,
    contract: Contract | None = None,
    meta: RequestMeta | None = None,
) -> Order:
    """An open order of the customer (optionally under one of its contracts)."""
    require_perm(actor, "sales.add_order")
    with transaction.atomic():
        return _create(
            Order,
            "order",
            actor,
            customer,
            meta,
            title=title,
            amount=amount,
            contract=contract,
            ordered_on=ordered_on,
            status=OrderStatus.OPEN,
        )


@audited_refusals("order.payment", target="order")
def order_record_payment(
    *, actor: Any, order: Order, amount: Any, meta: RequestMeta | None = None
) -> Order:
    """Add a received payment; the total paid never exceeds the order amount."""
    require_perm(actor, "sales.change_order")
    with transaction.atomic():
        current = _locked(Order, actor, order)
        if current.status == OrderStatus.CANCELLED:
            raise DomainError(MSG_NOT_OPEN % {"action": _("登记回款")}, code="ERR-026")
        paid = _amount(amount, "amount")
        if current.paid_amount + paid > current.amount:
            raise ValidationError({"amount": [MSG_PAID]})
        old = current.paid_amount
        current.paid_amount = old + paid
        _touch(current, actor, ["paid_amount"])
        audit_record(
            actor=actor,
            action="order.payment",
            obj=current,
            changes={"paid_amount": [str(old), str(current.paid_amount)]},
            meta=meta,
        )
    return current


def _finish(
    actor: Any, order: Order, status: str, day: dt.date | None, action: str, meta: Any
) -> Order:
    require_perm(actor, "sales.change_order")
    with transaction.atomic():
        current = _locked(Order, actor, order)
        if current.status != OrderStatus.OPEN:
            label = _("完成") if status == OrderStatus.COMPLETED else _("取消")
            raise DomainError(MSG_NOT_OPEN % {"action": label}, code="ERR-026")
        current.status = status
        current.completed_on = day
        _touch(current, actor, ["status", "completed_on"])
        audit_record(
            actor=actor,
            action=action,
            obj=current,
            changes={"status": [OrderStatus.OPEN, status]},
            meta=meta,
        )
    return current


@audited_refusals("order.complete", target="order")
def order_complete(
    *, actor: Any, order: Order, completed_on: dt.date, meta: RequestMeta | None = None
) -> Order:
    """Delivered: the order no longer runs; its completion date counts for 流失预警."""
    return _finish(actor, order, OrderStatus.COMPLETED, completed_on, "order.complete", meta)


@audited_refusals("order.cancel", target="order")
def order_cancel(*, actor: Any, order: Order, meta: RequestMeta | None = None) -> Order:
    return _finish(actor, order, OrderStatus.CANCELLED, None, "order.cancel", meta)

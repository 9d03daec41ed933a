"""Contracts and orders: what a customer has bought and until when. Both belong to a
customer, an owner and a department (data scope), and carry the who/when/version of
``BusinessModel``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import BusinessModel
from guanxi.sales.choices import ContractStatus, OrderStatus


class SalesRecord(BusinessModel):
    """Owner and department, copied from the customer when created, decide the data scope."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("负责人")
    )
    department = models.ForeignKey(
        "accounts.Department",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("部门"),
    )

    class Meta:
        abstract = True


class Contract(SalesRecord):
    """A signed agreement; it runs from ``starts_on`` to ``ends_on`` (open-ended when blank)."""

    code = models.CharField(_("合同编号"), max_length=32, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", models.PROTECT, related_name="contracts", verbose_name=_("客户")
    )
    title = models.CharField(_("合同名称"), max_length=200)
    amount = models.DecimalField(_("合同金额"), max_digits=14, decimal_places=2)
    signed_on = models.DateField(_("签订日期"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )

    class Meta:
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        ordering = ["-signed_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "ends_on"], name="contract_customer_end_idx"),
            models.Index(fields=["owner", "id"], name="contract_owner_idx"),
            models.Index(fields=["department", "id"], name="contract_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Order(SalesRecord):
    """One sale; open until completed or cancelled, unpaid while ``paid_amount < amount``."""

    code = models.CharField(_("订单编号"), max_length=32, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", models.PROTECT, related_name="orders", verbose_name=_("客户")
    )
    contract = models.ForeignKey(
        Contract,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("所属合同"),
    )
    title = models.CharField(_("订单摘要"), max_length=200)
    amount = models.DecimalField(_("订单金额"), max_digits=14, decimal_places=2)
    paid_amount = models.DecimalField(
        _("已回款"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    ordered_on = models.DateField(_("下单日期"))
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-ordered_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "status"], name="order_customer_status_idx"),
            models.Index(fields=["customer", "completed_on"], name="order_customer_done_idx"),
            models.Index(fields=["owner", "id"], name="order_owner_idx"),
            models.Index(fields=["department", "id"], name="order_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def unpaid_amount(self) -> Decimal:
        return max(self.amount - self.paid_amount, Decimal("0"))

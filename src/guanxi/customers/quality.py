"""Data quality: the monthly check that has data admins verify a random sample of customers
against reality, and the quality page's numbers (completeness from customers.quality_score,
missing fields, duplicates, what is still unverified)."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import NotFound
from guanxi.core.permissions import require_perm
from guanxi.core.validators import fold_text
from guanxi.customers.choices import CustomerType
from guanxi.customers.models import Customer, QualityCheck, QualityItem, QualityStatus

VERIFY_PERM = "customers.verify_customer"
# (label, condition on a customer row that the field is missing) for the quality page.
MISSING: dict[str, tuple[Any, Q]] = {
    "contact_name": (_("联系人"), Q(contact_name="")),
    "phone": (_("电话（手机或座机）"), Q(mobile_bidx="", phone_bidx="")),
    "email": (_("邮箱"), Q(email_bidx="")),
    "identity": (
        _("证件号码"),
        Q(customer_type=CustomerType.ENTERPRISE, uscc_bidx="")
        | Q(customer_type=CustomerType.INDIVIDUAL, id_number_bidx=""),
    ),
    "region": (_("省市区"), Q(province="") | Q(city="") | Q(district="")),
    "address": (_("详细地址"), Q(address="")),
    "industry": (_("所属行业"), Q(industry="")),
    "category": (_("客户分类"), Q(category="")),
    "source": (_("客户来源"), Q(source="")),
}
BANDS = (
    (0, 59, _("较差（<60）")),
    (60, 79, _("一般（60–79）")),
    (80, 99, _("良好（80–99）")),
    (100, 100, _("完整（100）")),
)
MSG_RATE = _("抽样比例须在 0 到 1 之间")
MSG_NOTE_REQUIRED = _("请说明更正了哪些信息")

register_actions(
    {
        "quality.sample": _("数据质量抽样"),
        "quality.verify": _("数据质量核查"),
    }
)


def sample_rate() -> float:
    return float(getattr(settings, "GUANXI_QUALITY_SAMPLE_RATE", 0.1))


def sample(rate: float | None = None) -> QualityCheck | None:
    """The monthly job: draw ``rate`` of the live customers at random into a new check for
    the data admins (who are notified). None when there is nothing to sample."""
    from django.urls import reverse

    from guanxi.workflow.notifications import holders, notify

    rate = sample_rate() if rate is None else rate
    if not 0 < rate <= 1:
        raise ValidationError({"rate": [MSG_RATE]})
    live = Customer.objects.alive()
    population = live.count()
    size = math.ceil(population * rate)
    if size == 0:
        return None
    with transaction.atomic():
        check = QualityCheck.objects.create(sample_rate=rate, population=population)
        ids = list(live.order_by("?").values_list("pk", flat=True)[:size])
        QualityItem.objects.bulk_create(
            [QualityItem(check_round=check, customer_id=pk) for pk in ids], batch_size=2000
        )
        audit_record(
            actor=None,
            action="quality.sample",
            obj=check,
            params={"rate": rate, "population": population, "sampled": len(ids)},
        )
        notify(
            holders(VERIFY_PERM),
            kind="quality",
            title=f"数据质量抽查：{len(ids)} 个客户待核实",
            body="请逐个核实客户信息是否与实际一致，核实无误或更正后标记结果。",
            url=reverse("customers:quality_check", args=[check.pk]),
        )
    return check


@audited_refusals("quality.verify")
def mark_item(
    *,
    actor: Any,
    item: QualityItem,
    status: str,
    note: str = "",
    meta: RequestMeta | None = None,
) -> QualityItem:
    """Record what checking one sampled customer found: verified, or corrected (with what)."""
    require_perm(actor, VERIFY_PERM)
    note = fold_text(note or "")[:255]
    if status not in (QualityStatus.VERIFIED, QualityStatus.CORRECTED):
        raise ValidationError({"status": [_("无效的核查结果")]})
    if status == QualityStatus.CORRECTED and not note:
        raise ValidationError({"note": [MSG_NOTE_REQUIRED]})
    with transaction.atomic():
        try:
            row = QualityItem.objects.select_for_update().get(pk=item.pk)
        except QualityItem.DoesNotExist as exc:
            raise NotFound() from exc
        before = row.status
        row.status, row.note = status, note
        row.checked_by, row.checked_at = actor, timezone.now()
        row.save(update_fields=["status", "note", "checked_by", "checked_at"])
        audit_record(
            actor=actor,
            action="quality.verify",
            object_type="customer",
            object_id=str(row.customer_id),
            changes={"quality_status": [before, status]},
            params={"check_id": row.check_round_id, "note": note},
            meta=meta,
        )
    return row


def overview(user: Any) -> dict[str, Any]:
    """The quality page's numbers over the customers ``user`` can see: average and bands of
    completeness, missing fields, duplicate groups, and what the open checks still hold."""
    from guanxi.customers.merge_selectors import REPORT_KEYS

    require_perm(user, VERIFY_PERM)
    live = Customer.objects.alive().restrict(user, "view")
    totals = live.aggregate(
        count=Count("id"),
        **{
            f"band_{low}": Count("id", filter=Q(completeness__gte=low, completeness__lte=high))
            for low, high, _label in BANDS
        },
        **{f"missing_{key}": Count("id", filter=cond) for key, (_label, cond) in MISSING.items()},
    )
    average = live.aggregate(avg=Avg("completeness"))["avg"] or 0
    duplicates = {
        label: live.exclude(**{key: ""}).values(key).annotate(n=Count("id")).filter(n__gt=1).count()
        for key, label in REPORT_KEYS.items()
    }
    return {
        "count": totals["count"],
        "average": round(average, 1),
        "bands": [(str(label), totals[f"band_{low}"]) for low, _high, label in BANDS],
        "missing": [(str(label), totals[f"missing_{key}"]) for key, (label, _c) in MISSING.items()],
        "duplicates": {str(label): n for label, n in duplicates.items()},
        "unverified": unverified(),
        "computed_at": timezone.now(),
    }


def unverified() -> int:
    return QualityItem.objects.filter(status=QualityStatus.PENDING).count()


def cached_overview(user: Any, *, refresh: bool = False) -> dict[str, Any]:
    """:func:`overview`, kept ``GUANXI_QUALITY_OVERVIEW_SECONDS`` per scope and language:
    at a million customers the duplicate and completeness aggregates take seconds, and the
    numbers move slowly. ``refresh`` recomputes; the unverified count is always current."""
    from django.core.cache import cache
    from django.utils.translation import get_language

    from guanxi.core.scopes import ALL, effective_scope

    require_perm(user, VERIFY_PERM)
    scope = effective_scope(user, "view", Customer.scope_object_type)
    key = f"guanxi:quality-overview:{'all' if scope == ALL else user.pk}:{get_language()}"
    numbers = None if refresh else cache.get(key)
    if numbers is None:
        numbers = overview(user)
        seconds = int(getattr(settings, "GUANXI_QUALITY_OVERVIEW_SECONDS", 600))
        cache.set(key, numbers, seconds)
    return {**numbers, "unverified": unverified()}


def check_counts(check_ids: list[int]) -> dict[int, dict[str, int]]:
    """check id → {status: items} for the checks given (one query)."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        QualityItem.objects.filter(check_round_id__in=check_ids)
        .values("check_round_id", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts.setdefault(row["check_round_id"], {})[row["status"]] = row["n"]
    return counts

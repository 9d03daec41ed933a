"""Rule-based tags (标签规则): compile a rule's conditions to ONE queryset filter, then add and
remove the rule's CustomerTag rows with set-based SQL, so a rule over a million customers is
a few statements, never a Python loop per customer.

A rule's ``conditions`` is a list of ``{"field", "op", "value"}``, all of which must hold.
Fields are customer columns and aggregates from ``RULE_FIELDS``, a registry other modules
extend (``register_field``): the sales module will replace ``total_order_amount``, which
is 0 for everyone until orders exist.

Rows a rule sets carry ``rule``; manual rows (``rule`` empty) are never touched here, and a
customer who already holds the tag manually gets no second row.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, models, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.dictionaries import dictionary_choices, resolve_dictionary_value
from guanxi.core.field_errors import FieldErrors
from guanxi.customers.choices import CustomerStatus, CustomerType
from guanxi.customers.models import Customer, CustomerTag, FollowUp, Interaction, TagRule

logger = logging.getLogger(__name__)

MSG_NO_CONDITIONS = _("请至少添加一个条件")
MSG_TOO_MANY = _("条件不能超过%(max)s个")
MSG_BAD_SHAPE = _("每个条件须包含字段（field）、运算（op）和值（value）")
MSG_UNKNOWN_FIELD = _("未知的字段“%(field)s”")
MSG_UNKNOWN_OP = _("字段“%(field)s”不支持运算“%(op)s”")
MSG_NEED_NUMBER = _("请输入数字")
MSG_NEED_TEXT = _("请输入文本")
MSG_NEED_LIST = _("请输入一个或多个值")
MSG_BAD_CHOICE = _("“%(value)s”不是有效的选项")
MAX_CONDITIONS = 20
MAX_NUMBER = Decimal("1e15")

OPS = {
    "eq": _("等于"),
    "ne": _("不等于"),
    "in": _("属于"),
    "gt": _("大于"),
    "gte": _("大于等于"),
    "lt": _("小于"),
    "lte": _("小于等于"),
    "is_empty": _("为空"),
}
TEXT_OPS = ("eq", "ne", "in", "is_empty")
NUMBER_OPS = ("eq", "ne", "in", "gt", "gte", "lt", "lte")
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class RuleField:
    """One field a condition may test.

    ``column``: a Customer column compared as it is. ``annotation``: an expression (given
    ``now``) annotated on the customer queryset, e.g. a counting subquery. ``since``: a
    timestamp column compared as whole days elapsed before ``now`` (null = never, which
    counts as longer ago than any number of days).
    """

    label: Any
    kind: str  # "text" | "choice" | "number"
    column: str = ""
    annotation: Callable[[dt.datetime], Any] | None = None
    since: str = ""
    nullable: bool = False
    choices: Callable[[], Sequence[tuple[str, Any]]] | None = None
    dictionary: str = ""
    note: Any = ""
    ops: tuple[str, ...] = field(default=())

    def allowed_ops(self) -> tuple[str, ...]:
        if self.ops:
            return self.ops
        base = NUMBER_OPS if self.kind == "number" else TEXT_OPS
        if self.kind == "number" and self.nullable:
            base = (*base, "is_empty")
        return base


def _follow_ups_90d(now: dt.datetime) -> Any:
    rows = (
        FollowUp.objects.alive()
        .filter(customer=OuterRef("pk"), followed_at__gte=now - 90 * DAY, followed_at__lte=now)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=models.IntegerField()), Value(0))


def _complaints(now: dt.datetime) -> Any:
    rows = (
        Interaction.objects.alive()
        .filter(customer=OuterRef("pk"), kind="complaint")
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=models.IntegerField()), Value(0))


def _no_orders_yet(now: dt.datetime) -> Any:
    # There is no order model yet: every customer's total is 0 until the sales module
    # registers the real aggregate under the same name (register_field).
    return Value(Decimal("0"), output_field=models.DecimalField(max_digits=18, decimal_places=2))


RULE_FIELDS: dict[str, RuleField] = {
    "status": RuleField(
        _("客户状态"), "choice", column="status", choices=lambda: CustomerStatus.choices
    ),
    "customer_type": RuleField(
        _("客户类型"), "choice", column="customer_type", choices=lambda: CustomerType.choices
    ),
    "category": RuleField(
        _("客户分类"), "choice", column="category", dictionary="customer_category"
    ),
    "industry": RuleField(_("所属行业"), "choice", column="industry", dictionary="industry"),
    "source": RuleField(_("客户来源"), "choice", column="source", dictionary="customer_source"),
    "province": RuleField(_("省份"), "text", column="province"),
    "city": RuleField(_("城市"), "text", column="city"),
    "completeness": RuleField(_("资料完整度（%）"), "number", column="completeness"),
    "created_days_ago": RuleField(_("创建天数"), "number", since="created_at"),
    "days_since_follow_up": RuleField(
        _("距上次跟进天数"),
        "number",
        since="last_follow_up_at",
        nullable=True,
        note=_("从未跟进视为无穷大；“为空”表示从未跟进"),
    ),
    "follow_ups_90d": RuleField(_("近90天跟进次数"), "number", annotation=_follow_ups_90d),
    "complaints": RuleField(_("投诉次数"), "number", annotation=_complaints),
    "total_order_amount": RuleField(
        _("累计订单金额"),
        "number",
        annotation=_no_orders_yet,
        note=_("订单模块上线前恒为 0"),
    ),
}


def register_field(name: str, spec: RuleField) -> None:
    """Add or replace a rule field (other modules: order totals, tickets, ...)."""
    RULE_FIELDS[name] = spec


def field_choices(name: str) -> list[tuple[str, str]]:
    spec = RULE_FIELDS[name]
    if spec.choices is not None:
        return [(str(c), str(label)) for c, label in spec.choices()]
    if spec.dictionary:
        return [(c, str(label)) for c, label in dictionary_choices(spec.dictionary)]
    return []


# --- validation ----------------------------------------------------------------------------


def _number(raw: Any) -> Decimal:
    if isinstance(raw, bool) or raw is None:
        raise ValidationError(MSG_NEED_NUMBER)
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(MSG_NEED_NUMBER) from None
    if not value.is_finite() or abs(value) >= MAX_NUMBER:
        raise ValidationError(MSG_NEED_NUMBER)
    return value


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _scalar(name: str, spec: RuleField, raw: Any) -> Any:
    if spec.kind == "number":
        return _json_number(_number(raw))
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise ValidationError(MSG_NEED_TEXT)
    text = str(raw).strip()
    if not text:
        raise ValidationError(MSG_NEED_TEXT)
    if spec.kind == "choice":
        if spec.dictionary:
            code = resolve_dictionary_value(spec.dictionary, text)
        else:
            code = next(
                (c for c, label in field_choices(name) if text in (c, label)),
                None,
            )
        if not code:
            raise ValidationError(MSG_BAD_CHOICE % {"value": text[:50]})
        return code
    return text[:64]


def _value(name: str, spec: RuleField, op: str, raw: Any) -> Any:
    if op == "is_empty":
        if raw in (None, "", True, "true", "1", 1):
            return True
        if raw in (False, "false", "0", 0):
            return False
        raise ValidationError(_("“为空”的值须为 true 或 false"))
    if op == "in":
        items = raw.replace("，", ",").split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise ValidationError(MSG_NEED_LIST)
        items = [i for i in items if not (isinstance(i, str) and not i.strip())]
        if not items or len(items) > 100:
            raise ValidationError(MSG_NEED_LIST)
        return [_scalar(name, spec, i) for i in items]
    return _scalar(name, spec, raw)


def clean_conditions(raw: Any) -> list[dict[str, Any]]:
    """Validated, normalised conditions; ValidationError with ``conditions.<n>.<part>``
    field errors (every bad row at once)."""
    errors = FieldErrors()
    if not isinstance(raw, list | tuple) or not raw:
        errors.add("conditions", MSG_NO_CONDITIONS)
        errors.raise_if_any()
    if len(raw) > MAX_CONDITIONS:
        errors.add("conditions", MSG_TOO_MANY % {"max": MAX_CONDITIONS})
        errors.raise_if_any()
    cleaned = []
    for n, cond in enumerate(raw):
        key = f"conditions.{n}"
        if not isinstance(cond, Mapping) or "field" not in cond or "op" not in cond:
            errors.add(key, MSG_BAD_SHAPE)
            continue
        name, op = str(cond.get("field") or ""), str(cond.get("op") or "")
        spec = RULE_FIELDS.get(name)
        if spec is None:
            errors.add(f"{key}.field", MSG_UNKNOWN_FIELD % {"field": name[:50]})
            continue
        if op not in spec.allowed_ops():
            errors.add(f"{key}.op", MSG_UNKNOWN_OP % {"field": spec.label, "op": op[:20]})
            continue
        with errors.collect(f"{key}.value"):
            value = _value(name, spec, op, cond.get("value"))
            cleaned.append({"field": name, "op": op, "value": value})
    errors.raise_if_any()
    return cleaned


# --- compiling -----------------------------------------------------------------------------


def _compare(path: str, op: str, value: Any) -> Q:
    if op == "is_empty":
        empty = Q(**{f"{path}__isnull": True})
        return empty if value else ~empty
    if op == "ne":
        return ~Q(**{path: value})
    lookup = "exact" if op == "eq" else op
    return Q(**{f"{path}__{lookup}": value})


def _text_condition(path: str, op: str, value: Any) -> Q:
    if op == "is_empty":
        empty = Q(**{path: ""}) | Q(**{f"{path}__isnull": True})
        return empty if value else ~empty
    return _compare(path, op, value)


def _days(column: str, op: str, value: Any, now: dt.datetime, nullable: bool) -> Q:
    """Whole days elapsed since ``column`` as timestamp ranges (index-friendly); a null
    timestamp (never) is longer ago than any number of days."""
    if op == "is_empty":
        return _compare(column, op, value)
    if op in ("in", "ne"):
        exact = Q()
        for n in value if op == "in" else [value]:
            exact |= _days(column, "eq", n, now, nullable)
        return exact if op == "in" else ~exact
    n = Decimal(str(value))
    if n != n.to_integral_value():  # 2.5 days: between 2 and 3
        n = n.to_integral_value(rounding="ROUND_FLOOR") + (1 if op in ("gt", "gte") else 0)
        op = {"gt": "gte", "lte": "lt", "eq": "none"}.get(op, op)
    if op == "none":
        return Q(pk__in=[])
    edge = now - int(n) * DAY  # days >= n  ⇔  column <= now - n days
    never = Q(**{f"{column}__isnull": True}) if nullable else Q(pk__in=[])
    gte_n = Q(**{f"{column}__lte": edge}) | never
    gt_n = Q(**{f"{column}__lte": edge - DAY}) | never
    lt_n = Q(**{f"{column}__gt": edge})
    lte_n = Q(**{f"{column}__gt": edge - DAY})
    if op == "eq":
        return Q(**{f"{column}__lte": edge, f"{column}__gt": edge - DAY})
    return {"gte": gte_n, "gt": gt_n, "lt": lt_n, "lte": lte_n}[op]


def apply_conditions(
    queryset: QuerySet, conditions: Iterable[Mapping[str, Any]], now: dt.datetime
) -> QuerySet:
    """``queryset`` narrowed to the customers meeting every condition (one SQL filter)."""
    where = Q()
    for n, cond in enumerate(conditions):
        spec = RULE_FIELDS[cond["field"]]
        op, value = cond["op"], cond["value"]
        if spec.annotation is not None:
            alias = f"_rule_{n}"
            queryset = queryset.alias(**{alias: spec.annotation(now)})
            if op in ("gt", "gte", "lt", "lte", "eq", "ne", "in"):
                value = [Decimal(str(v)) for v in value] if op == "in" else Decimal(str(value))
            where &= _compare(alias, op, value)
        elif spec.since:
            where &= _days(spec.since, op, value, now, spec.nullable)
        elif spec.kind == "number":
            where &= _compare(spec.column, op, value)
        else:
            where &= _text_condition(spec.column, op, value)
    return queryset.filter(where)


def ids_q(column: str, ids: Iterable[int]) -> Q:
    """``column IN ids``, or ``lo <= column <= hi`` when the ids are a whole range (an import
    chunk's new customers are): one indexed range instead of thousands of bound parameters."""
    wanted = sorted({int(i) for i in ids})
    if wanted and wanted[-1] - wanted[0] + 1 == len(wanted):
        # gte/lte rather than range: a foreign key column takes no __range lookup.
        return Q(**{f"{column}__gte": wanted[0], f"{column}__lte": wanted[-1]})
    return Q(**{f"{column}__in": wanted})


def matching_customers(
    rule: TagRule, *, customer_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> QuerySet:
    """Live customers (of ``customer_ids`` when given) meeting ``rule`` at ``now``."""
    base = Customer.objects.alive().order_by()
    if customer_ids is not None:
        base = base.filter(ids_q("pk", customer_ids))
    return apply_conditions(base, rule.conditions, now or timezone.now()).values("pk")


# --- evaluating ----------------------------------------------------------------------------


@dataclass
class RunResult:
    matched: int
    added: int
    removed: int


def _insert_missing(rule: TagRule, missing: QuerySet, now: dt.datetime) -> int:
    """INSERT … SELECT of the matching customers that lack the tag (set-based)."""
    try:
        sql, params = missing.query.sql_with_params()
    except EmptyResultSet:  # the conditions can match nobody (or the rule is disabled)
        return 0
    table = CustomerTag._meta.db_table
    statement = (
        f"INSERT INTO {table} (customer_id, tag_id, rule_id, tagged_at) "
        f"SELECT m.id, %s, %s, %s FROM ({sql}) m WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    value = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(statement, (rule.tag_id, rule.pk, value, *params))
        return max(cursor.rowcount, 0)


def evaluate(
    rule: TagRule,
    customer_ids: Iterable[int] | None = None,
    *,
    now: dt.datetime | None = None,
) -> RunResult:
    """Bring ``rule``'s tag rows in line with its conditions (for ``customer_ids`` only, or
    for everyone, which also records the run on the rule). A disabled rule matches nobody."""
    now = now or timezone.now()
    ids = None if customer_ids is None else sorted({int(i) for i in customer_ids})
    with transaction.atomic():
        if rule.enabled:
            matching = matching_customers(rule, customer_ids=ids, now=now)
        else:
            matching = Customer.objects.none().values("pk")
        stale = CustomerTag.objects.filter(rule=rule)
        if ids is not None:
            stale = stale.filter(ids_q("customer_id", ids))
        removed, _detail = stale.exclude(customer_id__in=matching).delete()
        has_tag = CustomerTag.objects.filter(tag_id=rule.tag_id).values("customer_id")
        added = _insert_missing(rule, matching.exclude(pk__in=has_tag).values("id"), now)
        matched = CustomerTag.objects.filter(rule=rule).count() if ids is None else 0
        if ids is None:
            TagRule.objects.filter(pk=rule.pk).update(last_run_at=now, last_run_count=matched)
            rule.last_run_at, rule.last_run_count = now, matched
    return RunResult(matched=matched, added=added, removed=removed)


def evaluate_all(now: dt.datetime | None = None) -> dict[str, int]:
    """The nightly job: every rule over every customer; {rule name: customers tagged}.
    Disabled rules are run too, so the tags they left behind are cleared."""
    now = now or timezone.now()
    return {rule.name: evaluate(rule, now=now).matched for rule in TagRule.objects.all()}


def evaluate_for_customers(customer_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Every enabled rule for just these customers (after their data changed)."""
    ids = [int(i) for i in customer_ids]
    if not ids:
        return
    for rule in TagRule.objects.filter(enabled=True):
        evaluate(rule, ids, now=now)


def on_customer_data_changed(sender: Any, customer_ids: Iterable[int] = (), **kwargs: Any) -> None:
    """Receiver of customers.signals.customer_data_changed (sent after commit). A failure is
    logged, not raised: the change itself is saved, and the nightly run repairs the tags."""
    try:
        evaluate_for_customers(customer_ids)
    except Exception:
        logger.exception("tag rules: re-evaluation failed for %s", list(customer_ids)[:20])

"""Step conditions: small field tests an admin writes on a flow step ("only when the
customer is an enterprise", "only above 100,000 yuan"). Kept as data so flows are edited,
not coded; every test must hold for the step to apply."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

OPERATORS = {
    "eq": _("等于"),
    "ne": _("不等于"),
    "in": _("属于"),
    "gt": _("大于"),
    "gte": _("大于等于"),
    "lt": _("小于"),
    "lte": _("小于等于"),
    "contains": _("包含"),
}
MSG_BAD_CONDITION = _("条件格式错误：每条须为 {field, op, value}，op 取 %(ops)s")


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _test(actual: Any, op: str, expected: Any) -> bool:
    if op == "eq":
        return str(actual) == str(expected)
    if op == "ne":
        return str(actual) != str(expected)
    if op == "in":
        return str(actual) in {str(v) for v in (expected or [])}
    if op == "contains":
        return str(expected) in str(actual or "")
    left, right = _number(actual), _number(expected)
    if left is None or right is None:
        return False  # a number test on a missing or non-number value does not hold
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def condition_holds(condition: list[Mapping[str, Any]] | None, values: Mapping[str, Any]) -> bool:
    """Whether every test of ``condition`` holds on ``values`` (an empty condition does)."""
    return all(_test(values.get(t["field"]), t["op"], t.get("value")) for t in condition or [])


def clean_condition(raw: Any) -> list[dict[str, Any]]:
    """A condition as the flow editor or API gives it, checked; ValidationError otherwise."""
    if raw in (None, "", []):
        return []
    ok = isinstance(raw, list) and all(
        isinstance(t, Mapping) and isinstance(t.get("field"), str) and t.get("op") in OPERATORS
        for t in raw
    )
    if not ok:
        raise ValidationError(MSG_BAD_CONDITION % {"ops": ", ".join(OPERATORS)})
    return [{"field": t["field"], "op": t["op"], "value": t.get("value")} for t in raw]

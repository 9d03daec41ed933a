"""Is this customer already here? Exact and similar matches among live customers.

Two kinds of evidence, each a rule whose effect is a setting (``GUANXI_DUPLICATE_RULES``):

* exact: the same mobile, landline, email or USCC, found through the blind indexes (the values
  themselves are encrypted), and the same folded name, which always blocks because names are
  unique among live customers;
* similar names: the name *core* (customers.name_match) equal to or a small edit away from
  another's. Candidates come from the cores' deletion keys (CustomerNameKey: cores one edit
  apart share one) and from the index neighbours of the core, so a check reads a bounded
  number of rows whatever the table size.

Only records in the caller's read scope are named; the others are counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Value
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from guanxi.core.crypto import blind_index
from guanxi.core.errors import DuplicateRecord
from guanxi.core.validators import name_key
from guanxi.customers.models import Customer, CustomerNameKey
from guanxi.customers.name_match import (
    MIN_CORE,
    deletion_keys,
    name_core,
    prefix_upper_bound,
    similarity,
)

CONTACT_RULES = ("mobile", "phone", "email", "uscc")
SIMILAR_NAME = "similar_name"
BLOCK, WARN, OFF = "block", "warn", "off"
NEIGHBOURS = 16
"""Rows read on each side of the core (and of its reverse) in index order."""
MAX_NAMED = 10
"""Similar records named in one warning, best first."""

MSG_SIMILAR = _("已有名称相似的客户，请确认是否为同一客户")
MSG_SAME_VALUE = _("已有客户使用相同的%(field)s")
FIELD_LABELS = {
    "mobile": _("手机号"),
    "phone": _("固定电话"),
    "email": _("邮箱"),
    "uscc": _("统一社会信用代码"),
    "name": _("客户名称"),
    SIMILAR_NAME: _("相似名称"),
}


def rules() -> dict[str, str]:
    """The effect of each rule, from settings; an unknown effect counts as "block"."""
    configured = getattr(settings, "GUANXI_DUPLICATE_RULES", {})
    out = {}
    for rule in (*CONTACT_RULES, SIMILAR_NAME):
        effect = str(configured.get(rule, WARN if rule == SIMILAR_NAME else BLOCK)).lower()
        out[rule] = effect if effect in (BLOCK, WARN, OFF) else BLOCK
    return out


@dataclass
class DuplicateWarning:
    """A non-blocking finding: shown to the user, saved anyway once confirmed."""

    rule: str
    message: str
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    hidden_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "message": self.message,
            "duplicates": self.duplicates,
            "hidden_count": self.hidden_count,
        }


@dataclass
class DuplicateReport:
    blocking: list[dict[str, Any]] = field(default_factory=list)
    blocking_hidden: int = 0
    warnings: list[DuplicateWarning] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.blocking or self.blocking_hidden)

    def refusal(self) -> DuplicateRecord:
        fields = sorted({m for d in self.blocking for m in d["matched_on"]})
        return DuplicateRecord(
            duplicates=self.blocking, hidden_count=self.blocking_hidden, matched_on=fields
        )


class UnconfirmedDuplicates(Exception):
    """A save that found similar records and was asked to stop for confirmation."""

    def __init__(self, warnings: list[DuplicateWarning]) -> None:
        self.warnings = warnings
        super().__init__("unconfirmed duplicates")


# --------------------------------------------------------------------------- raw matches


def _union_all(querysets: list[Any]) -> tuple[str, list[Any]]:
    """Several limited queries as one statement: each keeps its own index and LIMIT (wrapped
    as a derived table, which both SQLite and PostgreSQL accept), and the check pays one round
    trip instead of one per value or key."""
    parts, params = [], []
    for i, qs in enumerate(querysets):
        sql, qs_params = qs.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS part{i}")
        params.extend(qs_params)
    return " UNION ALL ".join(parts), params


def exact_matches(
    values: Mapping[str, str],
    exclude_ids: Iterable[int] = (),
    fields: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Live customers sharing the name key or one of ``fields``' values (all contact rules by
    default): rows with ``matched_on``, unscoped."""
    checks: list[tuple[str, str, str]] = []
    for rule in CONTACT_RULES if fields is None else fields:
        if values.get(rule):
            checks.append((rule, f"{rule}_bidx", blind_index(rule, values[rule])))
    if values.get("name"):
        checks.append(("name", "name_key", name_key(values["name"])))
    if not checks:
        return []
    excluded = list(exclude_ids)
    # One indexed lookup per value (an OR across the columns makes SQLite scan the table:
    # the name key's index is partial), sent as one statement.
    lookups = [
        Customer.objects.alive()
        .filter(**{column: digest})
        .exclude(pk__in=excluded)
        .order_by()  # the index order; the model's "-id" could tempt a rowid scan
        .annotate(rule=Value(rule, output_field=CharField()))
        .values("id", "name", "code", "rule")[:50]
        for rule, column, digest in checks
    ]
    sql, params = _union_all(lookups)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found: dict[int, dict[str, Any]] = {}
    for pk, name, code, rule in rows:
        match = found.setdefault(pk, {"id": pk, "name": name, "code": code, "matched_on": []})
        match["matched_on"].append(rule)
    return sorted(found.values(), key=lambda r: -r["id"])


def _candidates(core: str) -> list[dict[str, Any]]:
    """Live customers one edit from ``core`` (sharing a deletion key) or next to it in the
    ``name_core`` index while sharing its first half (the longer and shorter forms of the same
    trade name), in one statement."""
    half = core[: (len(core) + 1) // 2]
    upper = prefix_upper_bound(half)
    alive = Customer.objects.alive().order_by()
    ids = [
        CustomerNameKey.objects.filter(key=key).order_by().values("customer_id")[:NEIGHBOURS]
        for key in deletion_keys(core)
    ]
    ids += [
        alive.filter(name_core__gt=core, name_core__lt=upper)
        .order_by("name_core")
        .values("id")[:NEIGHBOURS],
        alive.filter(name_core__gte=half, name_core__lt=core)
        .order_by("-name_core")
        .values("id")[:NEIGHBOURS],
    ]
    sql, params = _union_all(ids)
    return list(alive.filter(pk__in=RawSQL(sql, params)).values("id", "name", "code", "name_core"))


def similar_names(name: str, exclude_ids: Iterable[int] = ()) -> list[dict[str, Any]]:
    """Live customers whose name core is equal or close to ``name``'s, best first, with their
    ``score`` (0–1); unscoped.

    Candidates: the cores one edit away (shared deletion keys, any position) and the index
    neighbours of the core, which bring the longer and shorter forms of the same trade name
    ("华为" / "华为技术")."""
    core = name_core(name)
    if len(core) < MIN_CORE:
        return []
    threshold = float(getattr(settings, "GUANXI_DUPLICATE_NAME_SIMILARITY", 0.75))
    excluded = set(exclude_ids)
    found: dict[int, dict[str, Any]] = {}
    for row in _candidates(core):
        if row["id"] in excluded or row["id"] in found:
            continue
        score = similarity(core, row["name_core"])
        if score >= threshold:
            found[row["id"]] = {
                "id": row["id"],
                "name": row["name"],
                "code": row["code"],
                "matched_on": [SIMILAR_NAME],
                "score": score,
            }
    return sorted(found.values(), key=lambda r: (-r["score"], -r["id"]))


def _visible_ids(actor: Any, rows: Iterable[dict[str, Any]]) -> set[int]:
    """Which of the matched customers ``actor`` may see: one query for the whole check."""
    ids = {r["id"] for r in rows}
    if not ids:
        return set()
    return set(
        Customer.objects.alive()
        .restrict(actor, "view")
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )


def _split(rows: list[dict[str, Any]], visible_ids: set[int]) -> tuple[list[dict[str, Any]], int]:
    visible = [r for r in rows if r["id"] in visible_ids]
    return visible, len(rows) - len(visible)


# --------------------------------------------------------------------------- the check


def find_exact(
    *, actor: Any, values: Mapping[str, str], exclude_id: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Exact matches on every contact field and the name, named within ``actor``'s scope."""
    rows = exact_matches(values, [exclude_id] if exclude_id else [])
    return _split(rows, _visible_ids(actor, rows))


def check(
    *, actor: Any, values: Mapping[str, str], exclude_ids: Iterable[int] = ()
) -> DuplicateReport:
    """Apply every rule to ``values`` (only the keys present are checked)."""
    effects = rules()
    excluded = list(exclude_ids)
    report = DuplicateReport()
    exact = exact_matches(values, excluded, [r for r in CONTACT_RULES if effects[r] != OFF])
    blocking_rows, warn_rows = [], []
    for row in exact:
        blocking = [m for m in row["matched_on"] if m == "name" or effects.get(m) == BLOCK]
        warning = [m for m in row["matched_on"] if m not in blocking]
        if blocking:
            blocking_rows.append({**row, "matched_on": blocking})
        elif warning:
            warn_rows.append({**row, "matched_on": warning})
    similar: list[dict[str, Any]] = []
    if values.get("name") and effects[SIMILAR_NAME] != OFF:
        similar = similar_names(values["name"], excluded + [r["id"] for r in exact])
    visible_ids = _visible_ids(actor, [*exact, *similar])
    report.blocking, report.blocking_hidden = _split(blocking_rows, visible_ids)
    for rule in CONTACT_RULES:
        rows = [r for r in warn_rows if rule in r["matched_on"]]
        if rows:
            visible, hidden = _split(rows, visible_ids)
            message = MSG_SAME_VALUE % {"field": FIELD_LABELS[rule]}
            report.warnings.append(DuplicateWarning(rule, str(message), visible, hidden))
    if similar:
        visible, hidden = _split(similar, visible_ids)
        if effects[SIMILAR_NAME] == BLOCK:
            report.blocking += visible
            report.blocking_hidden += hidden
        else:
            report.warnings.append(
                DuplicateWarning(SIMILAR_NAME, str(MSG_SIMILAR), visible[:MAX_NAMED], hidden)
            )
    return report


def raise_if_duplicates(
    actor: Any, values: Mapping[str, str], exclude_id: int | None
) -> DuplicateReport:
    """ERR-012 when a blocking rule matches; otherwise the report, whose warnings the caller
    passes on."""
    report = check(actor=actor, values=values, exclude_ids=[exclude_id] if exclude_id else [])
    if report.blocked:
        raise report.refusal()
    return report

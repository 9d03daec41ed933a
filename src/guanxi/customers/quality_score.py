"""The completeness score of a customer: the share of the expected fields that hold a value
— name, contact, a phone (mobile or landline), e-mail, the identity number (USCC for an
enterprise, ID number for a person), province, city, district, address, industry, category
and source: twelve fields, each worth the same.

It is stored on the customer (kept by the services) so the quality page and reports aggregate
an indexed column instead of decrypting personal values. The rule is written once for Python
(:func:`completeness`) and once for SQL (:func:`completeness_sql`, for backfills); a test
holds them equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.expressions import Combinable

from guanxi.customers.choices import CustomerType

PLAIN_FIELDS = ("name", "contact_name", "province", "city", "district", "address")
CODE_FIELDS = ("industry", "category", "source")
PERSONAL_INPUTS = ("mobile", "phone", "email", "uscc", "id_number", "customer_type")
COMPLETENESS_FIELDS = (*PLAIN_FIELDS, *CODE_FIELDS, *PERSONAL_INPUTS)
TOTAL = 12


def completeness(values: Mapping[str, Any]) -> int:
    """0–100 for a customer's values (plain field values; personal ones as entered)."""
    filled = sum(1 for f in (*PLAIN_FIELDS, *CODE_FIELDS) if values.get(f))
    filled += bool(values.get("mobile") or values.get("phone"))
    filled += bool(values.get("email"))
    identity = "id_number" if values.get("customer_type") == CustomerType.INDIVIDUAL else "uscc"
    filled += bool(values.get(identity))
    return round(100 * filled / TOTAL)


def completeness_sql() -> Combinable:
    """The same score as a database expression over stored columns (blind indexes stand for
    the encrypted values: empty when the value is)."""

    def has(condition: Q) -> Case:
        return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())

    parts = [has(~Q(**{f: ""})) for f in (*PLAIN_FIELDS, *CODE_FIELDS)]
    parts.append(has(~Q(mobile_bidx="") | ~Q(phone_bidx="")))
    parts.append(has(~Q(email_bidx="")))
    individual = Q(customer_type=CustomerType.INDIVIDUAL)
    parts.append(has((individual & ~Q(id_number_bidx="")) | (~individual & ~Q(uscc_bidx=""))))
    total: Combinable = parts[0]
    for part in parts[1:]:
        total = total + part
    # Integer rounding half up: (100 * filled + TOTAL / 2) / TOTAL.
    return (total * 100 + TOTAL // 2) / TOTAL

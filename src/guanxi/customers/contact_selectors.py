"""Every read of contacts: the customer's scope first (``restrict`` through ``customer__``),
then filters and search, then keyset pages; and how personal values are shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import F, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat

from guanxi.core import search_keys
from guanxi.core.crypto import blind_index
from guanxi.core.errors import NotFound
from guanxi.core.ids import parse_id
from guanxi.core.pagination import Page, paginate
from guanxi.core.validators import fold_text
from guanxi.customers import search, selectors
from guanxi.customers.contacts import SENSITIVE_FIELDS, mask_value
from guanxi.customers.models import Contact, Customer

ORDERINGS = ("id", "-id", "name", "-name", "updated_at", "-updated_at")
DEFAULT_ORDERING = "-id"
MAX_PER_CUSTOMER = 500


def contact_queryset(user: Any, action: str = "view") -> QuerySet:
    """Live contacts of live customers within ``user``'s scope for ``action``; none without
    the view permission."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm("customers.view_contact"):
        return Contact.objects.none()
    return (
        Contact.objects.alive()
        .filter(customer__deleted_at__isnull=True)
        .restrict(user, action)
        .select_related("customer")
    )


def apply_contact_search(qs: QuerySet, raw: str) -> QuerySet:
    """Exact phone or e-mail through the blind indexes; else the name as a Chinese substring,
    its full pinyin or its initials (any reading of heteronyms)."""
    text = fold_text(raw or "")[:100]
    if not text:
        return qs
    if search._is_phone(text):
        mobile, landline = search._phone_candidates(text)
        phone_q = Q(pk__in=[])
        if mobile:
            phone_q |= Q(mobile_bidx=blind_index("mobile", mobile))
        if landline:
            phone_q |= Q(phone_bidx=blind_index("phone", landline))
        return qs.filter(phone_q)
    if "@" in text:
        return qs.filter(email_bidx=blind_index("email", text.lower()))
    normalized = search_keys.normalize(text)
    if not normalized or any(search_keys.is_cjk(ch) for ch in normalized):
        return qs.filter(name__icontains=text)
    # Letters: a pinyin pair token (zhangsan) or initials pair (zs) holds the query as a
    # substring, or a longer query's tokens all appear (zhangsanfeng → zhangsan, sanfeng).
    tokens = Concat(Value(" "), F("search_tokens"), Value(" "), output_field=TextField())
    qs = qs.alias(_tokens=tokens)
    match = Q(name__icontains=text) | Q(search_tokens__contains=normalized)
    for group in search_keys.query_plan(normalized):
        group_q = Q()
        for token in group:
            group_q &= Q(_tokens__contains=f" {token} ")
        match |= group_q
    return qs.filter(match)


def contact_filter(user: Any, params: Mapping[str, Any]) -> QuerySet:
    """The scoped queryset with the list's filters (``customer_id``, ``q``) applied."""
    qs = contact_queryset(user)
    customer_id = params.get("customer_id")
    if customer_id not in (None, ""):
        wanted = parse_id(customer_id)
        if wanted is None:
            return qs.none()
        qs = qs.filter(customer_id=wanted)
    return apply_contact_search(qs, params.get("q") or "")


def contact_list(
    *, user: Any, params: Mapping[str, Any], cursor: str | None = None, limit: int = 50
) -> Page:
    """One keyset page of contacts, as the list page and the API show it."""
    ordering = params.get("ordering") or DEFAULT_ORDERING
    if ordering not in ORDERINGS:
        ordering = DEFAULT_ORDERING
    return paginate(contact_filter(user, params), ordering=ordering, cursor=cursor, limit=limit)


def customer_contacts(*, user: Any, customer: Customer) -> list[Contact]:
    """A customer's live contacts, primary first (the customer was read within scope)."""
    return list(contact_queryset(user).filter(customer=customer)[:MAX_PER_CUSTOMER])


def contact_get(*, user: Any, pk: Any, action: str = "view") -> Contact:
    """One live contact in scope, or NotFound (never a different error for out-of-scope)."""
    wanted = parse_id(pk)
    if wanted is None:
        raise NotFound()
    try:
        return contact_queryset(user, action).get(pk=wanted)
    except Contact.DoesNotExist as exc:
        raise NotFound() from exc


def shows_sensitive(user: Any, contact: Contact) -> bool:
    """As for the customer: its owner and sensitive-data holders see values in full."""
    return selectors.shows_sensitive(user, contact.customer)


def contact_values(user: Any, contact: Contact) -> dict[str, str]:
    """The personal fields of ``contact`` as ``user`` sees them (masked unless permitted)."""
    values = {f: getattr(contact, f) or "" for f in SENSITIVE_FIELDS}
    if shows_sensitive(user, contact):
        return values
    return {f: mask_value(f, v) for f, v in values.items()}

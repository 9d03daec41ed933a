"""Reading picklists: codes are stored on records, labels shown; both are accepted as input."""

from __future__ import annotations

from django.utils.translation import get_language

from guanxi.core.models import DictionaryItem
from guanxi.core.request_memo import remembered

MEMO = "dictionary"


def dictionary_choices(dict_code: str, *, include_inactive: bool = False) -> list[tuple[str, str]]:
    items = DictionaryItem.objects.filter(dict_type__code=dict_code)
    if not include_inactive:
        items = items.filter(is_active=True)
    english = (get_language() or "").startswith("en")
    return [(i.code, (i.label_en or i.label) if english else i.label) for i in items]


def dictionary_labels(dict_code: str) -> dict[str, str]:
    return dict(dictionary_choices(dict_code, include_inactive=True))


def _lookup(dict_code: str) -> dict[str, str]:
    """Code, label and English label of each active item -> its code (codes win over labels,
    Chinese labels over English ones when they collide)."""
    items = list(
        DictionaryItem.objects.filter(dict_type__code=dict_code, is_active=True).values_list(
            "code", "label", "label_en"
        )
    )
    lookup: dict[str, str] = {}
    for layer in (2, 1, 0):
        for item in items:
            if item[layer]:
                lookup[item[layer]] = item[0]
    return lookup


def preload(*dict_codes: str) -> None:
    """Read these dictionaries into the current memo scope now (an import does, before it
    forks its cleaning helper, so the helper never has to read them)."""
    for code in dict_codes:
        remembered((MEMO, code), lambda code=code: _lookup(code))


def resolve_dictionary_value(dict_code: str, value: str) -> str | None:
    """Code for a code or label (active items only); None when unknown. The items are read
    once per request (or memo scope): an import resolves three values a row."""
    value = (value or "").strip()
    if not value:
        return ""
    return remembered((MEMO, dict_code), lambda: _lookup(dict_code)).get(value)

"""Reading picklists: codes are stored on records, labels shown; both are accepted as input."""

from __future__ import annotations

from django.utils.translation import get_language

from guanxi.core.models import DictionaryItem


def dictionary_choices(dict_code: str, *, include_inactive: bool = False) -> list[tuple[str, str]]:
    items = DictionaryItem.objects.filter(dict_type__code=dict_code)
    if not include_inactive:
        items = items.filter(is_active=True)
    english = (get_language() or "").startswith("en")
    return [(i.code, (i.label_en or i.label) if english else i.label) for i in items]


def dictionary_labels(dict_code: str) -> dict[str, str]:
    return dict(dictionary_choices(dict_code, include_inactive=True))


def resolve_dictionary_value(dict_code: str, value: str) -> str | None:
    """Code for a code or label (active items only); None when unknown."""
    value = (value or "").strip()
    if not value:
        return ""
    for code, label in dictionary_choices(dict_code):
        if value in (code, label):
            return code
    for item in DictionaryItem.objects.filter(dict_type__code=dict_code, is_active=True):
        if value == item.label_en:
            return item.code
    return None

"""What a report bucket is called: choices, dictionary labels, user and department names.

One query per dimension per report, never one per row (the lists render labels the same way).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from guanxi.core.dictionaries import dictionary_labels
from guanxi.customers.choices import CustomerStatus, CustomerType
from guanxi.customers.follow_ups import METHOD_DICT
from guanxi.customers.validation import DICTIONARY_FIELDS

BLANK_LABEL = _("未填写")


def _user_names(ids: Iterable[str]) -> dict[str, str]:
    from guanxi.accounts.models import User

    pks = [int(i) for i in ids if i]
    users = User.objects.filter(pk__in=pks).only("id", "name", "username")
    return {str(u.pk): u.display_name for u in users}


def _department_names(ids: Iterable[str]) -> dict[str, str]:
    from guanxi.accounts.models import Department

    pks = [int(i) for i in ids if i]
    return {
        str(pk): name
        for pk, name in Department.objects.filter(pk__in=pks).values_list("pk", "name")
    }


def labels_for(dimension: str, keys: Iterable[str]) -> dict[str, str]:
    """Key -> label for the keys of one dimension ("" is 未填写 everywhere)."""
    keys = list(keys)
    if dimension == "status":
        found = {str(k): str(v) for k, v in CustomerStatus.choices}
    elif dimension == "customer_type":
        found = {str(k): str(v) for k, v in CustomerType.choices}
    elif dimension in DICTIONARY_FIELDS:
        found = dictionary_labels(DICTIONARY_FIELDS[dimension])
    elif dimension == "method":
        found = dictionary_labels(METHOD_DICT)
    elif dimension == "owner":
        found = _user_names(keys)
    elif dimension == "department":
        found = _department_names(keys)
    elif dimension == "city":
        found = {k: _city_label(k) for k in keys}
    else:  # province: stored as the name
        found = {}
    return {k: (found.get(k) or k) if k else str(BLANK_LABEL) for k in keys}


def _city_label(key: str) -> str:
    province, _sep, city = key.partition("/")
    if not province and not city:
        return str(BLANK_LABEL)
    return f"{province or BLANK_LABEL} {city or BLANK_LABEL}"


def status_labels() -> list[dict[str, str]]:
    return [{"key": str(k), "label": str(v)} for k, v in CustomerStatus.choices]

"""Which file column feeds which field: suggested from the headers (Chinese or English, as
templates and older systems name them), editable, and savable as a named mapping."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.core.validators import fold_text
from guanxi.dataio.importers.base import FieldSpec

MSG_UNKNOWN_FIELD = _("未知的字段：%(field)s")
MSG_TWICE = _("“%(field)s”被映射了多次")
MSG_REQUIRED_UNMAPPED = _("必填字段未映射：%(fields)s")

_NOISE = re.compile(r"[\s*＊:：()（）\[\]【】_\-./]|必填|选填|可选|required|optional")


def normalize_header(header: str) -> str:
    """What a header says with decoration dropped: "*客户名称（必填）" -> "客户名称"."""
    return _NOISE.sub("", fold_text(str(header)).casefold())


def _names(spec: FieldSpec) -> list[str]:
    return [normalize_header(n) for n in (str(spec.label), spec.name, *spec.aliases) if n]


def suggest(
    headers: Sequence[str],
    specs: Sequence[FieldSpec],
    saved: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """{column index as text: field name}: a saved mapping's headers first, then exact
    names and aliases, then a header that contains a field's label. Each field at most once."""
    by_name: dict[str, str] = {}
    for spec in specs:
        for name in _names(spec):
            by_name.setdefault(name, spec.name)
    known = {s.name for s in specs}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    normalized = [normalize_header(h) for h in headers]

    def take(index: int, field: str | None) -> None:
        if field and field in known and field not in used and str(index) not in mapping:
            mapping[str(index)] = field
            used.add(field)

    for i, header in enumerate(normalized):
        take(i, (saved or {}).get(header))
    for i, header in enumerate(normalized):
        take(i, by_name.get(header))
    for i, header in enumerate(normalized):
        if str(i) in mapping or not header:
            continue
        for spec in specs:
            label = normalize_header(str(spec.label))
            if len(label) >= 2 and label in header:
                take(i, spec.name)
                break
    return mapping


def clean_mapping(
    raw: Mapping[str, Any], headers: Sequence[str], specs: Sequence[FieldSpec]
) -> dict[str, str]:
    """The mapping a user submitted, checked: known fields, each at most once, every
    required field mapped. Empty choices leave a column unimported."""
    known = {s.name: s for s in specs}
    mapping: dict[str, str] = {}
    errors: list[str] = []
    for index in range(len(headers)):
        field = str(raw.get(str(index)) or "").strip()
        if not field:
            continue
        if field not in known:
            errors.append(str(MSG_UNKNOWN_FIELD % {"field": field}))
        elif field in mapping.values():
            errors.append(str(MSG_TWICE % {"field": known[field].label}))
        else:
            mapping[str(index)] = field
    missing = [str(s.label) for s in specs if s.required and s.name not in mapping.values()]
    if missing:
        errors.append(str(MSG_REQUIRED_UNMAPPED % {"fields": "、".join(missing)}))
    if errors:
        raise ValidationError({"mapping": errors})
    return mapping


def as_template(mapping: Mapping[str, str], headers: Sequence[str]) -> dict[str, str]:
    """A mapping to save under a name: keyed by normalised header, so it applies to the
    next file whatever order its columns come in."""
    return {
        normalize_header(headers[int(i)]): f for i, f in mapping.items() if int(i) < len(headers)
    }

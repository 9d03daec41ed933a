"""Reference data every installation starts with (picklists); missing items are created,
items an admin edited are left alone. Runs after every migrate and flush."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from guanxi.core.models import DictionaryItem, DictionaryType

DATA = Path(__file__).resolve().parent.parent / "data" / "dictionaries.json"


def ensure_dictionaries(**_: Any) -> None:
    for code, spec in json.loads(DATA.read_text(encoding="utf-8")).items():
        dtype, _created = DictionaryType.objects.get_or_create(
            code=code, defaults={"name": spec["name"], "name_en": spec["name_en"]}
        )
        existing = set(dtype.items.values_list("code", flat=True))
        DictionaryItem.objects.bulk_create(
            DictionaryItem(
                dict_type=dtype, code=item_code, label=label, label_en=label_en, sort=sort
            )
            for sort, (item_code, label, label_en) in enumerate(spec["items"])
            if item_code not in existing
        )

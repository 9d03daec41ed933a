"""Province names as the China map data spells them.

Customers store the official name (广东省, 内蒙古自治区, 香港特别行政区); the map's regions
carry the short form (广东, 内蒙古, 香港). The page sends both, so a click on a region opens
the list filtered by the stored name.
"""

from __future__ import annotations

# Longest first: 壮族自治区 must go before 自治区.
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def map_region_name(province: str) -> str:
    """The map's name for a stored province name (unknown names pass through trimmed)."""
    name = (province or "").strip()
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name

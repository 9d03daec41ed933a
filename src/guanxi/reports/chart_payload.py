"""Charts as the JSON the page's script draws (static/guanxi/report_charts.js reads it from a
json_script element): plain lists, and for maps the map's own region names."""

from __future__ import annotations

from typing import Any

from guanxi.reports.map_regions import map_region_name
from guanxi.reports.results import Chart


def chart_payload(charts: list[Chart]) -> list[dict[str, Any]]:
    """One dict per chart; ``id`` names its container element on the page."""
    out = []
    for index, chart in enumerate(charts):
        item: dict[str, Any] = {
            "id": f"gx-chart-{index}",
            "kind": chart.kind,
            "title": chart.title,
            "categories": chart.categories,
            "series": [{"name": s.name, "values": s.values} for s in chart.series],
            "links": chart.links,
        }
        if chart.kind == "map":
            item["regions"] = [map_region_name(name) for name in chart.categories]
        out.append(item)
    return out

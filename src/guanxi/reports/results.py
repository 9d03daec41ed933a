"""The shape every report takes once built: what pages render, exports write and schedules send.

A report is built once per request from the scoped selectors (``definitions.build_report``);
the page, the XLSX/PDF export and the scheduled e-mail all read this one object, so the numbers
a manager sees on screen are the numbers in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChartSeries:
    """One named series of numbers, one per category."""

    name: str
    values: list[float | int]


@dataclass
class Chart:
    """A chart as data: ``kind`` is bar, line, pie, map or heatmap; ``categories`` label the x
    axis (or the pie slices / map regions); ``links`` (same length as ``categories``, may be
    empty) are the list URLs a click on each category opens."""

    kind: str
    title: str
    categories: list[str]
    series: list[ChartSeries]
    links: list[str] = field(default_factory=list)


@dataclass
class Table:
    """The numbers behind a chart: header labels and rows of cells (str, int, float or date);
    ``links`` gives, per row, the list URL that shows the row's records (or "")."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    links: list[str] = field(default_factory=list)
    totals: list[Any] | None = None


@dataclass
class ReportResult:
    """A built report: its key, title, the filters it was built with (as human-readable
    label/value pairs for file headers), and its charts and tables in display order."""

    key: str
    title: str
    filters: list[tuple[str, str]]
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

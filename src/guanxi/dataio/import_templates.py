"""Import templates: an XLSX per object type that imports as it is, with no mapping step.

The header row carries the importer's own field labels (so the suggested mapping takes every
column); required columns are marked by a bold red header and a cell comment rather than by
changing the label. The sheet 填写说明 explains every field (also the ones not in the
template), and for customers 可选值 lists the picklist values the dictionaries accept.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import IO, Any

from guanxi.core.dictionaries import dictionary_choices
from guanxi.dataio.importers import get_importer
from guanxi.dataio.importers.base import FieldSpec

TEMPLATE_SHEET = "导入模板"
GUIDE_SHEET = "填写说明"
VALUES_SHEET = "可选值"
GUIDE_HEADERS = ("列名", "是否必填", "规则", "也可识别的列名")
VALUES_HEADERS = ("列名", "可选值", "代码")
TEMPLATE_ROWS = 1000  # rows formatted as text (numbers such as mobiles stay as typed)

# The columns a template offers, in order; other fields are listed in 填写说明 and may be
# added as columns. Object types not listed get their required fields and those with an example.
TEMPLATE_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": (
        "name",
        "customer_type",
        "industry",
        "category",
        "source",
        "contact_name",
        "contact_title",
        "mobile",
        "phone",
        "email",
        "address",
        "tags",
        "notes",
    ),
}


def _customer_values() -> dict[str, list[tuple[str, str]]]:
    from guanxi.customers.choices import CustomerStatus, CustomerType
    from guanxi.customers.validation import DICTIONARY_FIELDS

    values: dict[str, list[tuple[str, str]]] = {
        "customer_type": [(str(label), code) for code, label in CustomerType.choices],
        "status": [(str(label), code) for code, label in CustomerStatus.choices],
    }
    for field, dict_code in DICTIONARY_FIELDS.items():
        values[field] = [(label, code) for code, label in dictionary_choices(dict_code)]
    return values


# Per object type: field name -> [(label, code)] of the values it accepts.
ALLOWED_VALUES: dict[str, Callable[[], dict[str, list[tuple[str, str]]]]] = {
    "customer": _customer_values,
}


def template_columns(object_type: str) -> list[FieldSpec]:
    specs = list(get_importer(object_type).field_specs())
    wanted = TEMPLATE_FIELDS.get(object_type)
    if wanted is None:
        return [s for s in specs if s.required or s.example]
    by_name = {s.name: s for s in specs}
    columns = [by_name[n] for n in wanted if n in by_name]
    return columns + [s for s in specs if s.required and s not in columns]


def _value_ranges(values: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """Each field's block of labels on the 可选值 sheet (rows follow one another)."""
    ranges: dict[str, str] = {}
    row = 2  # 1-based; row 1 is the header
    for field, items in values.items():
        if items:
            ranges[field] = f"='{VALUES_SHEET}'!$B${row}:$B${row + len(items) - 1}"
            row += len(items)
    return ranges


def template_file(object_type: str) -> IO[bytes]:
    """The template workbook, rewound (KeyError for an unknown object type)."""
    import xlsxwriter

    specs = list(get_importer(object_type).field_specs())
    columns = template_columns(object_type)
    values = ALLOWED_VALUES.get(object_type, dict)()
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    styles = {
        "header": book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1}),
        "required": book.add_format(
            {"bold": True, "font_color": "#C00000", "bg_color": "#F2F2F2", "border": 1}
        ),
        "text": book.add_format({"num_format": "@"}),
        "bold": book.add_format({"bold": True}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
    }
    _write_template(book, styles, columns, values)
    _write_guide(book, styles, specs)
    if values:
        _write_values(book, styles, values, {s.name: str(s.label) for s in specs})
    book.close()
    out.seek(0)
    return out


def _example(spec: FieldSpec, allowed: list[tuple[str, str]] | None) -> str:
    """The field's example, or the first allowed value when the picklist no longer has it
    (admins edit dictionaries): the example row must import as it is."""
    if allowed and spec.example and not any(spec.example in item for item in allowed):
        return allowed[0][0]
    return spec.example


def _write_template(
    book: Any,
    styles: dict[str, Any],
    columns: Sequence[FieldSpec],
    values: dict[str, list[tuple[str, str]]],
) -> None:
    ranges = _value_ranges(values)
    sheet = book.add_worksheet(TEMPLATE_SHEET)
    sheet.freeze_panes(1, 0)
    for col, spec in enumerate(columns):
        label = str(spec.label)
        sheet.set_column(col, col, max(12, len(label) * 2 + 4), styles["text"])
        sheet.write_string(0, col, label, styles["required" if spec.required else "header"])
        note = "必填" if spec.required else ""
        if spec.rule:
            note = f"{note}：{spec.rule}" if note else str(spec.rule)
        if note:
            sheet.write_comment(0, col, note, {"x_scale": 1.5})
        example = _example(spec, values.get(spec.name))
        if example:
            sheet.write_string(1, col, example, styles["text"])
        if spec.name in ranges:
            sheet.data_validation(
                1,
                col,
                TEMPLATE_ROWS,
                col,
                {
                    "validate": "list",
                    "source": ranges[spec.name],
                    # Only a hint: codes and English labels are accepted as well.
                    "error_type": "information",
                    "ignore_blank": True,
                },
            )


def _write_guide(book: Any, styles: dict[str, Any], specs: Sequence[FieldSpec]) -> None:
    """填写说明: every field the importer knows, in or out of the template."""
    sheet = book.add_worksheet(GUIDE_SHEET)
    sheet.freeze_panes(1, 0)
    for col, width in enumerate((18, 10, 48, 48)):
        sheet.set_column(col, col, width, styles["wrap"])
    for col, title in enumerate(GUIDE_HEADERS):
        sheet.write_string(0, col, title, styles["bold"])
    for row, spec in enumerate(specs, start=1):
        sheet.write_string(row, 0, str(spec.label))
        sheet.write_string(row, 1, "是" if spec.required else "否")
        if spec.rule:
            sheet.write_string(row, 2, str(spec.rule))
        if spec.aliases:
            sheet.write_string(row, 3, "、".join(spec.aliases))


def _write_values(
    book: Any,
    styles: dict[str, Any],
    values: dict[str, list[tuple[str, str]]],
    labels: dict[str, str],
) -> None:
    """可选值: the labels (and codes) each picklist column accepts, one block per field."""
    sheet = book.add_worksheet(VALUES_SHEET)
    sheet.freeze_panes(1, 0)
    for col, width in enumerate((14, 36, 14)):
        sheet.set_column(col, col, width)
    for col, title in enumerate(VALUES_HEADERS):
        sheet.write_string(0, col, title, styles["bold"])
    row = 1
    for field, items in values.items():
        for label, code in items:
            sheet.write_string(row, 0, labels.get(field, field))
            sheet.write_string(row, 1, label)
            sheet.write_string(row, 2, code)
            row += 1

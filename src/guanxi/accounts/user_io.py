"""Batch import and export of users (CSV in UTF-8 or GBK, XLSX).

Import is all-or-nothing: the upload is checked row by row (a dry run that writes nothing)
and shown as a preview with each row's errors in Chinese; only a file without errors can be
imported, and the import re-checks every row inside one transaction. Imported users get a
random temporary password that they must change at first sign-in; the passwords are shown to
the admin once, after the import.

Export uses the same filter as the user list, masks mobile and e-mail unless the exporter may
see them, neutralises spreadsheet formulas in CSV (cells starting with = + - @) and writes
XLSX cells as strings, and is audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts import selectors
from guanxi.accounts.choices import Gender, UserStatus
from guanxi.accounts.models import Department, User
from guanxi.accounts.role_services import ensure_may_grant
from guanxi.accounts.service_support import check_perm
from guanxi.accounts.services import permissions_of_roles, temporary_password, user_create
from guanxi.accounts.user_input import (
    clean_user_input,
    ensure_unique,
    resolve_roles,
    split_roles,
)
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import DomainError
from guanxi.dataio.tables import CONTENT_TYPES, csv_safe

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 1000
COLUMNS = (
    ("username", _("用户名")),
    ("name", _("姓名")),
    ("employee_no", _("工号")),
    ("department", _("部门")),
    ("title", _("职务")),
    ("mobile", _("手机号")),
    ("email", _("邮箱")),
    ("gender", _("性别")),
    ("roles", _("角色")),
)
COLUMN_LABELS = dict(COLUMNS)
HEADER_ALIASES = {
    "用户名": "username",
    "账号": "username",
    "登录名": "username",
    "姓名": "name",
    "工号": "employee_no",
    "员工编号": "employee_no",
    "部门": "department",
    "department_id": "department",
    "职务": "title",
    "职位": "title",
    "手机号": "mobile",
    "手机": "mobile",
    "手机号码": "mobile",
    "邮箱": "email",
    "电子邮箱": "email",
    "性别": "gender",
    "角色": "roles",
    "role": "roles",
}
REQUIRED_COLUMNS = ("username", "name", "department")

MSG_FORMAT = _("仅支持 CSV（UTF-8 或 GBK 编码）和 XLSX 文件")
MSG_TOO_BIG = _("文件不能超过 5 MB")
MSG_ENCODING = _("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件")
MSG_BAD_XLSX = _("无法读取该 XLSX 文件，请确认文件未损坏")
MSG_EMPTY = _("文件中没有数据行")
MSG_TOO_MANY = _("一次最多导入 %(max)s 行，请拆分文件")
MSG_MISSING_COLUMNS = _("缺少必需的列：%(columns)s")
MSG_DUP_IN_FILE = _("与第 %(line)s 行重复")
MSG_HAS_ERRORS = _("有 %(count)s 行存在错误，未导入任何数据")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, size, columns)."""


@dataclass
class ImportRow:
    line: int
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_list(self) -> list[str]:
        return [
            f"{COLUMN_LABELS.get(f, f)}：{m}"
            for f, messages in self.errors.items()
            for m in messages
        ]


# --- reading ----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """Spreadsheet cells as text: 13800138000.0 → "13800138000", None → ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(MSG_ENCODING)


def read_table(filename: str, content: bytes) -> list[list[str]]:
    """Rows of cells from a CSV or XLSX upload."""
    if len(content) > MAX_BYTES:
        raise ImportFileError(MSG_TOO_BIG)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext in ("xlsx", "xlsm"):
        from python_calamine import CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
            return [[_cell(c) for c in row] for row in sheet.to_python(skip_empty_area=False)]
        except Exception as exc:  # calamine raises its own error types for broken files
            raise ImportFileError(MSG_BAD_XLSX) from exc
    if ext in ("csv", "txt"):
        text = _decode(content)
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    raise ImportFileError(MSG_FORMAT)


def parse_rows(filename: str, content: bytes) -> list[ImportRow]:
    """Header + data rows as ImportRow (line numbers as the spreadsheet shows them)."""
    table = read_table(filename, content)
    while table and not any(table[0]):
        table.pop(0)
    if not table:
        raise ImportFileError(MSG_EMPTY)
    header = [HEADER_ALIASES.get(h.strip(), h.strip().lower()) for h in table[0]]
    missing = [str(COLUMN_LABELS[c]) for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportFileError(MSG_MISSING_COLUMNS % {"columns": "、".join(missing)})
    rows = []
    for index, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue
        values = {
            key: (cells[i] if i < len(cells) else "")
            for i, key in enumerate(header)
            if key in COLUMN_LABELS
        }
        rows.append(ImportRow(index, values))
    if not rows:
        raise ImportFileError(MSG_EMPTY)
    if len(rows) > MAX_ROWS:
        raise ImportFileError(MSG_TOO_MANY % {"max": MAX_ROWS})
    return rows


# --- checking (dry run) -----------------------------------------------------------------


def _user_data(values: Mapping[str, str]) -> dict[str, Any]:
    data = {k: values.get(k, "") for k in ("username", "name", "employee_no", "title")}
    data.update({k: values.get(k, "") for k in ("mobile", "email", "gender")})
    data["department_id"] = values.get("department", "")
    return data


def check_rows(*, actor: Any, rows: list[ImportRow]) -> list[ImportRow]:
    """Validate every row as the create service would, plus duplicates within the file.
    Writes nothing; fills ``row.errors``."""
    seen_usernames: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for row in rows:
        row.errors = {}
        try:
            cleaned = clean_user_input(_user_data(row.values))
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                row.errors["department" if key == "department_id" else key] = list(messages)
            cleaned = {}
        try:
            roles = resolve_roles(split_roles(row.values.get("roles", "")))
            ensure_may_grant(actor, permissions_of_roles(roles))
        except ValidationError as exc:
            row.errors["roles"] = list(exc.messages)
        except DomainError as exc:
            row.errors["roles"] = [str(exc.message)]
        if cleaned:
            try:
                ensure_unique(cleaned)
            except DomainError as exc:
                row.errors.setdefault(exc.extra["matched_on"][0], []).append(str(exc.message))
        for key, seen in (("username", seen_usernames), ("employee_no", seen_numbers)):
            value = (cleaned.get(key) or row.values.get(key, "")).casefold()
            if value:
                if value in seen:
                    row.errors.setdefault(key, []).append(MSG_DUP_IN_FILE % {"line": seen[value]})
                else:
                    seen[value] = row.line
    return rows


# --- importing --------------------------------------------------------------------------


@dataclass
class Imported:
    user: User
    temporary_password: str


@audited_refusals("user.import")
def user_import(
    *, actor: Any, rows: list[ImportRow], meta: RequestMeta | None = None
) -> list[Imported]:
    """Create every row's user in one transaction, or none if any row is invalid."""
    check_perm(actor, "accounts.add_user")
    checked = check_rows(actor=actor, rows=rows)
    bad = [r for r in checked if not r.ok]
    if bad:
        raise ValidationError(
            {"rows": [MSG_HAS_ERRORS % {"count": len(bad)}]}
            | {f"line_{r.line}": r.error_list() for r in bad[:20]}
        )
    created: list[Imported] = []
    with transaction.atomic():
        for row in checked:
            raw = temporary_password()
            user = user_create(
                actor=actor,
                data=_user_data(row.values),
                password=raw,
                roles=split_roles(row.values.get("roles", "")),
                must_change_password=True,
                meta=meta,
                source="import",
            )
            created.append(Imported(user, raw))
        audit_record(
            actor=actor,
            action="user.import",
            object_type="user",
            params={"count": len(created), "usernames": [i.user.username for i in created]},
            meta=meta,
        )
    return created


# --- exporting --------------------------------------------------------------------------

EXPORT_COLUMNS = (*COLUMNS, ("status", _("状态")), ("last_login", _("最后登录")))
_GENDER_LABELS = {Gender.MALE: "男", Gender.FEMALE: "女"}


def _department_paths() -> dict[int, str]:
    rows = list(Department.objects.only("id", "name", "path"))
    names = {d.pk: d.name for d in rows}
    return {
        d.pk: "/".join(names.get(int(i), "?") for i in d.path.strip("/").split("/") if i)
        for d in rows
    }


def export_rows(*, actor: Any, users: Iterable[User]) -> list[list[str]]:
    """Header + one row per user, personal values masked unless the actor may see them."""
    paths = _department_paths()
    statuses = dict(UserStatus.choices)
    out = [[str(label) for _key, label in EXPORT_COLUMNS]]
    for user in users:
        personal = selectors.user_personal_values(actor, user)
        last = (
            timezone.localtime(user.last_login).strftime("%Y-%m-%d %H:%M")
            if user.last_login
            else ""
        )
        out.append(
            [
                user.username,
                user.name,
                user.employee_no,
                paths.get(user.department_id, "") if user.department_id else "",
                user.title,
                personal["mobile"],
                personal["email"],
                _GENDER_LABELS.get(user.gender, ""),
                ",".join(r.name for r in user.roles.all()),
                str(statuses.get(user.status, user.status)),
                last,
            ]
        )
    return out


def write_csv(rows: list[list[str]]) -> bytes:
    """UTF-8 with BOM (Excel opens it as UTF-8), formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_safe(c) for c in row])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(rows: list[list[str]]) -> bytes:
    """Every cell written as a string, so nothing is ever evaluated as a formula."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("用户")
    bold = workbook.add_format({"bold": True})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value, bold if r == 0 else None)
    sheet.set_column(0, len(rows[0]) - 1, 16)
    workbook.close()
    return buffer.getvalue()


@dataclass
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    count: int


_FILTER_KEYS = ("q", "department_id", "status", "role", "ordering")


@audited_refusals("user.export")
def user_export(
    *, actor: Any, params: Mapping[str, Any], fmt: str = "csv", meta: RequestMeta | None = None
) -> ExportFile:
    """The filtered user list as CSV or XLSX (needs accounts.export_user; audited)."""
    check_perm(actor, "accounts.export_user")
    if fmt not in CONTENT_TYPES:
        raise ValidationError({"format": [MSG_FORMAT]})
    users = list(selectors.user_export_rows(actor=actor, params=params))
    rows = export_rows(actor=actor, users=users)
    content = write_csv(rows) if fmt == "csv" else write_xlsx(rows)
    filters = {k: str(params.get(k)) for k in _FILTER_KEYS if params.get(k)}
    audit_record(
        actor=actor,
        action="user.export",
        object_type="user",
        params={
            "format": fmt,
            "count": len(users),
            "filters": filters,
            "masked": not actor.has_perm("accounts.view_sensitive_user"),
        },
        meta=meta,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(f"users-{stamp}.{fmt}", CONTENT_TYPES[fmt], content, len(users))

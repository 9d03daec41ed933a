"""Why a file is refused, in words a user can act on, and the bounds that refuse it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MSG_TOO_BIG = _("文件超过 %(mb)s MB 的上限")
MSG_TOO_MANY_ROWS = _("数据行超过 %(max)s 行的上限，请拆分文件后分批导入")
MSG_SHEET_TOO_LONG = _(
    "工作表的数据延伸到第 %(row)s 行，超过 %(max)s 行的上限，请删除多余的行后再导入"
)
MSG_TOO_MANY_COLUMNS = _("列数超过 %(max)s 列的上限，请删除多余的列后再导入")
MSG_UNPACKED = _("Excel 文件解压后超过 %(mb)s MB 的上限")
MSG_RATIO = _("Excel 文件的压缩比异常，已拒绝")
MSG_NOT_TABLE = _("文件内容不是 CSV 或 Excel (.xlsx) 表格")
MSG_OLD_FORMAT = _("不支持旧版 Excel (.xls) 等格式，请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
MSG_ENCRYPTED = _("Excel 文件设置了密码，请取消密码保护后再导入")
MSG_EMPTY = _("文件中没有数据")
MSG_HEADER_ONLY = _("文件只有表头，没有数据行")
MSG_ENCODING = _("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
MSG_BAD_XLSX = _("Excel 文件已损坏或无法读取")
MSG_BAD_CSV = _("CSV 格式有误（第 %(row)s 行附近，可能是引号不成对）")


class UploadRejected(ValidationError):
    """A file refused before (or, for a bound met half-way, while) its rows are read.

    ``message`` is shown to the user, ``code`` names the check ("too_big", "too_many_rows",
    "too_many_columns", "unpacked_too_big", "not_a_table", "empty", "bad_encoding",
    "encrypted_xlsx", "bad_xlsx", "bad_csv"). A ValidationError, so an audited service
    records the refusal like any other invalid input."""

    def __init__(self, code: str, message: Any) -> None:
        super().__init__(message, code=code)


def limit(name: str) -> int:
    """A bound from settings, read at call time (tests and operators change them)."""
    return int(getattr(settings, name))


def too_many_rows() -> UploadRejected:
    return UploadRejected(
        "too_many_rows", MSG_TOO_MANY_ROWS % {"max": limit("GUANXI_IMPORT_MAX_ROWS")}
    )


def too_many_columns() -> UploadRejected:
    return UploadRejected(
        "too_many_columns", MSG_TOO_MANY_COLUMNS % {"max": limit("GUANXI_IMPORT_MAX_COLUMNS")}
    )


def mebibytes(name: str) -> int:
    return limit(name) // (1024 * 1024)

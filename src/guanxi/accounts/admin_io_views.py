"""系统设置 → 用户管理 → 批量导入 / 导出.

Import is two steps: upload → preview (a dry run, nothing written, each row's errors shown)
→ confirm. The checked rows travel to the confirm step signed (tamper-proof, bound to the
admin, valid for an hour), so no server-side state is kept between the two requests.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.accounts import user_io
from guanxi.accounts.admin_forms import ImportForm
from guanxi.accounts.admin_views import guard, meta
from guanxi.core.errors import DomainError, error_text

PAYLOAD_MAX_AGE = 3600
MSG_EXPIRED = _("预览已过期或无效，请重新上传文件")
TEMPLATE_ROWS = [
    [
        "username",
        "name",
        "employee_no",
        "department",
        "title",
        "mobile",
        "email",
        "gender",
        "roles",
    ],
    [
        "zhangsan",
        "张三",
        "E1001",
        "总公司/销售部",
        "销售代表",
        "13800138000",
        "zhangsan@example.com",
        "男",
        "sales_rep",
    ],
]


def _salt(request: HttpRequest) -> str:
    return f"guanxi.user-import:{request.user.pk}"


def _page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("form", ImportForm())
    context["columns"] = user_io.COLUMNS
    context["max_rows"] = user_io.MAX_ROWS
    return render(request, "accounts/admin/user_import.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def user_import(request: HttpRequest) -> HttpResponse:
    guard(request, "accounts.add_user")
    if request.method == "GET":
        return _page(request, {})
    if "payload" in request.POST:
        return _confirm(request)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, {"form": form}, status=422)
    upload = form.cleaned_data["file"]
    try:
        if upload.size > user_io.MAX_BYTES:
            raise user_io.ImportFileError(user_io.MSG_TOO_BIG)
        rows = user_io.parse_rows(upload.name, upload.read())
    except user_io.ImportFileError as exc:
        form.add_error("file", str(exc))
        return _page(request, {"form": form}, status=422)
    return _preview(request, rows, filename=upload.name)


def _preview(request: HttpRequest, rows: list, *, filename: str) -> HttpResponse:
    checked = user_io.check_rows(actor=request.user, rows=rows)
    bad = [r for r in checked if not r.ok]
    payload = ""
    if not bad:
        payload = signing.dumps(
            {"file": filename, "rows": [[r.line, r.values] for r in checked]},
            salt=_salt(request),
            compress=True,
        )
    return _page(
        request,
        {"rows": checked, "bad_count": len(bad), "payload": payload, "filename": filename},
        status=200 if not bad else 422,
    )


def _confirm(request: HttpRequest) -> HttpResponse:
    try:
        data = signing.loads(request.POST["payload"], salt=_salt(request), max_age=PAYLOAD_MAX_AGE)
        rows = [user_io.ImportRow(int(line), dict(values)) for line, values in data["rows"]]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return _page(request, {"page_errors": [MSG_EXPIRED]}, status=422)
    try:
        created = user_io.user_import(actor=request.user, rows=rows, meta=meta(request))
    except ValidationError:
        # Something changed since the preview (a username was taken meanwhile ...).
        return _preview(request, rows, filename=data.get("file", ""))
    except DomainError as exc:
        return _page(request, {"page_errors": [error_text(exc)]}, status=403)
    response = render(request, "accounts/admin/import_done.html", {"created": created})
    add_never_cache_headers(response)
    return response


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """A CSV with the column names and one example row."""
    guard(request, "accounts.add_user")
    response = HttpResponse(
        user_io.write_csv(TEMPLATE_ROWS), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="user-import-template.csv"'
    return response


@login_required
@require_GET
def user_export(request: HttpRequest) -> HttpResponse:
    """The user list with its current filters as CSV or XLSX (audited)."""
    guard(request, "accounts.export_user")
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        fmt = "csv"
    export = user_io.user_export(
        actor=request.user, params=request.GET, fmt=fmt, meta=meta(request)
    )
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    add_never_cache_headers(response)
    return response

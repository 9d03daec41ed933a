"""系统设置 → 系统参数: the grouped parameter forms and the company logo."""

from __future__ import annotations

import mimetypes

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.audit.services import RequestMeta
from guanxi.ops import parameter_services
from guanxi.ops.parameters import GROUPS, PARAMETERS, company_logo, system_parameter

PERM = "ops.manage_system"
MSG_SAVED = _("已保存 %(count)d 项系统参数。")
MSG_UNCHANGED = _("参数没有变化。")
MSG_LOGO_SAVED = _("已更新公司标志。")
MSG_LOGO_REMOVED = _("已移除公司标志。")


class LogoForm(forms.Form):
    logo = forms.FileField(label=_("公司标志"), required=False)


def _groups(posted: dict | None, errors: dict) -> list[dict]:
    groups = []
    for code, label in GROUPS.items():
        items = [
            {
                "p": p,
                "value": posted.get(p.key, "") if posted is not None else system_parameter(p.key),
                "default": dict(p.choices).get(p.default(), p.default()),
                "errors": errors.get(p.key, []),
            }
            for p in PARAMETERS
            if p.group == code
        ]
        groups.append({"code": code, "label": label, "items": items})
    return groups


def _page(request: HttpRequest, *, posted=None, errors=None, logo_errors=None, status=200):
    context = {
        "groups": _groups(posted, errors or {}),
        "logo": company_logo(),
        "logo_errors": logo_errors or [],
    }
    return render(request, "ops/parameters.html", context, status=status)


@login_required
@permission_required(PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def parameters_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    data = {p.key: request.POST.get(p.key, "") for p in PARAMETERS if p.key in request.POST}
    try:
        changes = parameter_services.parameters_update(
            actor=request.user, data=data, meta=RequestMeta.from_request(request)
        )
    except ValidationError as exc:
        return _page(request, posted=request.POST, errors=exc.message_dict, status=422)
    if changes:
        messages.success(request, MSG_SAVED % {"count": len(changes)})
    else:
        messages.info(request, MSG_UNCHANGED)
    return redirect("ops:parameters")


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def logo_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("logo")
    remove = request.POST.get("remove") == "1"
    if upload is None and not remove:
        return _page(request, logo_errors=[parameter_services.ERR_LOGO], status=422)
    try:
        parameter_services.logo_update(
            actor=request.user,
            upload=None if remove else upload,
            meta=RequestMeta.from_request(request),
        )
    except ValidationError as exc:
        return _page(request, logo_errors=exc.message_dict.get("logo", exc.messages), status=422)
    messages.success(request, MSG_LOGO_REMOVED if remove else MSG_LOGO_SAVED)
    return redirect("ops:parameters")


@require_GET
def logo_file(request: HttpRequest) -> FileResponse:
    """The company logo for the top bar (public: the login page shows it too)."""
    name = company_logo()
    if not name or not default_storage.exists(name):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response

"""Export downloads. Thin: the service checks the permission (so a refusal is audited),
applies the list's filters within the user's scope and writes the file."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import PermissionDenied
from guanxi.dataio.customer_export import customer_export, used_filters

MSG_EXPORT_FAILED = _("导出失败：%(errors)s")


@login_required
@require_POST
def export_customers(request: HttpRequest) -> HttpResponse:
    """The customer list as filtered on the page, as XLSX, CSV or JSON (audited)."""
    try:
        result = customer_export(
            actor=request.user,
            params=request.POST,
            fmt=request.POST.get("format", "xlsx"),
            meta=RequestMeta.from_request(request),
        )
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    except ValidationError as exc:
        messages.error(request, MSG_EXPORT_FAILED % {"errors": "；".join(exc.messages)})
        query = urlencode(used_filters(request.POST))
        return redirect(f"{reverse('customers:list')}?{query}")
    response = FileResponse(
        result.file, as_attachment=True, filename=result.filename, content_type=result.content_type
    )
    response["X-Export-Rows"] = str(result.rows)
    return response

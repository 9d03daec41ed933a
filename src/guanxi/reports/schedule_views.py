"""定时报表 pages: list, create, edit, delete and 立即发送. Thin: the services check the rights,
validate and audit; these map their answers onto the form, a message or 403/404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.reports import schedule_services as services
from guanxi.reports.schedule_forms import ScheduleForm, initial_for, params_text
from guanxi.reports.schedule_models import ReportDelivery, ReportSchedule

MSG_SAVED = _("定时报表“%(name)s”已保存")
MSG_DELETED = _("定时报表“%(name)s”已删除")
MSG_SENT = _("已发送：%(sent)s 人收到，%(skipped)s 人跳过，%(failed)s 人失败")
RECENT_DELIVERIES = 10


def _require_view(request: HttpRequest) -> None:
    if not request.user.has_perm(services.VIEW_PERM):
        raise HttpForbidden()


def _get(request: HttpRequest, pk: int) -> ReportSchedule:
    try:
        return services.schedule_get(request.user, pk)
    except NotFound as exc:
        raise Http404() from exc


def _report_titles() -> dict[str, Any]:
    from guanxi.reports.definitions import REPORTS

    return {k: d.title for k, d in REPORTS.items()}


@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    """The schedules the user may see, with their calendar, recipients and last result."""
    _require_view(request)
    schedules = list(
        services.schedule_queryset(request.user).prefetch_related(
            "recipient_users", "recipient_roles"
        )
    )
    titles = _report_titles()
    for s in schedules:
        s.report_title = titles.get(s.report_key, s.report_key)
        s.params_text = params_text(s.params)
    deliveries = ReportDelivery.objects.filter(schedule__in=schedules).select_related(
        "schedule", "recipient"
    )[:RECENT_DELIVERIES]
    context = {"schedules": schedules, "deliveries": deliveries}
    return render(request, "reports/schedules.html", context)


def _save(request: HttpRequest, form: ScheduleForm, schedule: ReportSchedule | None) -> Any:
    meta = RequestMeta.from_request(request)
    data = form.service_data()
    if schedule is None:
        return services.schedule_create(actor=request.user, data=data, meta=meta)
    return services.schedule_update(actor=request.user, schedule=schedule, data=data, meta=meta)


def _form_page(request: HttpRequest, schedule: ReportSchedule | None) -> HttpResponse:
    _require_view(request)
    if request.method == "POST":
        form = ScheduleForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                saved = _save(request, form, schedule)
            except PermissionDenied as exc:
                raise HttpForbidden() from exc
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, MSG_SAVED % {"name": saved.name})
                return redirect("reports:schedules")
    else:
        initial = initial_for(schedule, request.GET.dict(), request.user)
        form = ScheduleForm(initial=initial, user=request.user)
    return render(request, "reports/schedules_form.html", {"form": form, "schedule": schedule})


@login_required
@require_http_methods(["GET", "POST"])
def schedule_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view(request)
    return _form_page(request, _get(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation page, then the delete."""
    _require_view(request)
    schedule = _get(request, pk)
    if request.method == "POST":
        name = schedule.name
        meta = RequestMeta.from_request(request)
        services.schedule_delete(actor=request.user, schedule=schedule, meta=meta)
        messages.success(request, MSG_DELETED % {"name": name})
        return redirect("reports:schedules")
    return render(request, "reports/schedules_delete.html", {"schedule": schedule})


@login_required
@require_POST
def schedule_run(request: HttpRequest, pk: int) -> HttpResponse:
    """立即发送: one run now, each recipient's file built in their own scope."""
    _require_view(request)
    schedule = _get(request, pk)
    meta = RequestMeta.from_request(request)
    counts = services.schedule_run_now(actor=request.user, schedule=schedule, meta=meta)
    messages.success(request, MSG_SENT % counts)
    return redirect("reports:schedules")

"""系统设置 → 定时任务: the schedule, one job's edit form and run history, 立即运行."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError
from guanxi.core.settings_pages import save_with_form
from guanxi.ops import job_services
from guanxi.ops.job_models import ScheduledJob
from guanxi.ops.schedule import registered_jobs
from guanxi.ops.scheduler import sync_registry

PERM = "ops.manage_system"
MSG_SAVED = _("已保存定时任务“%(title)s”。")
MSG_QUEUED = _("已提交“%(title)s”立即运行，结果见运行记录。")


class JobForm(forms.Form):
    enabled = forms.BooleanField(label=_("启用"), required=False)
    cron = forms.CharField(label=_("Cron 表达式"), max_length=100)
    max_retries = forms.IntegerField(label=_("最多重试次数"), min_value=0, max_value=10)
    retry_delay_seconds = forms.IntegerField(
        label=_("首次重试间隔(秒)"), min_value=10, max_value=86400
    )


@login_required
@permission_required(PERM, raise_exception=True)
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    # Jobs registered since the last worker tick (a new app's, or before any worker ran) are
    # listed too, so an admin can set them up before the first run.
    sync_registry(registered_jobs())
    jobs = ScheduledJob.objects.order_by("name")
    return render(request, "ops/jobs.html", {"jobs": jobs})


@login_required
@permission_required(PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def job_edit(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ScheduledJob, pk=pk)
    if request.method == "POST":
        form = JobForm(request.POST)
        if form.is_valid():
            call = partial(job_services.job_update, actor=request.user, job=job)
            if save_with_form(request, form, call) is not None:
                messages.success(request, MSG_SAVED % {"title": job.title})
                return redirect("ops:jobs")
        status = 422
    else:
        form = JobForm(initial={key: getattr(job, key) for key in job_services.EDITABLE})
        status = 200
    runs = job.runs.all()[:20]
    return render(
        request, "ops/job_form.html", {"job": job, "form": form, "runs": runs}, status=status
    )


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def job_run_now(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ScheduledJob, pk=pk)
    try:
        job_services.job_run_now(
            actor=request.user, job=job, meta=RequestMeta.from_request(request)
        )
    except DomainError as exc:
        messages.error(request, f"{exc.message}（{exc.code}）")
    else:
        messages.success(request, MSG_QUEUED % {"title": job.title})
    return redirect("ops:job_edit", pk=job.pk)

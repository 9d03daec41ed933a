"""系统设置 → 数据管理: 数据备份 (list, 立即备份), 数据恢复 (choose and confirm), 备份验证记录."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.errors import DomainError
from guanxi.ops.backup_models import Backup, BackupKind, BackupVerification, RestoreLog
from guanxi.ops.backup_service import BackupError

PERM = "ops.manage_backups"
MSG_STARTED = _("已开始%(kind)s，完成后出现在列表中。")
MSG_RESTORED = _("已恢复到备份 %(id)s（恢复前的安全备份：%(safety)s）。%(message)s")
MSG_RESTORE_FAILED = _("恢复未通过校验：%(message)s（恢复前的安全备份：%(safety)s）")
MSG_CONFIRM = _("请输入所选备份的编号以确认恢复。")
MSG_VERIFIED = _("验证完成：%(id)s %(result)s。")


class BackupFilter(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部")), *BackupKind.choices]
    )
    date = forms.DateField(
        label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class RestoreForm(forms.Form):
    backup = forms.ModelChoiceField(
        label=_("备份"), queryset=Backup.objects.all(), to_field_name="backup_id"
    )
    confirm = forms.CharField(label=_("输入备份编号确认"), max_length=40)

    def clean(self) -> dict:
        data = super().clean()
        backup = data.get("backup")
        if backup is not None and data.get("confirm", "").strip() != backup.backup_id:
            self.add_error("confirm", MSG_CONFIRM)
        return data


def _filtered(request: HttpRequest) -> tuple[BackupFilter, object]:
    form = BackupFilter(request.GET or None)
    backups = Backup.objects.select_related("base")
    if form.is_valid():
        if form.cleaned_data["kind"]:
            backups = backups.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["date"]:
            backups = backups.filter(created_at__date=form.cleaned_data["date"])
    return form, backups[:200]


@login_required
@permission_required(PERM, raise_exception=True)
@require_GET
def backup_list(request: HttpRequest) -> HttpResponse:
    form, backups = _filtered(request)
    return render(request, "ops/backups.html", {"filter": form, "backups": backups})


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def backup_now(request: HttpRequest) -> HttpResponse:
    from guanxi.ops.backup_jobs import backup_now_task

    kind = BackupKind.FULL if request.POST.get("kind") == "full" else BackupKind.INCREMENTAL
    backup_now_task(kind, request.user.pk)
    messages.success(request, MSG_STARTED % {"kind": BackupKind(kind).label})
    return redirect("ops:backups")


@login_required
@permission_required(PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def restore(request: HttpRequest) -> HttpResponse:
    from guanxi.ops.restore_service import restore_backup

    filter_form, backups = _filtered(request)
    status = 200
    form = RestoreForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            backup = form.cleaned_data["backup"]
            try:
                log = restore_backup(
                    backup=backup,
                    actor=request.user,
                    confirmed=True,
                    keep_session=request.session.session_key or "",
                )
            except (BackupError, DomainError) as exc:
                form.add_error(None, str(exc))
            else:
                values = {"id": backup.backup_id, "safety": log.safety_backup_id}
                if log.ok:
                    messages.success(request, MSG_RESTORED % {**values, "message": log.message})
                else:
                    messages.error(request, MSG_RESTORE_FAILED % {**values, "message": log.message})
                return redirect("ops:restore")
        status = 422
    context = {
        "filter": filter_form,
        "backups": backups,
        "form": form,
        "selected": request.POST.get("backup", ""),
        "logs": RestoreLog.objects.all()[:20],
    }
    return render(request, "ops/restore.html", context, status=status)


@login_required
@permission_required(PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def verifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        from guanxi.ops.verification import verify_latest_backup

        record = verify_latest_backup()
        if record is None:
            messages.warning(request, _("近期没有可验证的备份。"))
        else:
            result = _("通过") if record.ok else _("未通过")
            messages.success(request, MSG_VERIFIED % {"id": record.backup_id, "result": result})
        return redirect("ops:backup_verifications")
    records = BackupVerification.objects.all()[:100]
    return render(request, "ops/backup_verifications.html", {"records": records})

"""The 待办任务 pages (/tasks/...): the list with its tabs, the create form, completing by
htmx, the lazy 待办 block of the customer page, and 系统设置 → 提醒规则.

Thin: reads through workflow.task_selectors, writes through workflow.task_services and
workflow.reminder_services.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound
from guanxi.core.list_pages import page_or_first, render_list
from guanxi.core.settings_pages import save_with_form
from guanxi.workflow import reminder_services, task_selectors, task_services
from guanxi.workflow.models import ReminderRule, TaskPriority
from guanxi.workflow.reminders import RULES

PAGE_SIZE = 20
LIST_TARGET = "task-table"
MSG_CREATED = _("已创建待办：%(title)s")
MSG_DONE = _("已完成：%(title)s")
MSG_RULE_SAVED = _("提醒规则“%(name)s”已保存")
TAB_LABELS = [
    ("open", _("未完成")),
    ("today", _("今天到期")),
    ("overdue", _("已逾期")),
    ("done", _("已完成")),
]
PRIORITY_BADGES = {
    "low": "text-bg-light border",
    "normal": "text-bg-secondary",
    "high": "text-bg-warning",
    "urgent": "text-bg-danger",
}
_TEXT = {"class": "form-control"}


class TaskForm(forms.Form):
    """The shape of the create form; the service checks the values."""

    title = forms.CharField(
        label=_("任务"), max_length=task_services.TITLE_MAX, widget=forms.TextInput(_TEXT)
    )
    due_at = forms.CharField(
        label=_("截止时间"), widget=forms.TextInput({**_TEXT, "type": "datetime-local"})
    )
    priority = forms.ChoiceField(
        label=_("优先级"),
        choices=TaskPriority.choices,
        initial=TaskPriority.NORMAL,
        widget=forms.Select({"class": "form-select"}),
    )
    assignee_id = forms.TypedChoiceField(
        label=_("负责人"), coerce=int, widget=forms.Select({"class": "form-select"})
    )
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea({**_TEXT, "rows": 3})
    )
    customer_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = task_services.assignable_users(actor).order_by("department_id", "name", "pk")
        choices = [(u.pk, u.display_name) for u in users.only("pk", "name", "username")]
        if not any(pk == actor.pk for pk, _label in choices):
            choices.insert(0, (actor.pk, actor.display_name))
        self.fields["assignee_id"].choices = choices
        self.fields["assignee_id"].initial = actor.pk
        if len(choices) == 1:
            self.fields["assignee_id"].widget = forms.HiddenInput()
        for name in ("title", "due_at"):
            self.fields[name].required_mark = True


def _scope(request: HttpRequest) -> str:
    team = request.GET.get("scope") == "team" and task_selectors.can_view_team(request.user)
    return "team" if team else "mine"


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("tab") or "open"
    return tab if tab in task_selectors.TABS else "open"


@login_required
@permission_required("workflow.view_task", raise_exception=True)
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    """My (or my team's) tasks, one tab at a time, soonest due first."""
    scope, tab = _scope(request), _tab(request)
    page = page_or_first(
        request,
        task_selectors.task_list,
        user=request.user,
        scope=scope,
        tab=tab,
        limit=PAGE_SIZE,
    )
    context = {
        "page": page,
        "tab": tab,
        "scope": scope,
        "now": timezone.now(),
        "badges": PRIORITY_BADGES,
        "table_target": f"#{LIST_TARGET}",
    }

    def extras() -> dict[str, Any]:
        return {
            "tabs": TAB_LABELS,
            "counts": task_selectors.tab_counts(user=request.user, scope=scope),
            "can_team": task_selectors.can_view_team(request.user),
        }

    return render_list(
        request,
        context,
        target=LIST_TARGET,
        table_template="tasks/_table.html",
        page_template="tasks/list.html",
        page_extras=extras,
    )


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@permission_required("workflow.add_task", raise_exception=True)
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest) -> HttpResponse:
    """New task, optionally about a customer (``?customer=<id>`` from the customer page)."""
    customer = None
    raw_customer = request.POST.get("customer_id") or request.GET.get("customer")
    if raw_customer:
        from guanxi.customers.models import Customer

        visible = Customer.objects.alive().restrict(request.user, "view")
        customer = visible.filter(pk=task_services._int(raw_customer)).first()
        if customer is None:
            raise Http404()
    back = reverse("customers:detail", args=[customer.pk]) if customer else reverse("tasks:list")
    if request.method == "POST":
        form = TaskForm(request.POST, actor=request.user)
        if form.is_valid():
            task = save_with_form(
                request, form, partial(task_services.task_create, actor=request.user)
            )
            if task is not None:
                messages.success(request, MSG_CREATED % {"title": task.title})
                return redirect(_safe_next(request, back))
    else:
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        initial = {"customer_id": customer.pk if customer else None, "due_at": f"{tomorrow}T18:00"}
        form = TaskForm(actor=request.user, initial=initial)
    return render(
        request,
        "tasks/form.html",
        {"form": form, "customer": customer, "back": back, "next": _safe_next(request, back)},
    )


@login_required
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Complete one task; htmx gets the row (or the customer block) back."""
    try:
        task = task_services.task_for_complete(request.user, pk)
        task = task_services.task_complete(
            actor=request.user, task=task, meta=RequestMeta.from_request(request)
        )
    except NotFound as exc:
        raise Http404() from exc
    except DomainError as exc:
        messages.error(request, f"{exc.message}（{exc.code}）")
        return redirect(reverse("tasks:list"))
    if getattr(request, "htmx", None):
        if request.POST.get("block") and task.customer_id:
            return _customer_block(request, task.customer_id)
        context = {"task": task, "now": timezone.now(), "badges": PRIORITY_BADGES}
        return render(request, "tasks/_row.html", context)
    messages.success(request, MSG_DONE % {"title": task.title})
    return redirect(_safe_next(request, reverse("tasks:list")))


@login_required
@require_GET
def customer_tasks(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The 待办 block on the customer page (loaded after the page, by htmx)."""
    from guanxi.customers.models import Customer

    visible = Customer.objects.alive().restrict(request.user, "view")
    if not visible.filter(pk=customer_id).exists():
        raise Http404()
    return _customer_block(request, customer_id)


def _customer_block(request: HttpRequest, customer_id: int) -> HttpResponse:
    tasks, total = task_selectors.customer_open_tasks(user=request.user, customer_id=customer_id)
    return render(
        request,
        "tasks/_customer_block.html",
        {
            "tasks": tasks,
            "total": total,
            "customer_id": customer_id,
            "now": timezone.now(),
            "badges": PRIORITY_BADGES,
        },
    )


# --- 系统设置 → 提醒规则 -----------------------------------------------------------------------


class RuleForm(forms.Form):
    enabled = forms.BooleanField(required=False)
    make_task = forms.BooleanField(required=False)
    send_email = forms.BooleanField(required=False)
    days = forms.CharField(required=False, max_length=8)


@login_required
@permission_required("workflow.change_reminderrule", raise_exception=True)
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    from guanxi.workflow.reminders import ensure_reminder_rules

    rows = sorted(ensure_reminder_rules().values(), key=lambda r: r.pk)
    items = [{"rule": r, "spec": RULES.get(r.code), "errors": {}} for r in rows]
    return render(request, "tasks/rules.html", {"items": items})


@login_required
@permission_required("workflow.change_reminderrule", raise_exception=True)
@require_POST
def rule_update(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(ReminderRule, pk=pk)
    form = RuleForm(request.POST)
    form.is_valid()  # every field is optional: the service checks the days
    saved = save_with_form(
        request,
        form,
        partial(reminder_services.reminder_rule_update, actor=request.user, rule=rule),
    )
    if saved is not None:
        messages.success(request, MSG_RULE_SAVED % {"name": saved.name})
        return redirect(reverse("tasks:rules"))
    rows = ReminderRule.objects.order_by("pk")
    items = [
        {
            "rule": r,
            "spec": RULES.get(r.code),
            "errors": form.errors if r.pk == rule.pk else {},
            "non_field": form.non_field_errors() if r.pk == rule.pk else [],
            "posted": form.data if r.pk == rule.pk else None,
        }
        for r in rows
    ]
    return render(request, "tasks/rules.html", {"items": items}, status=422)

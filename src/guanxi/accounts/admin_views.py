"""系统设置 → 用户管理. Thin: reads through accounts.selectors, writes through
accounts.services; pages only turn requests into calls and results into HTML.

Pages are hidden (403) from users without the permission; the services check it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.accounts import selectors, services
from guanxi.accounts.admin_forms import DisableForm, LockForm, UserFilterForm, UserForm
from guanxi.accounts.models import User
from guanxi.accounts.user_filters import clean_ordering
from guanxi.audit.actions import action_label
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound, error_text
from guanxi.core.list_pages import page_or_first, render_list

PAGE_SIZE = 20
TABLE_TARGET = "user-table"
MSG_CREATED = _("用户“%(name)s”已创建")
MSG_SAVED = _("用户信息已保存")
MSG_LOCKED = _("用户“%(name)s”已锁定，其登录会话和 API 令牌已失效")
MSG_UNLOCKED = _("用户“%(name)s”已解锁")
MSG_DISABLED = _("用户“%(name)s”已禁用，其登录会话和 API 令牌已失效")
MSG_ENABLED = _("用户“%(name)s”已启用")
MSG_DELETED = _("用户“%(name)s”已删除，历史记录保留，用户名不可再使用")
MSG_SESSIONS_ENDED = _("已结束用户“%(name)s”的全部会话和 API 令牌（共 %(count)s 个）")


# --- helpers shared by the organisation pages -------------------------------------------


def guard(request: HttpRequest, perm: str) -> None:
    """Hide pages the user could never use (the service still decides every write)."""
    if not request.user.has_perm(perm):
        raise HttpForbidden()


def meta(request: HttpRequest) -> RequestMeta:
    return RequestMeta.from_request(request)


def attach_errors(form: Any, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Each service message under its field; unknown fields at the top of the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, field_messages in exc.message_dict.items():
        name = (aliases or {}).get(field, field)
        form.add_error(name if name in form.fields else None, field_messages)


def run(form: Any, call: Any, aliases: dict[str, str] | None = None) -> Any:
    """Call a service; put validation errors and refusals on the form. None on failure."""
    try:
        return call()
    except ValidationError as exc:
        attach_errors(form, exc, aliases)
    except NotFound as exc:
        raise Http404() from exc
    except DomainError as exc:
        field = (exc.extra.get("matched_on") or [None])[0]
        form.add_error(field if field in form.fields else None, error_text(exc))
    return None


def run_action(request: HttpRequest, call: Any) -> tuple[bool, Any]:
    """A one-click action (POST): a refusal becomes an error message. (ok, result)."""
    try:
        return True, call()
    except NotFound as exc:
        raise Http404() from exc
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except DomainError as exc:
        messages.error(request, error_text(exc))
    return False, None


def get_or_404(getter: Callable[..., Any], request: HttpRequest, pk: int) -> Any:
    """One organisation object through its selector; unknown ids are the page's 404."""
    try:
        return getter(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc


def confirm_delete(
    request: HttpRequest,
    *,
    title: Any,
    text: Any,
    back: str,
    call: Callable[[], Any],
    done: str,
) -> HttpResponse:
    """GET asks on the confirm page; POST runs ``call`` (a refusal becomes an error message)
    and goes back to the list ``back`` either way."""
    if request.method == "GET":
        context = {"title": title, "text": text, "button": "btn-danger", "cancel_url": back}
        return render(request, "accounts/admin/confirm.html", context)
    ok, _result = run_action(request, call)
    if ok:
        messages.success(request, done)
    return redirect(back)


def _user(request: HttpRequest, pk: int) -> User:
    return get_or_404(selectors.user_get, request, pk)


# --- list -------------------------------------------------------------------------------


@login_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    """Filters (department incl. sub-departments, status, role, search) and keyset pages."""
    guard(request, "accounts.view_user")
    actor, params = request.user, request.GET
    page = page_or_first(request, selectors.user_list, actor=actor, params=params, limit=PAGE_SIZE)
    count = selectors.user_count(actor=actor, params=params)
    rows = [{"user": u, **selectors.user_personal_values(actor, u)} for u in page.items]
    context = {
        "rows": rows,
        "page": page,
        "count": count,
        "count_capped": count > selectors.COUNT_CAP,
        "cap": selectors.COUNT_CAP,
        "ordering": clean_ordering(params.get("ordering")),
        "table_target": f"#{TABLE_TARGET}",
    }
    return render_list(
        request,
        context,
        target=TABLE_TARGET,
        table_template="accounts/admin/_user_table.html",
        page_template="accounts/admin/users.html",
        page_extras=lambda: {"form": UserFilterForm(params), "export_query": params.urlencode()},
    )


# --- detail -----------------------------------------------------------------------------


@login_required
@require_GET
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    guard(request, "accounts.view_user")
    user = _user(request, pk)
    actor = request.user
    context = {
        "subject": user,
        "personal": selectors.user_personal_values(actor, user),
        "sessions": selectors.sessions_of(actor=actor, user=user),
        "history": [
            (e, action_label(e.action)) for e in selectors.user_history(actor=actor, user=user)
        ],
        "can_change": actor.has_perm("accounts.change_user") and user.status != "deleted",
        "can_delete": actor.has_perm("accounts.delete_user") and user.status != "deleted",
        "is_self": actor.pk == user.pk,
    }
    return render(request, "accounts/admin/user_detail.html", context)


# --- create / edit ----------------------------------------------------------------------


def _form_page(request: HttpRequest, form: UserForm, subject: User | None) -> HttpResponse:
    return render(
        request,
        "accounts/admin/user_form.html",
        {"form": form, "subject": subject},
        status=422 if form.is_bound and form.errors else 200,
    )


def password_page(
    request: HttpRequest, subject: User, password: str, *, created: bool
) -> HttpResponse:
    """The temporary password, shown once: never stored, never cached by the browser."""
    response = render(
        request,
        "accounts/admin/password_shown.html",
        {"subject": subject, "password": password, "created": created},
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    guard(request, "accounts.add_user")
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["password"] or services.temporary_password()
        generated = not form.cleaned_data["password"]
        user = run(
            form,
            lambda: services.user_create(
                actor=request.user,
                data=form.service_data(),
                password=password,
                roles=form.cleaned_data["roles"],
                must_change_password=generated or form.cleaned_data["must_change_password"],
                meta=meta(request),
            ),
        )
        if user is not None:
            if generated:
                return password_page(request, user, password, created=True)
            messages.success(request, MSG_CREATED % {"name": user.display_name})
            return redirect("org:user_detail", pk=user.pk)
    return _form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    guard(request, "accounts.change_user")
    user = _user(request, pk)
    initial = {f: getattr(user, f) for f in UserForm.base_fields if hasattr(user, f)}
    initial["roles"] = [r.code for r in user.roles.all()]
    form = UserForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        data.pop("username", None)
        data["roles"] = form.cleaned_data["roles"]
        saved = run(
            form,
            lambda: services.user_update(
                actor=request.user, user=user, data=data, meta=meta(request)
            ),
        )
        if saved is not None:
            messages.success(request, MSG_SAVED)
            return redirect("org:user_detail", pk=user.pk)
    return _form_page(request, form, user)


# --- status actions ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def user_lock(request: HttpRequest, pk: int) -> HttpResponse:
    guard(request, "accounts.change_user")
    user = _user(request, pk)
    form = LockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = run(
            form,
            lambda: services.user_lock(
                actor=request.user,
                user=user,
                until=form.cleaned_data["until"],
                reason=form.cleaned_data["reason"],
                meta=meta(request),
            ),
            aliases={"locked_until": "until", "lock_reason": "reason"},
        )
        if done is not None:
            messages.success(request, MSG_LOCKED % {"name": user.display_name})
            return redirect("org:user_detail", pk=user.pk)
    return render(
        request,
        "accounts/admin/user_lock.html",
        {"form": form, "subject": user},
        status=422 if form.is_bound and form.errors else 200,
    )


# action: (permission, confirm title, confirm text, button class, service, message)
ACTIONS: dict[str, tuple[str, Any, Any, str, Any, Any]] = {
    "unlock": (
        "accounts.change_user",
        _("解锁用户"),
        _("解锁后该用户可以立即登录。"),
        "btn-primary",
        services.user_unlock,
        MSG_UNLOCKED,
    ),
    "enable": (
        "accounts.change_user",
        _("启用用户"),
        _("启用后该用户可以重新登录。"),
        "btn-primary",
        services.user_enable,
        MSG_ENABLED,
    ),
    "delete": (
        "accounts.delete_user",
        _("删除用户"),
        _("删除后该用户不能再登录，其会话和 API 令牌立即失效；历史记录保留，用户名不可再使用。"),
        "btn-danger",
        services.user_soft_delete,
        MSG_DELETED,
    ),
    "end_sessions": (
        "accounts.change_user",
        _("结束全部会话"),
        _("该用户在所有设备上的登录会话和全部 API 令牌将立即失效。"),
        "btn-warning",
        services.user_end_sessions,
        MSG_SESSIONS_ENDED,
    ),
}


@login_required
@require_http_methods(["GET", "POST"])
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Confirm (GET) and run (POST) one of the one-click actions."""
    if action not in ACTIONS:
        raise Http404()
    perm, title, text, button, service, success = ACTIONS[action]
    guard(request, perm)
    user = _user(request, pk)
    if request.method == "GET":
        return render(
            request,
            "accounts/admin/confirm.html",
            {"subject": user, "title": title, "text": text, "button": button},
        )
    ok, result = run_action(
        request, lambda: service(actor=request.user, user=user, meta=meta(request))
    )
    if ok:
        count = result if isinstance(result, int) else 0
        messages.success(request, success % {"name": user.display_name, "count": count})
        if action == "delete":
            return redirect("org:users")
    return redirect("org:user_detail", pk=user.pk)


@login_required
@require_http_methods(["GET", "POST"])
def user_disable(request: HttpRequest, pk: int) -> HttpResponse:
    guard(request, "accounts.change_user")
    user = _user(request, pk)
    form = DisableForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = run(
            form,
            lambda: services.user_disable(
                actor=request.user,
                user=user,
                reason=form.cleaned_data["reason"],
                meta=meta(request),
            ),
        )
        if done is not None:
            messages.success(request, MSG_DISABLED % {"name": user.display_name})
            return redirect("org:user_detail", pk=user.pk)
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect("org:user_detail", pk=user.pk)
    return render(
        request,
        "accounts/admin/confirm.html",
        {
            "subject": user,
            "title": _("禁用用户"),
            "text": _("禁用后该用户不能登录，其会话和 API 令牌立即失效。"),
            "button": "btn-danger",
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST sets a temporary password and shows it once."""
    guard(request, "accounts.change_user")
    user = _user(request, pk)
    if request.method == "GET":
        return render(
            request,
            "accounts/admin/confirm.html",
            {
                "subject": user,
                "title": _("重置密码"),
                "text": _(
                    "将生成一个临时密码并只显示一次；该用户的会话和 API 令牌立即失效，"
                    "下次登录须修改密码。"
                ),
                "button": "btn-warning",
            },
        )
    ok, password = run_action(
        request,
        lambda: services.user_reset_password(actor=request.user, user=user, meta=meta(request)),
    )
    if not ok:
        return redirect("org:user_detail", pk=user.pk)
    return password_page(request, user, password, created=False)

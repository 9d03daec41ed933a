"""Sign-in, sign-out and the signed-in user's own security pages (thin: the rules live in
``signin``, ``login_flow``, ``password_policy``, ``totp`` and ``session_policy``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from guanxi.accounts import login_flow, password_policy, session_policy, signin, totp
from guanxi.accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    SecondFactorForm,
    TotpConfirmForm,
    TotpDisableForm,
    captcha_needed,
)
from guanxi.audit.services import RequestMeta, audit_record
from guanxi.core.errors import DomainError, error_text
from guanxi.core.masking import mask

MSG_PENDING_EXPIRED = _("验证已超时，请重新输入用户名和密码")
MSG_SMS_SENT = _("验证码已发送至 %(mobile)s，5 分钟内有效")
MSG_PASSWORD_CHANGED = _("密码已修改，其他设备上的会话和 API 令牌已失效")
MSG_2FA_ENABLED = _("双因素认证已启用，下次登录时需要输入动态验证码")
MSG_2FA_DISABLED = _("双因素认证已停用")
MSG_SESSION_ENDED = _("已退出该会话")
MSG_SESSION_GONE = _("该会话不存在或已结束")
MSG_OTHERS_ENDED = _("已退出其他 %(count)d 个会话")


class LoginView(auth_views.LoginView):
    """Step one: username, password (and captcha by setting); then the second step or in."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        user = form.get_user()
        meta = RequestMeta.from_request(self.request)
        redirect_to = self.get_success_url()
        try:
            if signin.second_factor_methods(user):
                login_flow.check_limit(self.request, user, meta)
                login_flow.start_pending(self.request, user, redirect_to=redirect_to)
                return redirect("login_verify")
            target = login_flow.finish(
                self.request,
                user,
                backend=getattr(user, "backend", ""),
                method="password",
                redirect_to=redirect_to,
            )
        except DomainError as exc:
            form.add_error(None, error_text(exc))
            return self.form_invalid(form)
        return HttpResponseRedirect(target)

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        if form.is_bound and form.error_code and "captcha" not in form.fields:
            typed = str(form.data.get("username", "")).strip()
            if captcha_needed(username=typed, ip=form.meta.ip):
                form.add_captcha()
        return super().form_invalid(form)


class LoginVerifyView(View):
    """Step two: the authenticator code, or an SMS code when that is allowed."""

    template_name = "accounts/login_verify.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        found = login_flow.pending(request)
        methods = signin.second_factor_methods(found[0]) if found else []
        if not methods:
            # Timed out, or the device went away meanwhile: start again from the password.
            login_flow.clear_pending(request)
            messages.warning(request, MSG_PENDING_EXPIRED)
            return redirect("login")
        self.user, self.pending = found
        self.methods = methods
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, form: SecondFactorForm, status: int = 200) -> HttpResponse:
        context = {"form": form, "methods": self.methods, "pending_user": self.user}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(SecondFactorForm(initial={"method": self.methods[0]}))

    def post(self, request: HttpRequest) -> HttpResponse:
        meta = RequestMeta.from_request(request)
        if request.POST.get("action") == "send_sms" and "sms" in self.methods:
            return self.send_sms(meta)
        form = SecondFactorForm(request.POST)
        if not form.is_valid():
            return self.render_form(form)
        method = form.cleaned_data.get("method") or self.methods[0]
        try:
            device = signin.verify_second_factor(
                user=self.user,
                method=method,
                code=form.cleaned_data["code"].strip(),
                channel=signin.WEB,
                meta=meta,
            )
            target = login_flow.finish(
                request,
                self.user,
                backend=self.pending.get("backend", ""),
                method=method,
                redirect_to=self.pending.get("next") or "/",
                device=device if method == "totp" else None,
            )
        except DomainError as exc:
            if exc.code == signin.BAD_CODE:
                form.add_error("code", error_text(exc))
                return self.render_form(form)
            login_flow.clear_pending(request)
            messages.error(request, error_text(exc))
            return redirect("login")
        return HttpResponseRedirect(target)

    def send_sms(self, meta: RequestMeta) -> HttpResponse:
        form = SecondFactorForm(initial={"method": "sms"})
        try:
            signin.send_sms_code(user=self.user, meta=meta)
        except DomainError as exc:
            form.add_error(None, error_text(exc))
            return self.render_form(form)
        messages.info(self.request, MSG_SMS_SENT % {"mobile": mask("mobile", self.user.mobile)})
        return self.render_form(form)


class LogoutView(auth_views.LogoutView):
    """GET asks "是否确认退出？"; only the POST of that confirmation signs the user out."""

    http_method_names = ["get", "post", "options"]
    template_name = "accounts/logout_confirm.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("login")
        return self.render_to_response(self.get_context_data())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            audit_record(
                actor=user, action="auth.logout", obj=user, meta=RequestMeta.from_request(request)
            )
        return super().post(request, *args, **kwargs)


class PasswordChangeView(LoginRequiredMixin, View):
    """修改密码 (also the forced change after sign-in when expired or required)."""

    template_name = "accounts/password_change.html"

    def render_form(self, form: PasswordChangeForm) -> HttpResponse:
        gates = self.request.session.get(session_policy.GATES_KEY) or []
        context = {
            "form": form,
            "forced": "password" in gates,
            "expired": password_policy.password_expired(self.request.user),
            "help_texts": form.help_texts(),
        }
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(PasswordChangeForm(request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PasswordChangeForm(request.user, request.POST)
        if not form.is_valid():
            return self.render_form(form)
        try:
            password_policy.password_change(
                actor=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                meta=RequestMeta.from_request(request),
                keep_session_key=request.session.session_key,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.render_form(form)
        update_session_auth_hash(request, request.user)
        messages.success(request, MSG_PASSWORD_CHANGED)
        return redirect(login_flow.pass_gate(request, "password") or "password_change")


class TwoFactorView(LoginRequiredMixin, View):
    """双因素认证: enrol (QR code, secret, confirm with a code) or disable (with password)."""

    template_name = "accounts/two_factor.html"

    def render_page(self, **forms: Any) -> HttpResponse:
        user = self.request.user
        state = totp.describe(user)
        context: dict[str, Any] = {
            **state,
            "forced": "2fa" in (self.request.session.get(session_policy.GATES_KEY) or []),
            "confirm_form": forms.get("confirm_form") or TotpConfirmForm(),
            "disable_form": forms.get("disable_form") or TotpDisableForm(),
        }
        if not state["enabled"]:
            device = totp.pending_device(user)
            context["qr_svg"] = totp.qr_svg(device)
            context["secret"] = totp.secret_text(device)
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page()

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("action") == "disable":
            return self.disable(request)
        form = TotpConfirmForm(request.POST)
        if not form.is_valid():
            return self.render_page(confirm_form=form)
        meta = RequestMeta.from_request(request)
        device = totp.pending_device(request.user)
        if not totp.totp_enable(
            user=request.user, device=device, code=form.cleaned_data["code"].strip(), meta=meta
        ):
            form.add_error("code", f"{totp.MSG_BAD_CODE}（{signin.BAD_CODE}）")
            return self.render_page(confirm_form=form)
        messages.success(request, MSG_2FA_ENABLED)
        return redirect(login_flow.pass_gate(request, "2fa") or "two_factor")

    def disable(self, request: HttpRequest) -> HttpResponse:
        form = TotpDisableForm(request.POST)
        if form.is_valid():
            if totp.role_requires_2fa(request.user):
                form.add_error(None, totp.MSG_ROLE_REQUIRES)
            elif not request.user.check_password(form.cleaned_data["password"]):
                form.add_error("password", totp.MSG_BAD_PASSWORD)
        if not form.is_valid():
            audit_record(
                actor=request.user,
                action="auth.2fa_disable",
                result="denied",
                obj=request.user,
                error_code="ERR-006",
                meta=RequestMeta.from_request(request),
            )
            return self.render_page(disable_form=form)
        totp.totp_disable(user=request.user, meta=RequestMeta.from_request(request))
        messages.success(request, MSG_2FA_DISABLED)
        return redirect("two_factor")


class SessionsView(LoginRequiredMixin, View):
    """我的会话: the user's live sessions; sign out one or all others."""

    template_name = "accounts/sessions.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = session_policy.session_rows(request.user, request.session.session_key)
        context = {
            "rows": rows,
            "idle_minutes": int(session_policy.idle_timeout().total_seconds() // 60),
            "max_hours": int(session_policy.max_lifetime().total_seconds() // 3600),
            "max_sessions": session_policy.max_sessions(),
        }
        return render(request, self.template_name, context)


class SessionEndView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, session_id: str) -> HttpResponse:
        ended = session_policy.session_end(
            actor=request.user,
            session_id=session_id,
            current_key=request.session.session_key,
            meta=RequestMeta.from_request(request),
        )
        if ended:
            messages.success(request, MSG_SESSION_ENDED)
        else:
            messages.warning(request, MSG_SESSION_GONE)
        return redirect("my_sessions")


class SessionsEndOthersView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        count = session_policy.sessions_end_others(
            actor=request.user,
            current_key=request.session.session_key,
            meta=RequestMeta.from_request(request),
        )
        messages.success(request, MSG_OTHERS_ENDED % {"count": count})
        return redirect("my_sessions")

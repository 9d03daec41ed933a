"""Sign-in and sign-out pages: Django's auth views plus audit entries for every attempt."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from guanxi.accounts.forms import LoginForm
from guanxi.audit.models import AuditResult
from guanxi.audit.services import RequestMeta, audit_record


class LoginView(auth_views.LoginView):
    """The login card; successes and refusals both land in the audit log."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        audit_record(
            actor=user, action="auth.login", obj=user, meta=RequestMeta.from_request(self.request)
        )
        return response

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        if form.error_code:
            # Blank fields are a typing slip, not an attempt: only real refusals are audited.
            audit_record(
                actor=form.refused_user,
                action="auth.login",
                result=AuditResult.DENIED,
                obj=form.refused_user,
                object_type="user",
                error_code=form.error_code,
                params={"username": form.data.get("username", "")[:150]},
                meta=RequestMeta.from_request(self.request),
            )
        return super().form_invalid(form)


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

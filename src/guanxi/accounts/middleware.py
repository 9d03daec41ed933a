"""Per-request session policy for signed-in browser sessions.

Runs after authentication. It reads only the session and the already-loaded user (no extra
queries on the normal path): a session past its idle timeout or lifetime is ended, a user
who became locked or disabled is signed out on the next request, and a user who must change
the password or enrol a second factor sees nothing else until that is done.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from guanxi.accounts import login_flow, session_policy, signin
from guanxi.accounts.status import AccountLocked, ensure_may_sign_in
from guanxi.audit.models import AuditResult
from guanxi.audit.services import RequestMeta, audit_record
from guanxi.core.api_errors import error_body
from guanxi.core.errors import DomainError

ALWAYS_OPEN_PREFIXES = ("/static/", "/i18n/", "/captcha/", "/healthz")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            refused = self.check(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def check(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        reason = session_policy.expiry_reason(session)
        if reason:
            return self.end(request, "auth.session_expired", reason, None)
        try:
            ensure_may_sign_in(request.user)
        except DomainError as exc:
            if isinstance(exc, AccountLocked):
                exc = signin.locked_error(request.user)
            return self.end(request, "auth.session_refused", exc.code, exc)
        gates = session.get(session_policy.GATES_KEY) or []
        if gates:
            response = self.gate(request, gates[0])
            if response is not None:
                return response
        session_policy.touch(session)
        return None

    def end(
        self, request: HttpRequest, action: str, reason: str, error: DomainError | None
    ) -> HttpResponse:
        user = request.user
        audit_record(
            actor=user,
            action=action,
            result=AuditResult.SUCCESS if error is None else AuditResult.DENIED,
            obj=user,
            error_code=error.code if error else "",
            params={"reason": reason},
            meta=RequestMeta.from_request(request),
        )
        logout(request)
        if error is None:
            code = session_policy.SESSION_EXPIRED_CODE
            message = session_policy.expiry_message(reason)
        else:
            code, message = error.code, str(error.message)
        if _is_api(request):
            status = 401 if error is None else error.status
            return JsonResponse(error_body(code, message), status=status)
        messages.warning(request, f"{message}（{code}）")
        return self._redirect(request, reverse("login"))

    def gate(self, request: HttpRequest, gate: str) -> HttpResponse | None:
        target = login_flow.gate_url(gate)
        path = request.path
        if path == target or path == reverse("logout") or path.startswith(ALWAYS_OPEN_PREFIXES):
            return None
        if _is_api(request):
            code, _reason = signin.GATE_REFUSALS[gate]
            return JsonResponse(error_body(code), status=403)
        return self._redirect(request, target)

    @staticmethod
    def _redirect(request: HttpRequest, url: str) -> HttpResponse:
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)

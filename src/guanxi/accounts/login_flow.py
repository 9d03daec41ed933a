"""The web sign-in across requests: the pending second step, then the real ``login``.

Between the password and the second factor the session holds only a pending marker (user
id, backend, time, where to go next); it is not authenticated. ``finish`` applies the
session limit, signs in, stamps the session for the timeouts and sets the gates (forced
password change, forced 2FA enrolment) that the middleware enforces.
"""

from __future__ import annotations

import time
from typing import Any

import django_otp
from django.contrib.auth import login
from django.http import HttpRequest
from django.urls import reverse

from guanxi.accounts import lockout, session_policy, signin
from guanxi.accounts.models import User
from guanxi.audit.services import RequestMeta

PENDING_KEY = "_gx_pending_login"
PENDING_SECONDS = 300
AFTER_GATES_KEY = "_gx_after_gates"
GATE_URL_NAMES = {signin.PASSWORD_GATE: "password_change", signin.ENROL_GATE: "two_factor"}


def gate_url(gate: str) -> str:
    """The page that lifts ``gate`` (the only page open while it stands)."""
    return reverse(GATE_URL_NAMES[gate])


def start_pending(request: HttpRequest, user: User, *, redirect_to: str) -> None:
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "uid": user.pk,
        "backend": getattr(user, "backend", ""),
        "at": int(time.time()),
        "next": redirect_to,
    }


def pending(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    """The user waiting for the second step, unless it timed out or vanished."""
    data = request.session.get(PENDING_KEY)
    if not data or int(time.time()) - int(data.get("at", 0)) > PENDING_SECONDS:
        clear_pending(request)
        return None
    user = User.objects.filter(pk=data.get("uid")).first()
    if user is None:
        clear_pending(request)
        return None
    return user, data


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def check_limit(request: HttpRequest, user: User, meta: RequestMeta) -> None:
    """Refuse (and record) a sign-in over the concurrent-session limit ("refuse" policy)."""
    try:
        session_policy.check_limit(user, current_key=request.session.session_key)
    except session_policy.SessionLimitReached as exc:
        signin.refuse_user(
            user, code=exc.code, reason=lockout.SESSION_LIMIT, channel=signin.WEB, meta=meta
        )
        raise


def finish(
    request: HttpRequest,
    user: User,
    *,
    backend: str,
    method: str,
    redirect_to: str,
    device: Any = None,
) -> str:
    """Sign in for real; returns where to go (a gate page first when one applies)."""
    meta = RequestMeta.from_request(request)
    check_limit(request, user, meta)
    clear_pending(request)
    login(request, user, backend=backend or None)
    if device is not None:
        django_otp.login(request, device)
    session_policy.stamp(request.session)
    # Whoever got here by a second factor has one; a password-only sign-in had none to give.
    gates = signin.gates(user, methods=[] if method == "password" else [method])
    request.session[session_policy.GATES_KEY] = gates
    signin.record_success(user=user, channel=signin.WEB, method=method, meta=meta)
    session_policy.end_excess(user, current_key=request.session.session_key, meta=meta)
    if gates:
        request.session[AFTER_GATES_KEY] = redirect_to
        return gate_url(gates[0])
    return redirect_to


def pass_gate(request: HttpRequest, gate: str) -> str | None:
    """Drop a passed gate; returns the next page (another gate or the original target)."""
    gates = [g for g in request.session.get(session_policy.GATES_KEY) or [] if g != gate]
    request.session[session_policy.GATES_KEY] = gates
    if gates:
        return gate_url(gates[0])
    return request.session.pop(AFTER_GATES_KEY, None)

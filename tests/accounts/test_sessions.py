"""Sessions over real HTTP: idle timeout, absolute lifetime, the concurrent limit (both
policies), 我的会话 with sign-out elsewhere, an administrator ending a user's sessions, and
disabling or locking a user cutting both browser sessions and API tokens."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from qsessions.models import Session

from guanxi.accounts import session_policy
from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import ApiToken, User
from guanxi.accounts.services import user_end_sessions
from guanxi.audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
REAL_NOW = timezone.now

TOKEN_URL = "/api/v1/auth/token"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def browser(user_agent: str = CHROME) -> Client:
    return Client(HTTP_USER_AGENT=user_agent)


def web_login(client: Client, user: User) -> Client:
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def signed_in(client: Client) -> bool:
    """Whether the client's session still opens a page (and is not bounced to login)."""
    return client.get(reverse("customers:list")).status_code == 200


def request_token(user: User):
    """Ask the token endpoint for a token with the user's right password."""
    return Client().post(
        TOKEN_URL,
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )


def token_for(user: User) -> str:
    response = request_token(user)
    assert response.status_code == 200
    return response.json()["token"]


def signed_in_with_token_and_admin(org) -> tuple[User, Client, str, Client]:
    """rep_a signed in on a browser and holding a token, and a signed-in administrator."""
    user = org["rep_a"]
    return user, web_login(browser(), user), token_for(user), web_login(browser(), org["admin"])


def api_me(token: str):
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def shift_clock(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """Make ``timezone.now`` (as every module calls it) run ``delta`` ahead of real time."""
    monkeypatch.setattr(timezone, "now", lambda: REAL_NOW() + delta)


def flash(client: Client) -> str:
    """The login page's text (tags removed), where a signed-out user reads why."""
    return re.sub(r"<[^>]+>", "", client.get(reverse("login")).content.decode())


def session_id(client: Client) -> str:
    return session_policy.public_id(client.cookies["sessionid"].value)


# --- timeouts -----------------------------------------------------------------------------


def test_idle_timeout_signs_out_after_the_idle_period(org, monkeypatch):
    user = org["rep_a"]
    client = web_login(browser(), user)
    shift_clock(monkeypatch, timedelta(minutes=29))
    assert signed_in(client)  # activity within the period keeps the session
    shift_clock(monkeypatch, timedelta(minutes=29 + 29))  # 58 min after login, 29 idle
    assert signed_in(client)
    shift_clock(monkeypatch, timedelta(minutes=58 + 31))
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "长时间未操作，会话已超时，请重新登录（ERR-022）" in flash(client)
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action="auth.session_expired").get()
    assert entry.actor_id == user.pk and entry.params["reason"] == "idle"


def test_idle_timeout_is_a_setting(org, settings):
    settings.GUANXI_SESSION_IDLE_MINUTES = 5
    client = web_login(browser(), org["rep_a"])
    session = client.session
    session[session_policy.SEEN_KEY] = int(timezone.now().timestamp()) - 6 * 60
    session.save()
    assert not signed_in(client)


def test_idle_session_on_the_api_answers_401(org, monkeypatch):
    client = web_login(browser(), org["rep_a"])
    assert client.get("/api/v1/me").status_code == 200
    shift_clock(monkeypatch, timedelta(minutes=31))
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["code"] == "ERR-022"


def test_absolute_lifetime_ends_an_active_session(org, settings, monkeypatch):
    settings.GUANXI_SESSION_MAX_HOURS = 1
    client = web_login(browser(), org["rep_a"])
    for minutes in (20, 40, 59):
        shift_clock(monkeypatch, timedelta(minutes=minutes))
        assert signed_in(client)
    shift_clock(monkeypatch, timedelta(minutes=61))
    assert not signed_in(client)
    assert "会话已超过最长有效期（1 小时），请重新登录（ERR-022）" in flash(client)
    entry = AuditEntry.objects.filter(action="auth.session_expired").get()
    assert entry.params["reason"] == "absolute"


# --- concurrent limit ---------------------------------------------------------------------


def test_limit_refuse_policy_refuses_the_new_sign_in(org, settings):
    settings.GUANXI_MAX_SESSIONS = 2
    settings.GUANXI_SESSION_LIMIT_POLICY = "refuse"
    user = org["rep_a"]
    first, second = web_login(browser(), user), web_login(browser(FIREFOX), user)
    third = browser()
    response = third.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    html = response.content.decode()
    assert response.status_code == 200 and "同时在线的会话已达上限（2 个）" in html
    assert "ERR-021" in html and "_auth_user_id" not in third.session
    assert signed_in(first) and signed_in(second)
    entry = AuditEntry.objects.filter(action="auth.login", result="denied").get()
    assert entry.error_code == "ERR-021" and entry.params["reason"] == "session_limit"

    first.post(reverse("logout"))
    web_login(third, user)
    assert signed_in(third)


def test_limit_refuse_policy_ignores_idle_sessions(org, settings):
    settings.GUANXI_MAX_SESSIONS = 1
    settings.GUANXI_SESSION_LIMIT_POLICY = "refuse"
    user = org["rep_a"]
    web_login(browser(), user)
    Session.objects.filter(user=user).update(updated_at=timezone.now() - timedelta(minutes=31))
    assert signed_in(web_login(browser(), user))


def test_limit_end_oldest_policy_ends_the_oldest(org, settings):
    settings.GUANXI_MAX_SESSIONS = 2
    settings.GUANXI_SESSION_LIMIT_POLICY = "end_oldest"
    user = org["rep_a"]
    first = web_login(browser(), user)
    second = web_login(browser(FIREFOX), user)
    third = web_login(browser(), user)
    assert not signed_in(first)
    assert signed_in(second) and signed_in(third)
    assert Session.objects.filter(user=user).count() == 2
    entry = AuditEntry.objects.filter(action="auth.session_end").get()
    assert entry.params["reason"] == "limit" and entry.params["ended"] == 1


def test_limit_zero_means_unlimited(org, settings):
    settings.GUANXI_MAX_SESSIONS = 0
    user = org["rep_a"]
    clients = [web_login(browser(), user) for _ in range(4)]
    assert all(signed_in(c) for c in clients)


# --- 我的会话 -----------------------------------------------------------------------------


def test_my_sessions_page_lists_sessions_and_ends_one(org):
    user = org["rep_a"]
    phone, laptop = web_login(browser(FIREFOX), user), web_login(browser(), user)
    response = laptop.get(reverse("my_sessions"))
    html = response.content.decode()
    assert response.status_code == 200 and "我的会话" in html and "当前会话" in html
    assert html.count("data-session=") == 2
    assert f'data-session="{session_id(laptop)}" class="table-primary" data-current="1"' in html
    assert "Firefox" in html and "Chrome" in html
    assert "退出其他会话" in html

    ended = laptop.post(reverse("session_end", args=[session_id(phone)]), follow=True)
    assert "已退出该会话" in ended.content.decode()
    assert not signed_in(phone) and signed_in(laptop)
    # The current session cannot be ended from the list (that is 退出登录).
    again = laptop.post(reverse("session_end", args=[session_id(laptop)]), follow=True)
    assert "该会话不存在或已结束" in again.content.decode() and signed_in(laptop)


def test_sign_out_elsewhere_ends_all_other_sessions(org):
    user = org["rep_a"]
    others = [web_login(browser(FIREFOX), user), web_login(browser(), user)]
    mine = web_login(browser(), user)
    response = mine.post(reverse("sessions_end_others"), follow=True)
    assert "已退出其他 2 个会话" in response.content.decode()
    assert not any(signed_in(c) for c in others)
    assert signed_in(mine)
    entry = AuditEntry.objects.filter(action="auth.session_end").get()
    assert entry.actor_id == user.pk and entry.params == {
        "reason": "others",
        "ended": 2,
        "sessions": entry.params["sessions"],
    }


def test_cannot_end_someone_elses_session(org):
    victim = web_login(browser(), org["rep_a"])
    other = web_login(browser(), org["rep_b"])
    response = other.post(reverse("session_end", args=[session_id(victim)]), follow=True)
    assert "该会话不存在或已结束" in response.content.decode()
    assert signed_in(victim)


# --- administrators, disable, lock --------------------------------------------------------


def test_admin_ends_a_users_sessions_and_tokens(org):
    user, victim, token, admin_client = signed_in_with_token_and_admin(org)
    page = admin_client.get(reverse("org:user_action", args=[user.pk, "end_sessions"]))
    assert page.status_code == 200 and "结束全部会话" in page.content.decode()
    admin_client.post(reverse("org:user_action", args=[user.pk, "end_sessions"]))
    assert not signed_in(victim)
    assert api_me(token).status_code == 401
    assert signed_in(admin_client)
    entry = AuditEntry.objects.filter(action="user.end_sessions").get()
    assert entry.actor_id == org["admin"].pk and entry.params["tokens_revoked"] == 1
    assert entry.params["sessions_ended"] == 1


def test_non_admin_cannot_end_another_users_sessions(org):
    user = org["rep_a"]
    victim = web_login(browser(), user)
    intruder = web_login(browser(), org["rep_b"])
    response = intruder.post(reverse("org:user_action", args=[user.pk, "end_sessions"]))
    assert response.status_code == 403
    assert signed_in(victim)
    with pytest.raises(Exception):  # noqa: B017 — the service refuses too
        user_end_sessions(actor=org["rep_b"], user=user)
    assert signed_in(victim)


def test_disabling_a_user_ends_sessions_and_revokes_tokens(org):
    user, victim, token, admin_client = signed_in_with_token_and_admin(org)
    admin_client.post(reverse("org:user_disable", args=[user.pk]), {"reason": "离职"})
    user.refresh_from_db()
    assert user.status == UserStatus.DISABLED
    assert not Session.objects.filter(user=user).exists()
    assert not signed_in(victim)
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 0
    # API.md: the holder of a token of a disabled user is told so (the token is revoked too).
    response = api_me(token)
    assert response.status_code == 403 and response.json()["code"] == "ERR-004"
    refused = request_token(user)
    assert refused.status_code == 403 and refused.json()["code"] == "ERR-004"
    entry = AuditEntry.objects.filter(action="user.disable").get()
    assert entry.params["sessions_ended"] == 1 and entry.params["tokens_revoked"] == 1


def test_admin_lock_ends_sessions_and_revokes_tokens(org):
    user, victim, token, admin_client = signed_in_with_token_and_admin(org)
    until = timezone.localtime(timezone.now() + timedelta(hours=2))
    admin_client.post(
        reverse("org:user_lock", args=[user.pk]),
        {"until": until.strftime("%Y-%m-%dT%H:%M"), "reason": "安全检查"},
    )
    user.refresh_from_db()
    assert user.status == UserStatus.LOCKED
    assert not signed_in(victim)
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 0
    response = api_me(token)
    assert response.status_code == 403 and response.json()["code"] == "ERR-003"
    refused = request_token(user)
    assert refused.status_code == 403 and refused.json()["code"] == "ERR-003"
    # The revocation outlives the lock: after an unlock the old token stays dead.
    admin_client.post(reverse("org:user_action", args=[user.pk, "unlock"]))
    response = api_me(token)
    assert response.status_code == 401 and response.json()["code"] == "ERR-001"
    assert api_me(token_for(user)).status_code == 200


def test_status_change_behind_the_services_back_still_signs_out(org):
    """The middleware and the token check read the status on every request."""
    user = org["rep_a"]
    client = web_login(browser(), user)
    token = token_for(user)
    User.objects.filter(pk=user.pk).update(status=UserStatus.DISABLED)
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "账号已禁用（ERR-004）" in flash(client)
    response = api_me(token)
    assert response.status_code == 403 and response.json()["code"] == "ERR-004"
    entry = AuditEntry.objects.filter(action="auth.session_refused").get()
    assert entry.error_code == "ERR-004"


# --- API tokens ---------------------------------------------------------------------------


def test_api_tokens_are_hashed_expire_and_can_be_revoked(org):
    from guanxi.accounts.tokens import token_revoke

    user = org["rep_a"]
    raw = token_for(user)
    stored = ApiToken.objects.get(user=user)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (stored.key_hash, stored.prefix) and stored.prefix == raw[:8]
    assert api_me(raw).status_code == 200

    ApiToken.objects.filter(pk=stored.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_me(raw).status_code == 401

    second = token_for(user)
    assert api_me(second).status_code == 200
    token_revoke(token=ApiToken.objects.get(user=user, prefix=second[:8]))
    assert api_me(second).status_code == 401


def test_token_endpoint_answers_expires_at_from_the_setting(org, settings):
    settings.API_TOKEN_TTL_HOURS = 2
    body = request_token(org["rep_a"]).json()
    token = ApiToken.objects.get(user=org["rep_a"])
    lifetime = token.expires_at - token.created_at
    assert abs(lifetime - timedelta(hours=2)) < timedelta(seconds=5)
    assert body["expires_at"].startswith(timezone.localtime(token.expires_at).strftime("%Y-%m-%d"))

"""Login hardening over real HTTP: captcha, lockout (web and API), TOTP, SMS codes, password
policy. Each test drives the pages or the token endpoint and then checks the rows and the
audit log, so a rule that only "looks" enforced in one channel fails here."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from captcha.conf import settings as captcha_settings
from captcha.models import CaptchaStore
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanxi.accounts import lockout, login_flow, sms
from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import LoginAttempt, PasswordHistory, Role, User
from guanxi.accounts.services import user_unlock
from guanxi.audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
REAL_NOW = timezone.now

TOKEN_URL = "/api/v1/auth/token"
NEW_PASSWORD = "Neu-Passwort-2027"


# --- helpers ------------------------------------------------------------------------------


def captcha_answer(html: str) -> dict[str, str]:
    """Solve the captcha shown in ``html`` the way a person would: read the challenge the
    server stored for that hashkey (empty when the page shows no captcha)."""
    found = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html)
    if not found:
        return {}
    store = CaptchaStore.objects.get(hashkey=found.group(1))
    return {"captcha_0": store.hashkey, "captcha_1": store.response}


def web_login(client: Client, username: str, password: str = PASSWORD, **extra: str):
    """Open the login page, solve its captcha if it shows one, and post the form."""
    page = client.get(reverse("login")).content.decode()
    data = {"username": username, "password": password, **captcha_answer(page), **extra}
    return client.post(reverse("login"), data)


def api_token(client: Client, username: str, password: str = PASSWORD, **extra: str):
    return client.post(
        TOKEN_URL,
        {"username": username, "password": password, **extra},
        content_type="application/json",
    )


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def shift_clock(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """Make ``timezone.now`` (as every module calls it) run ``delta`` ahead of real time."""
    monkeypatch.setattr(timezone, "now", lambda: REAL_NOW() + delta)


def audit(action: str, **filters: Any):
    return AuditEntry.objects.filter(action=action, **filters).order_by("id")


def until_text(user: User) -> str:
    user.refresh_from_db()
    return timezone.localtime(user.locked_until).strftime("%Y-%m-%d %H:%M")


def confirmed_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code_for(device: TOTPDevice, *, offset: int = 0) -> str:
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset)
    return f"{value:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    valid = {code_for(device, offset=o) for o in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


# --- pages --------------------------------------------------------------------------------


def test_login_page_renders_in_chinese(org):
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "登录" in html and "用户名" in html and "密码" in html


# --- captcha ------------------------------------------------------------------------------


def test_captcha_always_mode_shows_a_working_image(org, settings):
    settings.GUANXI_LOGIN_CAPTCHA = "always"
    client = Client()
    html = client.get(reverse("login")).content.decode()
    assert 'data-testid="login-captcha"' in html and "图形验证码" in html
    image = re.search(r'<img src="([^"]+)"[^>]*class="gx-captcha', html)
    assert image is not None
    response = client.get(image.group(1))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    # The right answer passes, and the user is in.
    assert web_login(client, org["rep_a"].username).status_code == 302
    assert signed_in(client)


def test_captcha_always_mode_refuses_a_missing_answer(org, settings):
    settings.GUANXI_LOGIN_CAPTCHA = "always"
    client = Client()
    response = client.post(
        reverse("login"), {"username": org["rep_a"].username, "password": PASSWORD}
    )
    assert response.status_code == 200 and not signed_in(client)
    assert "请输入图形验证码" in response.content.decode()


def test_captcha_after_failure_mode_appears_only_after_a_failure(org, settings):
    settings.GUANXI_LOGIN_CAPTCHA = "after_failure"
    client = Client()
    assert 'data-testid="login-captcha"' not in client.get(reverse("login")).content.decode()
    response = web_login(client, org["rep_a"].username, "wrong-Password-1")
    html = response.content.decode()
    assert "ERR-015" in html
    assert 'data-testid="login-captcha"' in html  # the re-rendered form asks for it now
    assert 'data-testid="login-captcha"' in client.get(reverse("login")).content.decode()
    # Without an answer the right password is not even checked.
    refused = client.post(
        reverse("login"), {"username": org["rep_a"].username, "password": PASSWORD}
    )
    assert not signed_in(client) and "ERR-018" in refused.content.decode()
    # With the answer it is.
    assert web_login(client, org["rep_a"].username).status_code == 302 and signed_in(client)


def test_captcha_off_mode_never_shows_it(org, settings):
    settings.GUANXI_LOGIN_CAPTCHA = "off"
    client = Client()
    web_login(client, org["rep_a"].username, "wrong-Password-1")
    assert 'data-testid="login-captcha"' not in client.get(reverse("login")).content.decode()


def test_wrong_captcha_is_refused_without_checking_the_password(org, settings):
    settings.GUANXI_LOGIN_CAPTCHA = "always"
    user = org["rep_a"]
    client = Client()
    page = client.get(reverse("login")).content.decode()
    answer = captcha_answer(page)
    answer["captcha_1"] = "nope" if answer["captcha_1"] != "nope" else "nix"
    for password in ("wrong-Password-1", PASSWORD):
        response = client.post(
            reverse("login"), {"username": user.username, "password": password, **answer}
        )
        html = response.content.decode()
        assert response.status_code == 200 and not signed_in(client)
        assert "图形验证码错误" in html and "ERR-018" in html and "ERR-015" not in html
    attempts = LoginAttempt.objects.filter(username=user.username)
    assert list(attempts.values_list("reason", flat=True)) == [lockout.CAPTCHA] * 2
    assert lockout.counted_failures(user.username) == 0
    entry = audit("auth.login").last()
    assert (entry.result, entry.error_code) == ("denied", "ERR-018")


def test_captcha_test_mode_accepts_passed(org, settings, monkeypatch):
    """django-simple-captcha's CAPTCHA_TEST_MODE: the answer "PASSED" is accepted."""
    settings.GUANXI_LOGIN_CAPTCHA = "always"
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)
    client = Client()
    page = client.get(reverse("login")).content.decode()
    hashkey = captcha_answer(page)["captcha_0"]
    response = client.post(
        reverse("login"),
        {
            "username": org["rep_a"].username,
            "password": PASSWORD,
            "captcha_0": hashkey,
            "captcha_1": "PASSED",
        },
    )
    assert response.status_code == 302 and signed_in(client)


# --- lockout ------------------------------------------------------------------------------


def test_web_brute_force_locks_until_admin_unlocks(org):
    user, admin = org["rep_a"], org["admin"]
    client = Client()
    for _ in range(6):
        response = web_login(client, user.username, "wrong-Password-1")
        assert response.status_code == 200 and "ERR-015" in response.content.decode()
    user.refresh_from_db()
    assert user.status == UserStatus.LOCKED and user.locked_until is not None
    assert user.locked_until > timezone.now() + timedelta(minutes=29)

    # The right password is refused now, with the lock message and the unlock time.
    response = web_login(client, user.username)
    html = response.content.decode()
    assert response.status_code == 200 and not signed_in(client)
    assert "账号已锁定" in html and "ERR-003" in html and until_text(user) in html

    failures = audit("auth.login", result="denied", error_code="ERR-015")
    reasons = [e.params["reason"] for e in failures]
    # The 6th guess hit a locked account: recorded, answered the same, but not counted.
    assert reasons == [lockout.BAD_PASSWORD] * 5 + [lockout.LOCKED]
    lock = audit("auth.lockout").get()
    assert lock.object_id == str(user.pk)
    assert lock.params["failures"] == 5 and lock.params["channel"] == "web"
    assert audit("auth.login", result="denied", error_code="ERR-003").count() == 1

    # An administrator lifts the lock (the same service the 解锁用户 screen calls).
    admin_client = Client()
    admin_client.force_login(admin)
    confirm = admin_client.get(reverse("org:user_action", args=[user.pk, "unlock"]))
    assert confirm.status_code == 200 and "解锁用户" in confirm.content.decode()
    admin_client.post(reverse("org:user_action", args=[user.pk, "unlock"]))
    user.refresh_from_db()
    assert user.status == UserStatus.ACTIVE and user.locked_until is None
    unlock = audit("user.unlock").get()
    assert unlock.actor_id == admin.pk and unlock.object_id == str(user.pk)

    assert web_login(client, user.username).status_code == 302 and signed_in(client)
    assert audit("auth.login", result="success", actor_id=user.pk).count() == 1


def test_failures_while_locked_do_not_count_after_an_unlock(org):
    """An unlock starts a fresh count: guesses made during the lock do not carry over."""
    user = org["rep_a"]
    for _ in range(8):
        web_login(Client(), user.username, "wrong-Password-1")
    user_unlock(actor=org["admin"], user=user)
    assert lockout.counted_failures(user.username) == 0
    web_login(Client(), user.username, "wrong-Password-1")
    user.refresh_from_db()
    assert user.status == UserStatus.ACTIVE


def test_web_lock_lapses_after_the_lock_time(org, monkeypatch):
    user = org["rep_b"]
    for _ in range(6):
        web_login(Client(), user.username, "wrong-Password-1")
    user.refresh_from_db()
    assert user.status == UserStatus.LOCKED
    assert "ERR-003" in web_login(Client(), user.username).content.decode()

    shift_clock(monkeypatch, timedelta(minutes=29))
    assert "ERR-003" in web_login(Client(), user.username).content.decode()

    shift_clock(monkeypatch, timedelta(minutes=31))
    client = Client()
    assert web_login(client, user.username).status_code == 302 and signed_in(client)
    user.refresh_from_db()
    assert user.status == UserStatus.ACTIVE and user.locked_until is None
    unlock = audit("user.unlock").get()
    assert unlock.actor_id is None and unlock.params["reason"] == "lock_expired"


def test_lockout_settings_are_honoured(org, settings):
    settings.GUANXI_LOCKOUT_FAILURES = 2
    settings.GUANXI_LOCKOUT_MINUTES = 5
    user = org["rep_a"]
    web_login(Client(), user.username, "wrong-Password-1")
    user.refresh_from_db()
    assert user.status == UserStatus.ACTIVE
    web_login(Client(), user.username, "wrong-Password-1")
    user.refresh_from_db()
    assert user.status == UserStatus.LOCKED
    assert user.locked_until < timezone.now() + timedelta(minutes=6)


def test_failures_outside_the_window_do_not_count(org, settings, monkeypatch):
    settings.GUANXI_LOCKOUT_WINDOW_MINUTES = 15
    user = org["rep_a"]
    for _ in range(4):
        web_login(Client(), user.username, "wrong-Password-1")
    LoginAttempt.objects.filter(username=user.username).update(
        occurred_at=timezone.now() - timedelta(minutes=16)
    )
    for _ in range(4):
        web_login(Client(), user.username, "wrong-Password-1")
    user.refresh_from_db()
    assert user.status == UserStatus.ACTIVE
    assert lockout.counted_failures(user.username) == 4


def test_a_success_resets_the_count(org):
    user = org["rep_a"]
    for _ in range(4):
        web_login(Client(), user.username, "wrong-Password-1")
    assert web_login(Client(), user.username).status_code == 302
    for _ in range(4):
        web_login(Client(), user.username, "wrong-Password-1")
    user.refresh_from_db()
    assert user.status == UserStatus.ACTIVE


def test_api_brute_force_locks_until_unlocked(org):
    user, admin = org["manager"], org["admin"]
    client = Client()
    for _ in range(6):
        response = api_token(client, user.username, "wrong-Password-1")
        assert response.status_code == 401 and response.json()["code"] == "ERR-015"
    user.refresh_from_db()
    assert user.status == UserStatus.LOCKED

    response = api_token(client, user.username)
    body = response.json()
    assert response.status_code == 403 and body["code"] == "ERR-003"
    assert "账号已锁定" in body["message"] and body["locked_until"] == until_text(user)

    assert audit("auth.token", result="denied", error_code="ERR-015").count() == 6
    assert audit("auth.lockout").get().params["channel"] == "api"
    assert audit("auth.token", result="denied", error_code="ERR-003").count() == 1

    user_unlock(actor=admin, user=user)
    assert audit("user.unlock").get().actor_id == admin.pk
    response = api_token(client, user.username)
    assert response.status_code == 200 and response.json()["token"]
    assert audit("auth.token", result="success", actor_id=user.pk).count() == 1


def test_api_lock_lapses_after_the_lock_time(org, monkeypatch):
    user = org["manager"]
    for _ in range(6):
        api_token(Client(), user.username, "wrong-Password-1")
    assert api_token(Client(), user.username).json()["code"] == "ERR-003"
    shift_clock(monkeypatch, timedelta(minutes=31))
    response = api_token(Client(), user.username)
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.status == UserStatus.ACTIVE


def test_api_disabled_user_gets_err_004(org):
    user = org["rep_b"]
    user.status, user.is_active = UserStatus.DISABLED, False
    user.save()
    response = api_token(Client(), user.username)
    assert response.status_code == 403 and response.json()["code"] == "ERR-004"
    # Without the password the status is not revealed.
    response = api_token(Client(), user.username, "wrong-Password-1")
    assert response.status_code == 401 and response.json()["code"] == "ERR-015"


def test_auto_lock_ends_sessions_and_revokes_tokens(org):
    user = org["rep_a"]
    browser = Client()
    assert web_login(browser, user.username).status_code == 302
    token = api_token(Client(), user.username).json()["token"]
    for _ in range(5):
        api_token(Client(), user.username, "wrong-Password-1")
    user.refresh_from_db()
    assert user.status == UserStatus.LOCKED
    assert user.api_tokens.filter(revoked_at__isnull=True).count() == 0
    # API.md: a locked user's token answers ERR-003 (and it is revoked as well) ...
    me = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 403 and me.json()["code"] == "ERR-003"
    assert browser.get(reverse("customers:list")).status_code == 302
    assert not signed_in(browser)
    # ... so it stays dead after the unlock.
    user_unlock(actor=org["admin"], user=user)
    me = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 401 and me.json()["code"] == "ERR-001"


# --- TOTP ---------------------------------------------------------------------------------


def test_totp_user_must_give_a_valid_code(org, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own delay between tries
    user = org["rep_a"]
    device = confirmed_totp(user)
    client = Client()
    response = web_login(client, user.username)
    assert response.status_code == 302 and response["Location"] == reverse("login_verify")
    assert not signed_in(client)
    page = client.get(reverse("login_verify"))
    assert page.status_code == 200 and "双因素认证" in page.content.decode()
    # Pages need the second step first.
    assert client.get(reverse("customers:list")).status_code == 302

    bad = client.post(reverse("login_verify"), {"method": "totp", "code": wrong_code(device)})
    html = bad.content.decode()
    assert bad.status_code == 200 and "ERR-017" in html and not signed_in(client)
    entry = audit("auth.2fa").last()
    assert (entry.result, entry.error_code) == ("denied", "ERR-017")
    assert LoginAttempt.objects.filter(username=user.username, reason=lockout.BAD_OTP).exists()

    ok = client.post(reverse("login_verify"), {"method": "totp", "code": code_for(device)})
    assert ok.status_code == 302 and ok["Location"] == reverse("customers:list")
    assert signed_in(client)
    assert client.get(reverse("customers:list")).status_code == 200
    assert audit("auth.login", result="success").last().params["method"] == "totp"


def test_second_step_times_out_and_survives_a_removed_device(org):
    user = org["rep_a"]
    device = confirmed_totp(user)
    client = Client()
    web_login(client, user.username)
    session = client.session
    session[login_flow.PENDING_KEY]["at"] -= login_flow.PENDING_SECONDS + 1
    session.save()
    response = client.get(reverse("login_verify"))
    assert response["Location"] == reverse("login")
    assert "验证已超时，请重新输入用户名和密码" in client.get(reverse("login")).content.decode()

    web_login(client, user.username)
    device.delete()  # e.g. an administrator reset it meanwhile
    response = client.get(reverse("login_verify"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not signed_in(client)


def test_totp_wrong_codes_count_toward_the_lock(org, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = org["rep_a"]
    device = confirmed_totp(user)
    client = Client()
    web_login(client, user.username)
    for _ in range(4):
        client.post(reverse("login_verify"), {"method": "totp", "code": wrong_code(device)})
    response = client.post(reverse("login_verify"), {"method": "totp", "code": wrong_code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    user.refresh_from_db()
    assert user.status == UserStatus.LOCKED
    html = client.get(reverse("login")).content.decode()
    assert "账号已锁定" in html and until_text(user) in html


def test_totp_over_the_api(org, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = org["rep_a"]
    device = confirmed_totp(user)
    client = Client()
    assert api_token(client, user.username).json()["code"] == "ERR-016"
    assert api_token(client, user.username, otp=wrong_code(device)).json()["code"] == "ERR-017"
    response = api_token(client, user.username, otp=code_for(device))
    assert response.status_code == 200 and response.json()["token"]


def test_role_requiring_2fa_forces_enrolment_at_next_login(org, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = org["rep_a"]
    Role.objects.filter(code="sales_rep").update(require_2fa=True)
    client = Client()
    response = web_login(client, user.username)
    assert response.status_code == 302 and response["Location"] == reverse("two_factor")
    assert signed_in(client)
    # Nothing else opens until enrolment is done.
    assert client.get(reverse("customers:list"))["Location"] == reverse("two_factor")
    api = client.get("/api/v1/me")
    assert api.status_code == 403 and api.json()["code"] == "ERR-019"
    page = client.get(reverse("two_factor"))
    html = page.content.decode()
    assert page.status_code == 200 and "您的角色要求启用双因素认证" in html
    assert "<svg" in html and 'data-testid="2fa-secret"' in html

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    bad = client.post(reverse("two_factor"), {"action": "confirm", "code": wrong_code(device)})
    assert "ERR-017" in bad.content.decode()
    done = client.post(reverse("two_factor"), {"action": "confirm", "code": code_for(device)})
    assert done.status_code == 302 and done["Location"] == reverse("customers:list")
    assert client.get(reverse("customers:list")).status_code == 200
    assert audit("auth.2fa_enable", result="success").count() == 1

    # The role rule also forbids turning it off, and the next sign-in asks for a code.
    off = client.post(reverse("two_factor"), {"action": "disable", "password": PASSWORD})
    assert "不能停用" in off.content.decode()
    assert web_login(Client(), user.username)["Location"] == reverse("login_verify")


def test_api_refuses_a_user_whose_role_requires_2fa_without_a_device(org):
    Role.objects.filter(code="sales_rep").update(require_2fa=True)
    response = api_token(Client(), org["rep_a"].username)
    assert response.status_code == 403 and response.json()["code"] == "ERR-019"


def test_two_factor_page_enrol_and_disable_voluntarily(org, client_for):
    user = org["rep_b"]
    client = client_for(user)
    page = client.get(reverse("two_factor"))
    assert page.status_code == 200 and "未启用" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(reverse("two_factor"), {"action": "confirm", "code": code_for(device)})
    assert "已启用" in client.get(reverse("two_factor")).content.decode()
    wrong = client.post(reverse("two_factor"), {"action": "disable", "password": "nope-Nope-1"})
    assert "密码错误" in wrong.content.decode() and TOTPDevice.objects.filter(user=user).exists()
    client.post(reverse("two_factor"), {"action": "disable", "password": PASSWORD})
    assert not TOTPDevice.objects.filter(user=user).exists()


# --- SMS ----------------------------------------------------------------------------------


def _logged_code(caplog: pytest.LogCaptureFixture) -> str:
    messages = [r.getMessage() for r in caplog.records if r.name == "guanxi.sms"]
    assert messages, "the console sender logged nothing"
    found = re.search(r"验证码为 (\d{6})", messages[-1])
    assert found is not None
    return found.group(1)


@pytest.fixture
def sms_user(org) -> User:
    """A user with a mobile number, so SMS codes can be sent to them."""
    user = org["rep_a"]
    user.mobile = "13912345678"
    user.save()
    return user


def send_logged_code(user: User, caplog: pytest.LogCaptureFixture) -> str:
    """Send a login code through the default (logging) sender and read it from the log."""
    with caplog.at_level(logging.INFO, logger="guanxi.sms"):
        sms.sms_code_send(user=user, purpose="login")
    return _logged_code(caplog)


def test_default_sms_sender_logs_the_code(sms_user, caplog):
    user = sms_user
    code = send_logged_code(user, caplog)
    text = caplog.records[-1].getMessage()
    assert "13912345678" not in text and "5 分钟内有效" in text
    stored = sms.SmsCode.objects.get(user=user)
    assert code not in stored.code_hash  # only a keyed hash is stored


def test_sms_code_verifies_once(sms_user, caplog):
    user = sms_user
    code = send_logged_code(user, caplog)
    wrong = "000000" if code != "000000" else "111111"
    assert sms.sms_code_verify(user=user, purpose="login", code=wrong) is False
    assert sms.sms_code_verify(user=user, purpose="other", code=code) is False
    assert sms.sms_code_verify(user=user, purpose="login", code=code) is True
    assert sms.sms_code_verify(user=user, purpose="login", code=code) is False


def test_sms_code_expires(sms_user, caplog, monkeypatch):
    user = sms_user
    code = send_logged_code(user, caplog)
    shift_clock(monkeypatch, sms.CODE_TTL + timedelta(seconds=1))
    assert sms.sms_code_verify(user=user, purpose="login", code=code) is False


def test_sms_code_dies_after_too_many_wrong_tries(sms_user, caplog):
    user = sms_user
    code = send_logged_code(user, caplog)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(sms.MAX_ATTEMPTS):
        assert sms.sms_code_verify(user=user, purpose="login", code=wrong) is False
    assert sms.sms_code_verify(user=user, purpose="login", code=code) is False


def test_sms_resend_is_throttled_and_needs_a_mobile(org, monkeypatch):
    user = org["rep_a"]
    with pytest.raises(sms.DomainError) as no_mobile:
        sms.sms_code_send(user=user, purpose="login")
    assert "手机号" in str(no_mobile.value.message)
    user.mobile = "13912345678"
    user.save()
    sms.sms_code_send(user=user, purpose="login")
    with pytest.raises(sms.SmsThrottled) as throttled:
        sms.sms_code_send(user=user, purpose="login")
    assert throttled.value.code == "ERR-008" and "秒后" in str(throttled.value.message)
    shift_clock(monkeypatch, timedelta(seconds=61))
    sms.sms_code_send(user=user, purpose="login")


def test_sms_sender_is_pluggable(sms_user, settings):
    settings.GUANXI_SMS_SENDER = "guanxi.accounts.sms.LocmemSmsSender"
    sms.outbox.clear()
    user = sms_user
    sms.sms_code_send(user=user, purpose="login")
    assert len(sms.outbox) == 1 and sms.outbox[0][0] == "13912345678"
    code = re.search(r"(\d{6})", sms.outbox[0][1]).group(1)
    assert sms.sms_code_verify(user=user, purpose="login", code=code)
    sms.outbox.clear()


def test_sms_as_the_second_sign_in_step(sms_user, settings, caplog):
    settings.GUANXI_LOGIN_SMS_2FA = True
    Role.objects.filter(code="sales_rep").update(require_2fa=True)
    user = sms_user
    client = Client()
    response = web_login(client, user.username)
    assert response["Location"] == reverse("login_verify")
    page = client.get(reverse("login_verify")).content.decode()
    assert 'data-testid="send-sms"' in page and "发送验证码" in page
    with caplog.at_level(logging.INFO, logger="guanxi.sms"):
        sent = client.post(reverse("login_verify"), {"action": "send_sms"})
    assert "验证码已发送至 139****5678" in sent.content.decode()
    code = _logged_code(caplog)
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post(reverse("login_verify"), {"method": "sms", "code": wrong})
    assert "ERR-017" in bad.content.decode() and not signed_in(client)
    ok = client.post(reverse("login_verify"), {"method": "sms", "code": code})
    assert ok.status_code == 302 and signed_in(client)
    assert audit("auth.login", result="success").last().params["method"] == "sms"
    assert audit("auth.sms_code").count() == 1


# --- password policy ----------------------------------------------------------------------


def change_password(client: Client, new: str, old: str = PASSWORD):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_password_change_page_renders(org, client_for):
    response = client_for(org["rep_a"]).get(reverse("password_change"))
    assert response.status_code == 200 and "修改密码" in response.content.decode()


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("Ab1!xyz", "密码长度不能少于 10 个字符"),
        ("abcdefghijkl", "密码须包含小写字母、大写字母、数字、符号中的至少 3 类"),
        ("abcdefgh1234", "密码须包含小写字母、大写字母、数字、符号中的至少 3 类"),
    ],
)
def test_password_policy_refuses_weak_passwords(org, client_for, new, message):
    user = org["rep_a"]
    client = client_for(user)
    response = change_password(client, new)
    assert response.status_code == 200 and message in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert audit("auth.password_change", result="failed").count() == 1


def test_password_policy_settings_are_read_at_call_time(org, client_for, settings):
    settings.GUANXI_PASSWORD_MIN_LENGTH = 16
    response = change_password(client_for(org["rep_a"]), "Short-But-Ok-1")
    assert "密码长度不能少于 16 个字符" in response.content.decode()


def test_password_history_refuses_reuse(org, client_for):
    user = org["rep_a"]
    client = client_for(user)
    second, third = "Zweites-Passwort-9", "Drittes-Passwort-9"
    assert change_password(client, second).status_code == 302
    # The password the account was created with is in the history too.
    back = change_password(client, PASSWORD, old=second)
    assert "新密码不能与最近 5 次使用过的密码相同" in back.content.decode()
    assert change_password(client, third, old=second).status_code == 302
    back = change_password(client, second, old=third)
    assert "新密码不能与最近 5 次使用过的密码相同" in back.content.decode()
    user.refresh_from_db()
    assert user.check_password(third)


def test_password_history_length_is_a_setting(org, client_for, settings):
    settings.GUANXI_PASSWORD_HISTORY = 1
    user = org["rep_a"]
    client = client_for(user)
    second, third = "Zweites-Passwort-9", "Drittes-Passwort-9"
    assert change_password(client, second).status_code == 302
    assert change_password(client, third, old=second).status_code == 302
    assert change_password(client, PASSWORD, old=third).status_code == 302
    assert PasswordHistory.objects.filter(user=user).count() == 1


def test_password_change_ends_other_sessions_and_tokens(org):
    user = org["rep_a"]
    other, mine = Client(), Client()
    web_login(other, user.username)
    web_login(mine, user.username)
    token = api_token(Client(), user.username).json()["token"]
    response = change_password(mine, NEW_PASSWORD)
    assert response.status_code == 302
    assert mine.get(reverse("customers:list")).status_code == 200
    assert other.get(reverse("customers:list")).status_code == 302
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_expired_password_forces_a_change(org):
    user = org["rep_a"]
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client = Client()
    response = web_login(client, user.username)
    assert response["Location"] == reverse("password_change")
    assert client.get(reverse("customers:list"))["Location"] == reverse("password_change")
    page = client.get(reverse("password_change")).content.decode()
    assert "您的密码已过期，请先修改密码再继续使用系统。" in page
    done = change_password(client, NEW_PASSWORD)
    assert done.status_code == 302 and done["Location"] == reverse("customers:list")
    assert client.get(reverse("customers:list")).status_code == 200
    # The API cannot show the page: it refuses with ERR-020 until the change is done.
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    response = api_token(Client(), user.username, NEW_PASSWORD)
    assert response.status_code == 403 and response.json()["code"] == "ERR-020"


def test_argon2_is_the_hasher(org):
    user = org["rep_a"]
    assert user.password.startswith("argon2$")

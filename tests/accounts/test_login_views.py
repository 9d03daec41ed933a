"""Login and logout pages over real HTTP: messages, codes, audit entries, confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.accounts.choices import UserStatus
from guanxi.audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_renders_chinese_card(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "关系 Guanxi" in html and "用户名" in html and "密码" in html
    assert "bootstrap/css/bootstrap.min.css" in html


def test_login_success_redirects_to_customer_list_and_is_audited(org):
    client = Client()
    user = org["rep_a"]
    response = _login(client, user.username)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list")
    assert client.get(reverse("customers:list")).status_code == 200
    entry = AuditEntry.objects.filter(action="auth.login").latest("id")
    assert (entry.result, entry.actor_id) == ("success", user.pk)


def test_wrong_password_shows_chinese_message_and_is_audited(org):
    client = Client()
    response = _login(client, org["rep_a"].username, "not-the-password")
    assert response.status_code == 200
    html = response.content.decode()
    assert "用户名或密码错误" in html and "ERR-015" in html
    assert org["rep_a"].username in html  # what was typed is kept
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action="auth.login").latest("id")
    assert (entry.result, entry.error_code) == ("denied", "ERR-015")
    assert entry.params["username"] == org["rep_a"].username


def test_unknown_user_gets_the_same_message(org):
    response = _login(Client(), "nobody-here", "whatever-123")
    assert "用户名或密码错误" in response.content.decode()


def test_locked_account_refused_with_code_and_until(org):
    user = org["rep_a"]
    user.status = UserStatus.LOCKED
    user.locked_until = timezone.now() + timedelta(minutes=30)
    user.save()
    client = Client()
    response = _login(client, user.username)
    html = response.content.decode()
    assert "账号已锁定" in html and "ERR-003" in html
    assert timezone.localtime(user.locked_until).strftime("%Y-%m-%d %H:%M") in html
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action="auth.login").latest("id")
    assert (entry.result, entry.error_code, entry.actor_id) == ("denied", "ERR-003", user.pk)


def test_expired_lock_lets_the_user_in(org):
    user = org["rep_a"]
    user.status = UserStatus.LOCKED
    user.locked_until = timezone.now() - timedelta(minutes=1)
    user.save()
    assert _login(Client(), user.username).status_code == 302


@pytest.mark.parametrize("how", ["status", "inactive"])
def test_disabled_account_refused(org, how):
    user = org["rep_b"]
    if how == "status":
        user.status = UserStatus.DISABLED
    else:
        user.is_active = False
    user.save()
    client = Client()
    html = _login(client, user.username).content.decode()
    assert "账号已禁用" in html and "ERR-004" in html
    assert "_auth_user_id" not in client.session


def test_disabled_status_not_revealed_without_the_password(org):
    user = org["rep_b"]
    user.is_active = False
    user.save()
    html = _login(Client(), user.username, "wrong-password-1").content.decode()
    assert "ERR-015" in html and "ERR-004" not in html


def test_logout_get_asks_for_confirmation_and_keeps_session(org, client_for):
    client = client_for(org["rep_a"])
    response = client.get(reverse("logout"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "是否确认退出？" in html and 'action="/logout/"' in html
    assert "_auth_user_id" in client.session


def test_logout_post_signs_out_and_is_audited(org, client_for):
    client = client_for(org["rep_a"])
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action="auth.logout").latest("id")
    assert entry.actor_id == org["rep_a"].pk
    assert client.get(reverse("customers:list")).status_code == 302


def test_shell_has_logout_modal_clock_and_language_switch(org, client_for):
    html = client_for(org["rep_a"]).get(reverse("customers:list")).content.decode()
    assert "是否确认退出？" in html and "gx-logout-modal" in html
    assert "data-clock" in html
    assert reverse("set_language") in html and "English" in html
    assert org["rep_a"].name in html and "销售一组" in html


def test_language_switch_to_english(org, client_for):
    client = client_for(org["rep_a"])
    client.post(reverse("set_language"), {"language": "en", "next": "/customers/"})
    html = client.get(reverse("customers:list")).content.decode()
    assert "Customer list" in html and "Log out" in html

"""A real browser journey through Guanxi's security rules (issue 3): the login captcha, the
automatic lock after repeated wrong passwords, data scope (a sales rep sees only own
customers), masking (a service rep sees 138****5678), and an audited "显示" by an admin.

Drives Debian's Chromium through Playwright against pytest-django's ``live_server``, like
``test_customer_journey``. The live server runs in this process, so the ``settings`` fixture
and ``monkeypatch`` apply to it: the captcha is always asked and accepts "PASSED" (the
captcha library reads its test mode at import, hence the monkeypatch), and personal values
are masked on records too so the admin has something to reveal.
Screenshots go to ``$GUANXI_SCREENSHOT_DIR`` (default ``var/screenshots``), prefixed ``sec-``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot, watch_problems
from tests.conftest import PASSWORD, customer_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERVICE_MOBILE = "13812345678"
SERVICE_MASKED = "138****5678"
REP_A_CUSTOMER = "杭州西湖茶叶有限公司"
REP_B_CUSTOMER = "宁波港口物流有限公司"


@pytest.fixture
def security_settings(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    settings.GUANXI_LOGIN_CAPTCHA = "always"
    settings.GUANXI_LOCKOUT_FAILURES = 5
    settings.SHOW_SENSITIVE_BY_DEFAULT = False
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", True)
    return settings


def submit_login(page: Page, username: str, password: str) -> None:
    """Fill the login form (the captcha answered with the test-mode word) and send it."""
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("[data-testid=login-captcha] input[type=text]").fill("PASSED")
    page.get_by_role("button", name="登录").click()


def sign_in_as(page: Page, base: str, user: Any) -> None:
    """A fresh session (cookies dropped), then the login form as ``user``."""
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    submit_login(page, user.username, PASSWORD)
    expect(page).to_have_url(re.compile(r"/customers/$"))


def captcha_image_loaded(page: Page) -> bool:
    return bool(
        page.locator("img.gx-captcha").evaluate("img => img.complete && img.naturalWidth > 0")
    )


def test_security_journey(
    live_server: Any, org: dict[str, Any], page: Page, security_settings: Any
) -> None:
    from django.utils import timezone

    from guanxi.audit.models import AuditEntry
    from guanxi.customers.services import customer_create

    admin, rep_a, rep_b = org["admin"], org["rep_a"], org["rep_b"]
    mine = customer_create(
        actor=rep_a,
        data=customer_data(name=REP_A_CUSTOMER, mobile=SERVICE_MOBILE, customer_type="enterprise"),
    )
    customer_create(actor=rep_b, data=customer_data(name=REP_B_CUSTOMER))
    base = live_server.url
    problems = watch_problems(page)

    # 1. The login page asks for the image captcha, and the image really loads.
    page.goto(f"{base}/login/")
    captcha = page.get_by_test_id("login-captcha")
    expect(captcha).to_be_visible()
    expect(captcha).to_contain_text("图形验证码")
    expect(captcha.get_by_role("button", name="换一张")).to_be_visible()
    page.wait_for_function("document.querySelector('img.gx-captcha').complete")
    assert captcha_image_loaded(page), "captcha image did not load"
    shot(page, "sec-01-login-captcha")

    # 2. Five wrong passwords: each is refused without naming the account's state (no
    #    enumeration); the fifth locks it. The right password then shows the lock and the
    #    time it lifts, which is the time stored on the user.
    for attempt in range(5):
        submit_login(page, rep_b.username, f"wrong-password-{attempt}")
        error = page.get_by_test_id("login-error")
        expect(error).to_contain_text("ERR-015")
        expect(page.locator("[data-testid=login-captcha] img.gx-captcha")).to_be_visible()
    rep_b.refresh_from_db()
    assert rep_b.status == "locked"
    assert rep_b.locked_until is not None
    until = timezone.localtime(rep_b.locked_until).strftime("%Y-%m-%d %H:%M")

    submit_login(page, rep_b.username, PASSWORD)
    error = page.get_by_test_id("login-error")
    expect(error).to_contain_text("账号已锁定")
    expect(error).to_contain_text(until)
    expect(error).to_contain_text("ERR-003")
    expect(page).to_have_url(re.compile(r"/login/"))
    shot(page, "sec-02-lockout")
    assert AuditEntry.objects.filter(action="auth.lockout", object_id=str(rep_b.pk)).count() == 1

    # 3. A sales rep signs in (captcha answered) and sees only own customers.
    sign_in_as(page, base, rep_a)
    table = page.locator("#customer-table")
    expect(table).to_contain_text(REP_A_CUSTOMER)
    expect(table).not_to_contain_text(REP_B_CUSTOMER)
    expect(page.get_by_test_id("customer-count")).to_contain_text("共 1 条")
    shot(page, "sec-03-rep-own-list")

    # 4. A service rep sees every customer, personal values masked and no "显示".
    sign_in_as(page, base, org["service_rep"])
    expect(table).to_contain_text(REP_A_CUSTOMER)
    expect(table).to_contain_text(REP_B_CUSTOMER)
    row = table.locator("tr", has_text=REP_A_CUSTOMER)
    expect(row.get_by_test_id("mobile")).to_have_text(SERVICE_MASKED)
    expect(table).not_to_contain_text(SERVICE_MOBILE)
    expect(table.locator("[data-testid^=reveal-]")).to_have_count(0)
    shot(page, "sec-04-service-masked-list")

    # 5. An admin opens the record: masked (records mask by setting), "显示" reveals in place.
    sign_in_as(page, base, admin)
    page.goto(f"{base}/customers/{mine.pk}/")
    expect(page.get_by_role("heading", name=REP_A_CUSTOMER, level=1)).to_be_visible()
    mobile = page.locator(f"#personal-mobile-{mine.pk}")
    expect(mobile.get_by_test_id("mobile")).to_have_text(SERVICE_MASKED)
    assert not AuditEntry.objects.filter(action="customer.reveal").exists()
    mobile.get_by_role("button", name="显示").click()
    expect(mobile.get_by_test_id("mobile")).to_have_text(SERVICE_MOBILE)
    expect(mobile.get_by_role("button", name="显示")).to_have_count(0)
    shot(page, "sec-05-revealed")
    reveal = AuditEntry.objects.get(action="customer.reveal")
    assert (reveal.actor_id, reveal.object_id, reveal.result) == (admin.pk, str(mine.pk), "success")
    assert reveal.params == {"field": "mobile"}

    # 6. The reveal is on the audit page, filtered by its action.
    page.goto(f"{base}/settings/audit/?action=customer.reveal")
    audit_table = page.get_by_test_id("audit-table")
    entry_row = audit_table.locator(f"tr[data-entry-id='{reveal.pk}']")
    expect(entry_row).to_be_visible()
    expect(entry_row).to_contain_text("查看客户敏感信息")
    expect(entry_row).to_contain_text(admin.username)
    expect(entry_row).to_contain_text(REP_A_CUSTOMER)
    expect(entry_row).not_to_contain_text(SERVICE_MOBILE)
    expect(audit_table.locator("tbody tr")).to_have_count(1)
    shot(page, "sec-06-audit-reveal")

    assert not problems, f"browser reported problems: {problems}"


def test_org_admin_screens(live_server: Any, org: dict[str, Any], page: Page) -> None:
    """The organisation screens render in a real browser (users, user form with errors,
    role editor, department tree); screenshots for a look at layout and Chinese text."""
    from guanxi.accounts.models import Role
    from guanxi.accounts.services import department_update, user_lock

    user_lock(actor=org["admin"], user=org["rep_b"], until=None, reason="离职交接")
    department_update(
        actor=org["admin"], department=org["sales"], data={"manager_id": org["manager"].pk}
    )
    base = live_server.url
    problems = watch_problems(page)
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill(org["admin"].username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))

    # Users: the list, then a department filter applied by htmx.
    page.goto(f"{base}/settings/org/users/")
    expect(page.get_by_role("heading", name="用户管理", level=1)).to_be_visible()
    expect(page.get_by_test_id("user-count")).to_have_text(f"共 {len(org) - 5} 人")
    expect(page.locator("#user-table [data-status=locked]")).to_have_count(1)
    shot(page, "org-01-users")
    page.locator("select[name=department_id]").select_option(label="总公司 / 销售部")
    expect(page).to_have_url(re.compile(r"department_id=\d+"))
    expect(page.get_by_test_id("user-count")).to_have_text("共 3 人")

    # New user with mistakes: each error under its field, in Chinese.
    page.goto(f"{base}/settings/org/users/new/")
    page.locator("input[name=username]").fill("坏 名字")
    page.locator("input[name=mobile]").fill("12345")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("[data-field-error=username]")).to_contain_text("用户名须为")
    expect(page.locator("[data-field-error=name]")).to_contain_text("此项为必填项")
    expect(page.locator("[data-field-error=mobile]")).to_be_visible()
    shot(page, "org-02-user-form")

    # Role editor: permission groups and per-object-type scopes.
    role = Role.objects.get(code="sales_manager")
    page.goto(f"{base}/settings/org/roles/{role.pk}/")
    for label in ("基础权限", "高级权限", "敏感权限"):
        expect(page.get_by_text(label).first).to_be_visible()
    expect(page.locator("select[name=scope_customer_read]")).to_be_visible()
    shot(page, "org-03-role-editor")

    # Department tree with managers.
    page.goto(f"{base}/settings/org/departments/")
    tree = page.get_by_test_id("department-tree")
    expect(tree.locator("tr[data-depth='2']")).to_have_count(2)
    expect(tree).to_contain_text("销售一组")
    sales_row = tree.locator(f"tr[data-department='{org['sales'].pk}']")
    expect(sales_row).to_contain_text(org["manager"].display_name)
    expect(sales_row.locator("[data-members]")).to_have_text("3")
    shot(page, "org-04-departments")

    assert not problems, f"browser reported problems: {problems}"

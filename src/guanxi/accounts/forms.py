"""Sign-in and account-security forms. They check the shape of the input and call the
sign-in rules (``signin``) or the password policy; they decide nothing themselves.

Account status is only revealed to someone who knows the password, so the login form cannot
be used to find out which usernames exist or are locked.
"""

from __future__ import annotations

from typing import Any

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from guanxi.accounts import lockout, signin
from guanxi.accounts.models import User
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError

MSG_CAPTCHA_WRONG = _("图形验证码错误，请重新输入（ERR-018）")
MSG_CAPTCHA_REQUIRED = _("请输入图形验证码（ERR-018）")
MSG_CODE_FORMAT = _("请输入6位数字验证码")
MSG_MISMATCH = _("两次输入的新密码不一致")
MSG_SAME_AS_OLD = _("新密码不能与当前密码相同")
TEXT = {"class": "form-control"}


class BootstrapCaptchaInput(CaptchaTextInput):
    template_name = "accounts/captcha_widget.html"


def captcha_mode() -> str:
    mode = getattr(settings, "GUANXI_LOGIN_CAPTCHA", "after_failure")
    return mode if mode in ("always", "after_failure", "off") else "after_failure"


def captcha_needed(*, username: str = "", ip: str | None = None) -> bool:
    mode = captcha_mode()
    if mode == "off":
        return False
    return mode == "always" or lockout.has_recent_failure(username=username, ip=ip)


def _captcha_field() -> CaptchaField:
    return CaptchaField(
        label=_("图形验证码"),
        widget=BootstrapCaptchaInput(attrs={"class": "form-control"}),
        error_messages={
            "invalid": MSG_CAPTCHA_WRONG,
            "required": MSG_CAPTCHA_REQUIRED,
            "incomplete": MSG_CAPTCHA_REQUIRED,
        },
    )


class LoginForm(AuthenticationForm):
    """Username, password and (by setting) an image captcha; ``error_code`` names the refusal."""

    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.error_code = ""
        self.meta = RequestMeta.from_request(request) if request is not None else RequestMeta()
        typed = str(self.data.get("username", "") or "").strip() if self.is_bound else ""
        if captcha_needed(username=typed, ip=self.meta.ip):
            self.add_captcha()

    def add_captcha(self) -> None:
        """Show a captcha (also on a form re-rendered after the failure that requires it)."""
        if "captcha" not in self.fields:
            self.fields["captcha"] = _captcha_field()

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data  # a typing slip, not an attempt: nothing recorded
        if self._errors and "captcha" in self._errors:
            self._refuse_captcha(username)
            return self.cleaned_data
        try:
            self.user_cache = signin.check_password_step(
                request=self.request,
                username=username,
                password=password,
                channel=signin.WEB,
                meta=self.meta,
            )
        except DomainError as exc:
            self.error_code = exc.code
            raise forms.ValidationError(
                "%(message)s（%(code)s）",
                code=exc.code,
                params={"message": exc.message, "code": exc.code},
            ) from None
        return self.cleaned_data

    def _refuse_captcha(self, username: str) -> None:
        self.error_code = signin.BAD_CAPTCHA
        signin.refuse(
            code=signin.BAD_CAPTCHA,
            reason=lockout.CAPTCHA,
            username=username,
            user=User.objects.filter(username=username).first(),
            channel=signin.WEB,
            meta=self.meta,
        )


class SecondFactorForm(forms.Form):
    """The code of the second sign-in step (authenticator app or SMS)."""

    method = forms.ChoiceField(choices=[("totp", "totp"), ("sms", "sms")], required=False)
    code = forms.RegexField(
        label=_("验证码"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": MSG_CODE_FORMAT, "required": MSG_CODE_FORMAT},
        widget=forms.TextInput(
            attrs={
                **TEXT,
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "maxlength": 6,
                "autofocus": True,
            }
        ),
    )


class PasswordChangeForm(forms.Form):
    """修改密码: the current password, the new one twice; the policy speaks Chinese."""

    old_password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={**TEXT, "autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={**TEXT, "autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("确认新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={**TEXT, "autocomplete": "new-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        new1, new2 = data.get("new_password1"), data.get("new_password2")
        if new1 and new2 and new1 != new2:
            self.add_error("new_password2", MSG_MISMATCH)
        elif new1 and data.get("old_password") == new1:
            self.add_error("new_password1", MSG_SAME_AS_OLD)
        return data  # the policy itself is checked by ``password_change``

    def help_texts(self) -> list[str]:
        return password_validation.password_validators_help_texts()


class TotpConfirmForm(forms.Form):
    code = SecondFactorForm.base_fields["code"]


class TotpDisableForm(forms.Form):
    password = forms.CharField(
        label=_("登录密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={**TEXT, "autocomplete": "current-password"}),
    )

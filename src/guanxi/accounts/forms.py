"""Sign-in form: Django's authentication plus our account-status rules (ERR-003/004/015).

Account status is only revealed to someone who knows the password, so the form cannot be used
to find out which usernames exist or are locked.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.accounts.status import AccountDisabled, AccountLocked, ensure_may_sign_in
from guanxi.core.errors import DomainError

BAD_CREDENTIALS_CODE = "ERR-015"
MSG_LOCKED_UNTIL = _("账号已锁定，锁定至 %(until)s")


class LoginForm(AuthenticationForm):
    """Username and password; ``error_code`` tells the view which refusal to audit."""

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
        self.refused_user: User | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            # Inactive users are not authenticated by the backend; tell them why only when
            # the password is right.
            self._refuse_inactive_with_password(username, password)
            self._refuse(DomainError(code=BAD_CREDENTIALS_CODE))
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user: User) -> None:
        try:
            ensure_may_sign_in(user)
        except (AccountLocked, AccountDisabled) as exc:
            self.refused_user = user
            self._refuse(exc)

    def _refuse_inactive_with_password(self, username: str, password: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is not None and not user.is_active and user.check_password(password):
            self.refused_user = user
            self._refuse(AccountDisabled())

    def _refuse(self, exc: DomainError) -> None:
        self.error_code = exc.code
        message = exc.message
        if isinstance(exc, AccountLocked) and exc.extra.get("locked_until"):
            message = MSG_LOCKED_UNTIL % {"until": exc.extra["locked_until"]}
        raise forms.ValidationError(
            "%(message)s（%(code)s）",
            code=exc.code,
            params={"message": message, "code": exc.code},
        )

"""Organisation: departments (a tree), roles with data scopes, users, API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Permission, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.choices import Gender, UserStatus
from guanxi.core.scopes import OWN, SCOPE_CHOICES


class Department(models.Model):
    """A node of the organisation tree; ``path`` ("/1/4/") makes subtree queries one LIKE."""

    name = models.CharField(_("部门名称"), max_length=64)
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级部门"),
    )
    manager = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_departments",
        verbose_name=_("部门负责人"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    sort = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("部门")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A named bundle of permissions and the data scope that goes with them."""

    code = models.SlugField(_("角色编码"), max_length=32, unique=True)
    name = models.CharField(_("角色名称"), max_length=64)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    permissions = models.ManyToManyField(Permission, blank=True, verbose_name=_("权限"))
    read_scope = models.CharField(_("查看范围"), max_length=20, choices=SCOPE_CHOICES, default=OWN)
    write_scope = models.CharField(_("编辑范围"), max_length=20, choices=SCOPE_CHOICES, default=OWN)
    is_system = models.BooleanField(_("系统内置"), default=False)
    require_2fa = models.BooleanField(_("强制双因素认证"), default=False)

    class Meta:
        verbose_name = _("角色")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class GuanxiUserManager(UserManager):
    """``create_user`` stores a hash without ``set_password``; stamp the password's age here
    so a freshly created account is not taken for one with an expired password."""

    def _create_user_object(
        self, username: str, email: str | None, password: str | None, **extra_fields: object
    ) -> User:
        if password is not None:
            extra_fields.setdefault("password_changed_at", timezone.now())
        return super()._create_user_object(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in. ``name`` is the display name (姓名); status gates sign-in."""

    name = models.CharField(_("姓名"), max_length=64, blank=True)
    employee_no = models.CharField(_("工号"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("部门"),
    )
    title = models.CharField(_("职务"), max_length=64, blank=True)
    mobile = models.CharField(_("手机号"), max_length=20, blank=True)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=UserStatus.choices, default=UserStatus.ACTIVE
    )
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    lock_reason = models.CharField(_("锁定原因"), max_length=255, blank=True)
    roles = models.ManyToManyField(Role, blank=True, related_name="users", verbose_name=_("角色"))
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    objects = GuanxiUserManager()

    class Meta:
        verbose_name = _("用户")
        ordering = ["id"]
        permissions = [
            ("export_user", _("导出用户")),
            ("view_sensitive_user", _("查看用户敏感信息")),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.username

    def is_locked_now(self) -> bool:
        if self.status != UserStatus.LOCKED:
            return False
        return self.locked_until is None or self.locked_until > timezone.now()


class RoleScope(models.Model):
    """A role's data scope for one object type; object types without a row use the role's
    own ``read_scope``/``write_scope``."""

    role = models.ForeignKey(Role, models.CASCADE, related_name="scopes", verbose_name=_("角色"))
    object_type = models.CharField(_("对象类型"), max_length=32)
    read_scope = models.CharField(_("查看范围"), max_length=20, choices=SCOPE_CHOICES, default=OWN)
    write_scope = models.CharField(_("编辑范围"), max_length=20, choices=SCOPE_CHOICES, default=OWN)

    class Meta:
        verbose_name = _("数据范围")
        constraints = [
            models.UniqueConstraint(fields=["role", "object_type"], name="rolescope_unique")
        ]


class PasswordHistory(models.Model):
    """Earlier password hashes, so the policy can refuse reusing the last N."""

    user = models.ForeignKey(User, models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]


class LoginAttempt(models.Model):
    """One sign-in attempt (web or API); failures in a window drive the lockout."""

    username = models.CharField(_("用户名"), max_length=150)
    user = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    occurred_at = models.DateTimeField(_("时间"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=255, blank=True)
    channel = models.CharField(_("渠道"), max_length=16, default="web")  # web | api
    success = models.BooleanField(_("成功"), default=False)
    reason = models.CharField(_("原因"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("登录记录")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["username", "occurred_at"], name="loginattempt_user_idx"),
            models.Index(fields=["ip", "occurred_at"], name="loginattempt_ip_idx"),
        ]


class SmsCode(models.Model):
    """A one-time SMS verification code; only its hash is stored, attempts are counted."""

    user = models.ForeignKey(User, models.CASCADE, related_name="+", null=True, blank=True)
    mobile = models.CharField(max_length=20)
    purpose = models.CharField(max_length=32)  # login | reset_password | ...
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["mobile", "purpose", "-id"], name="smscode_lookup_idx")]


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no token."""

    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    name = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")

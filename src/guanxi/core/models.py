"""Building blocks every business model shares: timestamps, authorship, version, soft delete,
and a queryset whose ``restrict(user, action)`` applies the data scope in one place."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class ScopedQuerySet(models.QuerySet):
    """Queryset for business data: reads go through ``restrict`` so scope cannot be forgotten."""

    def alive(self) -> ScopedQuerySet:
        return self.filter(deleted_at__isnull=True)

    def deleted(self) -> ScopedQuerySet:
        return self.filter(deleted_at__isnull=False)

    def restrict(self, user: Any, action: str = "view") -> ScopedQuerySet:
        from guanxi.core.scopes import scope_q

        q = scope_q(user, self.model, action)
        return self if q is None else self.filter(q)


class ByteOrderCharField(models.CharField):
    """A CharField compared in code-point order on every database.

    PostgreSQL gets ``COLLATE "C"`` (SQLite's default BINARY already is), so a plain B-tree index
    serves prefix ranges and ordered neighbour scans whatever the database's locale.
    """

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class BusinessModel(models.Model):
    """Abstract base: who/when, optimistic-lock ``version`` and recoverable delete."""

    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("更新人"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("删除人"),
    )

    objects = ScopedQuerySet.as_manager()

    # Data-scope paths (see core.scopes): which fields hold the owner and the department.
    scope_owner_field = "owner"
    scope_department_field = "department"
    # Object type of the per-role scopes (accounts.RoleScope); None means the model name.
    scope_object_type: str | None = None

    class Meta:
        abstract = True


class DailySequence(models.Model):
    """Per-key counters (e.g. customer codes per day) incremented atomically in SQL."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("序列号")


class DictionaryType(models.Model):
    """A configurable picklist (客户分类, 客户来源, 所属行业, 跟进方式, ...)."""

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    is_system = models.BooleanField(_("系统内置"), default=True)

    class Meta:
        verbose_name = _("数据字典")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DictionaryItem(models.Model):
    """One value of a picklist; the ``code`` is stored on records, the label is shown."""

    dict_type = models.ForeignKey(DictionaryType, models.CASCADE, related_name="items")
    code = models.CharField(_("编码"), max_length=32)
    label = models.CharField(_("名称"), max_length=64)
    label_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("字典项")
        ordering = ["dict_type", "sort", "code"]
        constraints = [
            models.UniqueConstraint(fields=["dict_type", "code"], name="dictitem_unique_code"),
        ]

    def __str__(self) -> str:
        return self.label


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("单行文本")
    LONG_TEXT = "long_text", _("多行文本")
    NUMBER = "number", _("数字")
    MONEY = "money", _("金额")
    DATE = "date", _("日期")
    BOOLEAN = "boolean", _("是/否")
    CHOICE = "choice", _("单选（数据字典）")
    MULTI_CHOICE = "multi_choice", _("多选（数据字典）")


class CustomField(models.Model):
    """An admin-defined field of a business object (customers now, others as they arrive).

    Values live in the object's ``custom_fields`` JSON column under ``key``; the key, type and
    dictionary are fixed once created, so stored values never change meaning. Fields are
    deactivated, never deleted: their values stay on the records.
    """

    object_type = models.CharField(_("对象"), max_length=32)
    key = models.CharField(_("字段标识"), max_length=40)
    label = models.CharField(_("名称"), max_length=64)
    label_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    field_type = models.CharField(_("类型"), max_length=16, choices=CustomFieldType.choices)
    dictionary = models.ForeignKey(
        DictionaryType,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("数据字典"),
    )
    required = models.BooleanField(_("必填"), default=False)
    show_in_list = models.BooleanField(_("列表显示"), default=False)
    filterable = models.BooleanField(_("可筛选"), default=False)
    searchable = models.BooleanField(_("参与搜索"), default=False)
    help_text = models.CharField(_("填写说明"), max_length=200, blank=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("自定义字段")
        ordering = ["object_type", "sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["object_type", "key"], name="customfield_unique_key"),
        ]

    def __str__(self) -> str:
        return self.shown_label

    @property
    def shown_label(self) -> str:
        """The label in the user's language (the Chinese one when no English is set)."""
        english = (get_language() or "").startswith("en")
        return (self.label_en or self.label) if english else self.label

    @property
    def is_choice(self) -> bool:
        return self.field_type in (CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE)

"""One filter definition for the audit page, its exports and the audit API.

Every filter narrows a newest-first keyset walk over ``id``: equality filters on action,
object and actor are served by the indexes ending in ``-id``; the rest (IP, error code, text
in the object name) filter while the walk goes, which is fine when matches are common and
bounded by the time range otherwise. Nothing here counts rows.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import action_choices
from guanxi.audit.models import AuditEntry, AuditResult
from guanxi.core.errors import ERROR_CODES

# The keys a saved export or the API echoes back as "the filters used".
FILTER_KEYS = (
    "occurred_from",
    "occurred_to",
    "user",
    "action",
    "object_type",
    "object_id",
    "result",
    "ip",
    "error_code",
    "q",
)


def _local_bound(value: Any, end: bool) -> datetime | None:
    """A date means the whole day in the site's time zone; a datetime is taken as given."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max if end else time.min)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


class DateOrDateTimeField(forms.Field):
    """Accepts ``2026-11-23`` or ``2026-11-23T08:30`` (datetime-local) or ``2026-11-23 08:30``."""

    default_error_messages = {
        "invalid": _("请输入日期（YYYY-MM-DD）或日期时间（YYYY-MM-DD HH:MM）")
    }

    def to_python(self, value: Any) -> Any:
        if value in (None, ""):
            return None
        text = str(value).strip().replace("T", " ")
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            return parsed.date() if fmt == "%Y-%m-%d" else parsed
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class DateOrDateTimeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField

    def __init__(self, *args: Any, end: bool = False, **kwargs: Any) -> None:
        self.end = end
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        bound = _local_bound(value, self.end)
        if bound is None:
            return qs
        return qs.filter(occurred_at__lte=bound) if self.end else qs.filter(occurred_at__gte=bound)


def _validate_ip(value: str) -> None:
    from guanxi.audit.services import normalize_ip

    if value and normalize_ip(value) is None:
        raise forms.ValidationError(_("请输入有效的IP地址"), code="invalid")


class AuditEntryFilter(django_filters.FilterSet):
    occurred_from = DateOrDateTimeFilter(label=_("开始时间"))
    occurred_to = DateOrDateTimeFilter(label=_("结束时间"), end=True)
    user = django_filters.CharFilter(method="filter_user", label=_("用户名"), max_length=150)
    action = django_filters.CharFilter(method="filter_action", label=_("操作"), max_length=64)
    object_type = django_filters.CharFilter(label=_("对象类型"), max_length=64)
    object_id = django_filters.CharFilter(label=_("对象ID"), max_length=64)
    result = django_filters.ChoiceFilter(choices=AuditResult.choices, label=_("结果"))
    ip = django_filters.CharFilter(
        method="filter_ip", label=_("IP"), max_length=45, validators=[_validate_ip]
    )
    error_code = django_filters.ChoiceFilter(
        choices=[(code, f"{code} {label}") for code, (_status, label) in ERROR_CODES.items()],
        label=_("错误码"),
    )
    q = django_filters.CharFilter(
        field_name="object_repr", lookup_expr="icontains", label=_("对象名称包含"), max_length=100
    )

    class Meta:
        model = AuditEntry
        fields: list[str] = []

    def filter_user(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """By username: the actor's id (indexed) when the user exists, else the stored name
        (people whose account is gone, or failed sign-ins under an unknown name)."""
        from guanxi.accounts.models import User

        value = value.strip()
        if not value:
            return queryset
        user_id = User.objects.filter(username=value).values_list("pk", flat=True).first()
        if user_id is not None:
            return queryset.filter(actor_id=user_id)
        return queryset.filter(
            Q(actor_username=value) | Q(actor__isnull=True, params__username=value)
        )

    def filter_action(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """An exact code, or ``auth.*`` for every action of one kind."""
        value = value.strip()
        if value.endswith(".*"):
            return queryset.filter(action__startswith=value[:-1])
        return queryset.filter(action=value)

    def filter_ip(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        from guanxi.audit.services import normalize_ip

        ip = normalize_ip(value)
        return queryset.filter(ip=ip) if ip else queryset.none()


def known_action_choices() -> list[tuple[str, str]]:
    """For the action select: every registered action (the API accepts any code)."""
    return [("", _("全部操作")), *action_choices()]

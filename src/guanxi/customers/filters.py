"""One filter definition for the customer list page, the API list, exports and reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core import custom_field_queries
from guanxi.core.custom_fields import definitions
from guanxi.core.ids import MAX_ID
from guanxi.customers.choices import CustomerStatus, CustomerType, ReviewStatus
from guanxi.customers.models import Customer
from guanxi.customers.search import apply_customer_search

ORDERING_FIELDS = ("id", "created_at", "updated_at", "code", "name")
DEFAULT_ORDERING = "-id"
# A value that means "left empty" for the text filters (reports link their 未填写 bucket here).
BLANK = "__blank__"
FOLLOW_UP_DUE_TODAY = "today"
FOLLOW_UP_DUE_OVERDUE = "overdue"


class BlankOrIdField(forms.DecimalField):
    """An id, or ``BLANK`` for "none set" (records without a department)."""

    def clean(self, value: Any) -> Any:
        if value == BLANK:
            return BLANK
        return super().clean(value)


class BlankOrIdFilter(django_filters.NumberFilter):
    """Exact id; ``BLANK`` selects the rows where the foreign key is empty."""

    field_class = BlankOrIdField

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if value == BLANK:
            return qs.filter(**{f"{self.field_name}__isnull": True})
        return super().filter(qs, value)


def clean_ordering(value: str | None) -> str:
    """Allow-listed ordering; anything else falls back to the default (never reaches the ORM)."""
    value = (value or "").strip()
    return (
        value
        if value.lstrip("-") in ORDERING_FIELDS
        and value.count("-") <= 1
        and not value.endswith("-")
        else DEFAULT_ORDERING
    )


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("搜索"), max_length=100)
    status = django_filters.ChoiceFilter(choices=CustomerStatus.choices, label=_("客户状态"))
    customer_type = django_filters.ChoiceFilter(choices=CustomerType.choices, label=_("客户类型"))
    review_status = django_filters.ChoiceFilter(choices=ReviewStatus.choices, label=_("审核状态"))
    category = django_filters.CharFilter(method="filter_text", label=_("客户分类"), max_length=32)
    industry = django_filters.CharFilter(method="filter_text", label=_("所属行业"), max_length=32)
    source = django_filters.CharFilter(method="filter_text", label=_("客户来源"), max_length=32)
    province = django_filters.CharFilter(method="filter_text", label=_("省份"), max_length=32)
    city = django_filters.CharFilter(method="filter_text", label=_("城市"), max_length=32)
    # Bounded: an id beyond 64 bits is a validation error (422), not a database overflow.
    owner_id = django_filters.NumberFilter(
        field_name="owner_id", label=_("负责人"), min_value=0, max_value=MAX_ID
    )
    department_id = BlankOrIdFilter(
        field_name="department_id", label=_("部门"), min_value=0, max_value=MAX_ID
    )
    tag = django_filters.CharFilter(method="filter_tag", label=_("标签"), max_length=32)
    # The customers an import created (the import result page links here).
    import_batch = django_filters.NumberFilter(
        field_name="import_batch_id", label=_("导入批次"), min_value=0, max_value=MAX_ID
    )
    created_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("创建日期从")
    )
    created_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("创建日期至")
    )
    follow_up_due = django_filters.ChoiceFilter(
        method="filter_follow_up_due",
        choices=[(FOLLOW_UP_DUE_TODAY, _("今日待跟进")), (FOLLOW_UP_DUE_OVERDUE, _("已逾期"))],
        label=_("待跟进"),
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Filterable custom fields (core.custom_field_queries): cf_<key>, cf_<key>__from/__to.
        for name, custom in custom_field_queries.filters_for(
            definitions(Customer.scope_object_type)
        ).items():
            custom.model, custom.parent, custom.field_name = Customer, self, name
            self.filters[name] = custom

    def filter_q(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return apply_customer_search(queryset, value)

    def filter_text(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        """Exact match; ``BLANK`` selects the records that left the field empty."""
        return queryset.filter(**{name: "" if value == BLANK else value})

    def filter_follow_up_due(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        """Next follow-up due today (local day) or before today (overdue)."""
        start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        if value == FOLLOW_UP_DUE_OVERDUE:
            return queryset.filter(next_follow_up_at__lt=start)
        end = start + dt.timedelta(days=1)
        return queryset.filter(next_follow_up_at__gte=start, next_follow_up_at__lt=end)

    def filter_tag(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        from guanxi.customers.models import CustomerTag

        if value == BLANK:  # customers without any tag
            return queryset.exclude(pk__in=CustomerTag.objects.values("customer_id"))
        ids = CustomerTag.objects.filter(tag__name=value.strip()).values("customer_id")
        return queryset.filter(pk__in=ids)

"""Every read of follow-ups: the customer's data scope first, then filters, then keyset pages.

Follow-ups follow their customer: a follow-up of a customer outside the reader's scope (or in
the recycle bin) does not exist for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.dictionaries import dictionary_labels
from guanxi.core.errors import NotFound
from guanxi.core.ids import MAX_ID
from guanxi.core.pagination import Page, paginate
from guanxi.customers.choices import CustomerStatus
from guanxi.customers.filters import BLANK, BlankOrIdFilter
from guanxi.customers.follow_ups import METHOD_DICT, RESULT_DICT
from guanxi.customers.models import Contact, Customer, FollowUp

LIST_ORDERING = "-followed_at"
DUE_ORDERING = "next_follow_up_at"


class FollowUpFilter(django_filters.FilterSet):
    """One filter definition for the API list (and any page listing follow-ups)."""

    customer_id = django_filters.NumberFilter(
        field_name="customer_id", label=_("客户"), min_value=1, max_value=MAX_ID
    )
    owner_id = django_filters.NumberFilter(
        field_name="owner_id", label=_("跟进人"), min_value=1, max_value=MAX_ID
    )
    due_before = django_filters.IsoDateTimeFilter(
        field_name="next_follow_up_at", lookup_expr="lte", label=_("下次跟进不晚于")
    )
    # The follow-up owner's department (reports drill down by it; BLANK = none).
    department_id = BlankOrIdFilter(
        field_name="owner__department_id", label=_("跟进人部门"), min_value=0, max_value=MAX_ID
    )
    method = django_filters.CharFilter(label=_("跟进方式"), max_length=32)
    # Local dates (settings.TIME_ZONE), both ends included.
    followed_from = django_filters.DateFilter(
        field_name="followed_at", lookup_expr="date__gte", label=_("跟进日期从")
    )
    followed_to = django_filters.DateFilter(
        field_name="followed_at", lookup_expr="date__lte", label=_("跟进日期至")
    )
    # The pivot drills down by these (BLANK = left empty).
    result = django_filters.CharFilter(method="filter_text", label=_("跟进结果"), max_length=32)
    customer_status = django_filters.ChoiceFilter(
        field_name="customer__status", choices=CustomerStatus.choices, label=_("客户状态")
    )
    customer_category = django_filters.CharFilter(
        field_name="customer__category", method="filter_text", label=_("客户分类"), max_length=32
    )
    customer_industry = django_filters.CharFilter(
        field_name="customer__industry", method="filter_text", label=_("客户行业"), max_length=32
    )

    class Meta:
        model = FollowUp
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        """Exact match; ``BLANK`` selects the records that left the field empty."""
        return queryset.filter(**{name: "" if value == BLANK else value})


def follow_up_queryset(user: Any, action: str = "view") -> QuerySet:
    """Live follow-ups of live customers inside ``user``'s scope for ``action``."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm("customers.view_followup"):
        return FollowUp.objects.none()
    return (
        FollowUp.objects.alive()
        .restrict(user, action)
        .filter(customer__deleted_at__isnull=True)
        .select_related("customer", "owner", "contact")
    )


def follow_up_filter(user: Any, params: Mapping[str, Any]) -> FollowUpFilter:
    return FollowUpFilter(params, queryset=follow_up_queryset(user))


def follow_up_list(
    *, user: Any, params: Mapping[str, Any], cursor: str | None = None, limit: int = 50
) -> Page:
    """Newest first; the filter's errors are the caller's to report (API: 422)."""
    filterset = follow_up_filter(user, params)
    qs = filterset.qs if filterset.is_valid() else FollowUp.objects.none()
    return paginate(qs, ordering=LIST_ORDERING, cursor=cursor, limit=limit)


def follow_up_get(*, user: Any, pk: Any) -> FollowUp:
    try:
        return follow_up_queryset(user).get(pk=int(pk))
    except (FollowUp.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise NotFound() from exc


def follow_up_labels() -> dict[str, dict[str, str]]:
    """Method and result labels: one query per dictionary per page, never one per row."""
    return {"method": dictionary_labels(METHOD_DICT), "result": dictionary_labels(RESULT_DICT)}


def customer_contacts(customer: Customer) -> list[Contact]:
    """The contacts a follow-up of ``customer`` may name (the customer is already in scope)."""
    return list(Contact.objects.alive().filter(customer_id=customer.pk).only("id", "name", "title"))


def end_of_today() -> dt.datetime:
    now = timezone.localtime()
    return now.replace(hour=23, minute=59, second=59, microsecond=999999)


def due_queryset(user: Any) -> QuerySet:
    """The caller's own customers whose next follow-up is due by the end of today, each with
    the plan and method of its latest follow-up (``next_plan``, ``last_method``: one
    subquery each on the customer's follow-up index). The 我的跟进 page and its export."""
    if not user.has_perm("customers.view_customer"):
        return Customer.objects.none()
    latest = (
        FollowUp.objects.alive().filter(customer=OuterRef("pk")).order_by("-followed_at", "-id")
    )
    return (
        Customer.objects.alive()
        .restrict(user, "view")
        .filter(owner=user, next_follow_up_at__lte=end_of_today())
        .only(
            "id",
            "code",
            "name",
            "status",
            "contact_name",
            "last_follow_up_at",
            "next_follow_up_at",
            "owner_id",
            "department_id",
        )
        .annotate(
            next_plan=Subquery(latest.values("next_plan")[:1]),
            last_method=Subquery(latest.values("method")[:1]),
        )
    )


def due_list(*, user: Any, cursor: str | None = None, limit: int = 50) -> Page:
    """One page of ``due_queryset``, the most overdue first."""
    if not user.has_perm("customers.view_customer"):
        return Page(items=[], next_cursor=None, prev_cursor=None)
    return paginate(due_queryset(user), ordering=DUE_ORDERING, cursor=cursor, limit=limit)

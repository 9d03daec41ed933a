"""Template helpers for tags and segments on pages whose views belong to others (the
customer list and detail): one query each, never one per row."""

from __future__ import annotations

from typing import Any

from django import template

from guanxi.customers.models import Customer, CustomerTag, Tag

register = template.Library()


@register.simple_tag
def bulk_tag_choices() -> list[Tag]:
    """Tags for the list's 批量打标签 picker."""
    return list(Tag.objects.only("id", "name", "color").order_by("name"))


@register.simple_tag
def visible_segments(user: Any) -> list[dict[str, Any]]:
    """The viewer's own and shared segments with the list URL that applies each."""
    from guanxi.customers.segment_views import list_url
    from guanxi.customers.segments import segment_list

    return [{"segment": s, "url": list_url(s)} for s in segment_list(user=user)]


@register.simple_tag
def tag_links(customer: Customer) -> list[CustomerTag]:
    """A customer's tags with the rule that set each (None for manual ones)."""
    return list(
        CustomerTag.objects.filter(customer=customer)
        .select_related("tag", "rule")
        .only("tag__name", "tag__color", "rule__name", "customer_id")
        .order_by("tag__name")
    )

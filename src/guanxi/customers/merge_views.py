"""重复客户 pages: the duplicates report, the merge tool and merge records. Thin: reads through
customers.merge_selectors / selectors, writes through customers.merge."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound, PermissionDenied
from guanxi.customers import merge, merge_selectors, selectors
from guanxi.customers.models import Customer
from guanxi.customers.views import (
    CHOICE_LABELS,
    DETAIL_LABELS,
    EMPTY,
    _labels,
    field_label,
    personal_items,
)

PAGE_SIZE = 20
MSG_MERGED = _("已将客户“%(merged)s”合并到“%(survivor)s”，迁移关联记录 %(moved)s 条")
GROUP_LABELS = {"address": _("地址"), "owner": _("负责人")}
SIDE_LABELS = {merge.SURVIVOR: _("保留记录"), merge.MERGED: _("被合并记录"), merge.BOTH: _("两者")}
MOVED_LABELS = {"customers.CustomerTag": _("标签")}


def _forbidden_or_missing(exc: DomainError) -> Exception:
    return HttpForbidden() if isinstance(exc, PermissionDenied) else Http404()


@login_required
@require_GET
def duplicates_report(request: HttpRequest) -> HttpResponse:
    """Groups of customers sharing a name core or a contact value, largest first."""
    require_page_perm(request, merge.MERGE_PERM, "customer.merge")
    key = request.GET.get("key") or "name_core"
    try:
        page = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page = 1
    try:
        groups, has_more = merge_selectors.duplicate_groups(
            request.user, key, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    except DomainError as exc:
        raise _forbidden_or_missing(exc) from exc
    context = {
        "groups": groups,
        "key": key,
        "keys": merge_selectors.REPORT_KEYS,
        "page": page,
        "has_more": has_more,
        "group_limit": merge_selectors.GROUP_MEMBERS,
    }
    return render(request, "customers/duplicates.html", context)


def _display(user: Any, customer: Customer, labels: dict[str, dict[str, str]]) -> dict[str, str]:
    """Each merge choice as the page shows it (personal values masked as elsewhere)."""
    personal = personal_items(user, customer)
    region = "".join(
        dict.fromkeys(v for v in (customer.province, customer.city, customer.district) if v)
    )
    shown = {
        "name": customer.name,
        "customer_type": CHOICE_LABELS["customer_type"].get(customer.customer_type, ""),
        "contact_name": customer.contact_name,
        "address": f"{region} {customer.address}".strip(),
        "industry": labels["industry"].get(customer.industry, customer.industry),
        "category": labels["customer_category"].get(customer.category, customer.category),
        "source": labels["customer_source"].get(customer.source, customer.source),
        "status": CHOICE_LABELS["status"].get(customer.status, customer.status),
        "owner": customer.owner.display_name if customer.owner_id else "",
        "notes": customer.notes,
        **{f: item["value"] for f, item in personal.items()},
    }
    return {group: shown.get(group) or EMPTY for group in merge.FIELD_GROUPS}


def _pair(request: HttpRequest, source: Any) -> tuple[Customer, Customer]:
    try:
        survivor = selectors.customer_get(user=request.user, pk=source.get("survivor"))
        merged = selectors.customer_get(user=request.user, pk=source.get("merged"))
    except NotFound as exc:
        raise Http404() from exc
    return survivor, merged


@login_required
@require_http_methods(["GET", "POST"])
def merge_page(request: HttpRequest) -> HttpResponse:
    """Side by side: pick the surviving record and, per field, the value that wins."""
    require_page_perm(request, merge.MERGE_PERM, "customer.merge")
    source = request.POST if request.method == "POST" else request.GET
    survivor, merged = _pair(request, source)
    problem, errors = None, {}
    if request.method == "POST":
        choices = {g: request.POST.get(f"choice_{g}", "") for g in merge.FIELD_GROUPS}
        try:
            record = merge.customer_merge(
                actor=request.user,
                survivor=survivor,
                merged=merged,
                choices={g: side for g, side in choices.items() if side},
                reason=request.POST.get("reason", ""),
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            errors = exc.message_dict
        except NotFound as exc:
            raise Http404() from exc
        except DomainError as exc:
            problem = exc
        else:
            moved = sum(record.moved.values())
            messages.success(
                request,
                MSG_MERGED % {"merged": merged.name, "survivor": survivor.name, "moved": moved},
            )
            return redirect("customers:merge_record", pk=record.pk)
        chosen = choices
    else:
        chosen = merge.default_choices(survivor, merged)
    labels = _labels(DETAIL_LABELS)
    mine, theirs = _display(request.user, survivor, labels), _display(request.user, merged, labels)
    rows = [
        {
            "group": group,
            "label": GROUP_LABELS.get(group) or field_label(group),
            "survivor": mine[group],
            "merged": theirs[group],
            "same": mine[group] == theirs[group],
            "choice": chosen.get(group) or merge.SURVIVOR,
            "allow_both": group == "notes",
        }
        for group in merge.FIELD_GROUPS
    ]
    swap = reverse("customers:merge") + f"?survivor={merged.pk}&merged={survivor.pk}"
    context = {
        "survivor": survivor,
        "merged": merged,
        "rows": rows,
        "swap_url": swap,
        "problem": problem,
        "errors": errors,
        "reason": request.POST.get("reason", ""),
    }
    status = 422 if (problem or errors) else 200
    return render(request, "customers/merge.html", context, status=status)


@login_required
@require_GET
def merge_record(request: HttpRequest, pk: int) -> HttpResponse:
    """What a merge did: both records as they were, the winning side per field, what moved."""
    try:
        record = merge_selectors.merge_get(request.user, pk)
    except DomainError as exc:
        raise _forbidden_or_missing(exc) from exc
    labels = _labels(DETAIL_LABELS)
    owners = merge_selectors.owner_names(record)
    rows = [
        {
            "label": GROUP_LABELS.get(group) or field_label(group),
            "survivor": _snapshot_text(record.survivor_before, group, labels, owners),
            "merged": _snapshot_text(record.merged_before, group, labels, owners),
            "side": SIDE_LABELS.get(record.field_choices.get(group, ""), ""),
        }
        for group in merge.FIELD_GROUPS
    ]
    moved = [
        {"label": MOVED_LABELS.get(label, label), "count": count}
        for label, count in sorted(record.moved.items())
    ]
    context = {"record": record, "rows": rows, "moved": moved}
    return render(request, "customers/merge_record.html", context)


def _snapshot_text(
    snapshot: dict[str, Any], group: str, labels: dict[str, dict[str, str]], owners: dict
) -> str:
    """A snapshot's value for one merge choice, with codes turned into labels."""
    lookups = {
        "status": CHOICE_LABELS["status"],
        "customer_type": CHOICE_LABELS["customer_type"],
        "industry": labels["industry"],
        "category": labels["customer_category"],
        "source": labels["customer_source"],
        "owner_id": owners,
    }
    values = []
    for column in merge.FIELD_GROUPS[group]:
        if column == "department_id":
            continue
        value = snapshot.get(column)
        value = lookups.get(column, {}).get(value, value)
        if value not in (None, ""):
            values.append(str(value))
    return " ".join(dict.fromkeys(values)) or EMPTY

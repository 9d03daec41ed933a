"""重复客户 pages: the duplicates report, the merge tool and merge records. Thin: reads through
customers.merge_selectors / selectors, writes through customers.merge."""

from __future__ import annotations

from collections.abc import Mapping
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
    DETAIL_LABELS,
    EMPTY,
    ValueFormatter,
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


def _group_texts(values: Mapping[str, Any], fmt: ValueFormatter) -> dict[str, str]:
    """Each merge choice as text, through the formatter the change history uses (labels for
    codes, owner names); a region repeated as province and city shows once."""
    texts = {}
    for group, columns in merge.FIELD_GROUPS.items():
        shown = [fmt(c, values.get(c)) for c in columns if c != "department_id"]
        texts[group] = " ".join(dict.fromkeys(str(v) for v in shown if v != EMPTY)) or EMPTY
    return texts


def _live_values(user: Any, customer: Customer) -> dict[str, Any]:
    """The customer's merge columns, personal values masked as on its page."""
    values = {c: getattr(customer, c) for cols in merge.FIELD_GROUPS.values() for c in cols}
    values.update({f: item["value"] for f, item in personal_items(user, customer).items()})
    return values


def _formatter(*owner_ids: Any) -> ValueFormatter:
    return ValueFormatter(_labels(DETAIL_LABELS), [("owner_id", pk) for pk in owner_ids])


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
    fmt = _formatter(survivor.owner_id, merged.owner_id)
    mine = _group_texts(_live_values(request.user, survivor), fmt)
    theirs = _group_texts(_live_values(request.user, merged), fmt)
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
    fmt = _formatter(record.survivor_before.get("owner_id"), record.merged_before.get("owner_id"))
    survivor, merged = (
        _group_texts(record.survivor_before, fmt),
        _group_texts(record.merged_before, fmt),
    )
    rows = [
        {
            "label": GROUP_LABELS.get(group) or field_label(group),
            "survivor": survivor[group],
            "merged": merged[group],
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

"""Pages of follow-ups, interactions and the timeline. Thin: reads through the selectors,
writes through customers.follow_ups.

The entry forms open in one shared modal (``customers/_entry_modal.html``) filled by htmx;
without JavaScript the same URLs serve whole pages. htmx does not swap 4xx answers, so a form
with errors answers 200 to htmx and 422 to a plain POST.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import NotFound, StaleVersion, error_text
from guanxi.core.list_pages import page_or_first, render_list
from guanxi.core.pagination import BadCursor
from guanxi.core.scopes import OWN, effective_scope
from guanxi.customers import follow_up_selectors, follow_ups, selectors, timeline
from guanxi.customers.follow_up_forms import DATETIME_FORMAT, FollowUpForm, InteractionForm
from guanxi.customers.models import Customer, FollowUp

TIMELINE_PAGE = 20
DUE_PAGE = 50
DUE_TARGET = "due-table"
MSG_FOLLOW_UP_SAVED = _("跟进记录已保存")
MSG_INTERACTION_SAVED = _("互动记录已保存")
MSG_FOLLOW_UP_UPDATED = _("跟进记录已修改")


def _customer(request: HttpRequest, pk: int) -> Customer:
    try:
        return selectors.customer_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc


def _next_url(request: HttpRequest, customer: Customer) -> str:
    """Where a saved entry goes back to: the page it was opened from (same site only)."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("customers:detail", args=[customer.pk])


def _done(request: HttpRequest, customer: Customer) -> HttpResponse:
    target = _next_url(request, customer)
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def _attach_errors(form: Any, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, field_messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)


def _form_response(
    request: HttpRequest, template: str, context: dict[str, Any], form: Any
) -> HttpResponse:
    htmx = bool(getattr(request, "htmx", False))
    context.update(form=form, in_modal=htmx, next_url=_next_url(request, context["customer"]))
    status = 422 if form.is_bound and not htmx else 200
    page = template if htmx else "customers/entry_page.html"
    return render(request, page, {**context, "partial": template}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Quick entry (快速跟进) from the customer page, the customer list and 我的跟进."""
    customer = _customer(request, pk)
    require_page_perm(request, "customers.add_followup", "follow_up.create", target="follow_up")
    if not selectors.customer_writable(request.user, customer):
        raise Http404()
    contacts = follow_up_selectors.customer_contacts(customer)
    form = FollowUpForm(request.POST or None, contacts=contacts)
    if request.method == "POST" and form.is_valid():
        try:
            follow_ups.follow_up_create(
                actor=request.user,
                customer_id=customer.pk,
                data=form.cleaned_data,
                meta=RequestMeta.from_request(request),
            )
        except NotFound as exc:
            raise Http404() from exc
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, MSG_FOLLOW_UP_SAVED)
            return _done(request, customer)
    context = {
        "customer": customer,
        "title": _("新增跟进"),
        "action": reverse("customers:follow_up_create", args=[customer.pk]),
    }
    return _form_response(request, "customers/_follow_up_form.html", context, form)


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime(DATETIME_FORMAT) if value else ""


def _edit_initial(follow_up: FollowUp) -> dict[str, Any]:
    return {
        "method": follow_up.method,
        "contact_id": str(follow_up.contact_id or ""),
        "followed_at": _local(follow_up.followed_at),
        "content": follow_up.content,
        "result": follow_up.result,
        "next_follow_up_at": _local(follow_up.next_follow_up_at),
        "next_plan": follow_up.next_plan,
        "version": follow_up.version,
    }


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """修改跟进: the author, or someone whose write scope is wider than their own records."""
    try:
        follow_up = follow_up_selectors.follow_up_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc
    require_page_perm(
        request,
        "customers.change_followup",
        "follow_up.update",
        target="follow_up",
        follow_up=follow_up,
    )
    customer = follow_up.customer
    if not selectors.customer_writable(request.user, customer):
        raise Http404()
    if not follow_ups.may_edit(request.user, follow_up):
        raise HttpForbidden()
    contacts = follow_up_selectors.customer_contacts(customer)
    form = FollowUpForm(request.POST or None, contacts=contacts, initial=_edit_initial(follow_up))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        for field in ("followed_at", "next_follow_up_at"):
            # The picker shows minutes: an untouched time keeps its stored seconds.
            stored = getattr(follow_up, field)
            if data.get(field) and _local(data[field]) == _local(stored):
                data[field] = stored
        try:
            follow_ups.follow_up_update(
                actor=request.user,
                follow_up=follow_up,
                data=data,
                version=version,
                meta=RequestMeta.from_request(request),
            )
        except NotFound as exc:
            raise Http404() from exc
        except StaleVersion as exc:
            form.add_error(None, error_text(exc))
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, MSG_FOLLOW_UP_UPDATED)
            return _done(request, customer)
    context = {
        "customer": customer,
        "title": _("修改跟进"),
        "action": reverse("customers:follow_up_edit", args=[follow_up.pk]),
    }
    return _form_response(request, "customers/_follow_up_form.html", context, form)


def _editable_ids(user: Any, customer_writable: bool, items: list[Any]) -> set[int]:
    """Follow-ups on the page the user may edit (no query: scope and perms are cached)."""
    if not customer_writable or not user.has_perm("customers.change_followup"):
        return set()
    wide = effective_scope(user, "change", Customer.scope_object_type) not in (None, OWN)
    return {i.id for i in items if i.kind == "follow_up" and (wide or i.actor_id == user.pk)}


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_interaction_create(request: HttpRequest, pk: int) -> HttpResponse:
    """记录互动: an activity, complaint, visit ... on a customer the user can see."""
    customer = _customer(request, pk)
    require_page_perm(
        request, "customers.add_interaction", "interaction.create", target="interaction"
    )
    form = InteractionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            follow_ups.interaction_create(
                actor=request.user,
                customer_id=customer.pk,
                data=form.cleaned_data,
                meta=RequestMeta.from_request(request),
            )
        except NotFound as exc:
            raise Http404() from exc
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, MSG_INTERACTION_SAVED)
            return _done(request, customer)
    context = {
        "customer": customer,
        "title": _("记录互动"),
        "action": reverse("customers:follow_up_interaction_create", args=[customer.pk]),
    }
    return _form_response(request, "customers/_interaction_form.html", context, form)


@login_required
@require_GET
def customer_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline section of the customer page (lazy-loaded), its kind chips and its
    "加载更多" pages; a whole page without htmx."""
    customer = _customer(request, pk)
    user = request.user
    sources = timeline.visible_sources(user)
    kind = request.GET.get("kind", "")
    kinds = [kind] if kind in {s.kind for s in sources} else None
    try:
        page = timeline.timeline_page(
            user=user,
            customer=customer,
            kinds=kinds,
            cursor=request.GET.get("cursor"),
            limit=TIMELINE_PAGE,
        )
    except BadCursor:
        page = timeline.timeline_page(
            user=user, customer=customer, kinds=kinds, limit=TIMELINE_PAGE
        )
    url = reverse("customers:timeline", args=[customer.pk])
    writable = selectors.customer_writable(user, customer)
    context = {
        "customer": customer,
        "items": page.items,
        "next_cursor": page.next_cursor,
        "kind": kinds[0] if kinds else "",
        "chips": [{"kind": s.kind, "label": s.label} for s in sources],
        "timeline_url": url,
        "can_follow_up": user.has_perm("customers.add_followup") and writable,
        "editable_ids": _editable_ids(user, writable, page.items),
        "can_interact": user.has_perm("customers.add_interaction"),
        "next_url": reverse("customers:detail", args=[customer.pk]),
        "now": timezone.now(),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and request.GET.get("more"):
        return render(request, "customers/_timeline_more.html", context)
    if htmx and not htmx.history_restore_request:
        return render(request, "customers/_timeline.html", context)
    return render(request, "customers/timeline_page.html", context)


@login_required
@require_GET
def follow_up_due(request: HttpRequest) -> HttpResponse:
    """我的跟进: the user's customers whose next follow-up is due today or overdue."""
    user = request.user
    page = page_or_first(request, follow_up_selectors.due_list, user=user, limit=DUE_PAGE)
    labels = follow_up_selectors.follow_up_labels()["method"]
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for c in page.items:
        overdue_days = (today.date() - timezone.localtime(c.next_follow_up_at).date()).days
        rows.append(
            {
                "customer": c,
                "overdue_days": overdue_days,
                "method": labels.get(c.last_method or "", c.last_method or ""),
            }
        )
    context = {
        "rows": rows,
        "page": page,
        "table_target": f"#{DUE_TARGET}",
        "can_follow_up": user.has_perm("customers.add_followup"),
        "next_url": request.get_full_path(),
    }
    return render_list(
        request,
        context,
        target=DUE_TARGET,
        table_template="customers/_follow_up_due_table.html",
        page_template="customers/follow_up_due.html",
    )

"""Customer pages. Thin: reads go through customers.selectors, writes through
customers.services; this module only turns requests into calls and results into pages."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.accounts.models import Department, User
from guanxi.audit.actions import action_label
from guanxi.audit.models import AuditEntry
from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core import custom_field_forms, custom_fields, regions
from guanxi.core.dictionaries import dictionary_labels
from guanxi.core.errors import DomainError, NotFound, PermissionDenied, StaleVersion, error_text
from guanxi.core.list_pages import page_or_first, render_list
from guanxi.core.masking import mask
from guanxi.core.models import CustomField
from guanxi.customers import (
    approvals,
    churn_selectors,
    merge_selectors,
    reveal,
    selectors,
    services,
)
from guanxi.customers.choices import CustomerStatus, CustomerType, ReviewStatus
from guanxi.customers.duplicates import UnconfirmedDuplicates
from guanxi.customers.filters import clean_ordering
from guanxi.customers.forms import (
    FORM_ONLY_FIELDS,
    SENSITIVE_INPUTS,
    CustomerFilterForm,
    CustomerForm,
    StatusChangeForm,
    owner_choices,
    tag_names,
)
from guanxi.customers.models import Customer
from guanxi.customers.privacy import PRIVACY_PERM
from guanxi.customers.validation import DICTIONARY_FIELDS
from guanxi.workflow import approval_selectors

PAGE_SIZE = 20
# Status changes on the customer page; the timeline holds all of them.
STATUS_ROWS_SHOWN = 10
TABLE_TARGET = "customer-table"
MSG_CREATED = _("客户“%(name)s”已创建，客户编号 %(code)s")
MSG_UPDATED = _("客户信息已保存")
MSG_RENAME_REQUESTED = _("名称变更已提交审批，审批通过后生效")
MSG_RESUBMITTED = _("已重新提交审核")
MSG_STATUS_CHANGED = _("客户状态已变更为“%(status)s”")
MSG_DELETED = _("客户“%(name)s”已移入回收站")
MSG_STALE_STATUS = _("该客户已被他人修改，请查看最新信息后重试（%(code)s）")
LIST_LABELS = ("industry", "customer_category")
# Shown on every screen; the rest fold behind "更多筛选" on phones.
PRIMARY_FILTERS = ("status", "category", "industry")
DETAIL_LABELS = ("industry", "customer_category", "customer_source")


def _meta(request: HttpRequest) -> RequestMeta:
    return RequestMeta.from_request(request)


def _get(request: HttpRequest, pk: int, action: str = "view") -> Customer:
    try:
        return selectors.customer_get(user=request.user, pk=pk, action=action)
    except NotFound as exc:
        raise Http404() from exc


def _get_for_write(request: HttpRequest, pk: int, perm: str, action: str) -> Customer:
    """404 outside the read scope, then 403 without ``perm``, then 404 outside the write
    scope: a record the user cannot see never answers differently from a missing one."""
    require_page_perm(request, perm, action, customer=_get(request, pk))
    return _get(request, pk, action="change")


def _attach_errors(form: Any, exc: ValidationError) -> None:
    """Put each service message under its field; unknown fields go to the form's top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, field_messages in exc.message_dict.items():
        name = custom_field_forms.error_field(field)
        form.add_error(name if name in form.fields else None, field_messages)


def _labels(codes: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """One query per dictionary per page, never one per row."""
    return {code: dictionary_labels(code) for code in codes}


_PHONE_HREF = re.compile(r"\+?[0-9][0-9 ()\-]{2,39}")
_EMAIL_HREF = re.compile(r"[^\s\"'<>@:/?#]+@[^\s\"'<>@:/?#]+")


def contact_href(field: str, value: str) -> str:
    """A ``tel:``/``mailto:`` link for a value shown in full; none for a value that does not
    look like a phone or an address (stored data is validated, but a link is only ever built
    from a value of the right shape, and the template escapes it besides)."""
    if field in ("mobile", "phone") and _PHONE_HREF.fullmatch(value):
        return "tel:" + value.replace(" ", "")
    if field == "email" and _EMAIL_HREF.fullmatch(value):
        return "mailto:" + value
    return ""


def personal_items(
    user: Any, customer: Customer, fields: tuple[str, ...] = SENSITIVE_INPUTS
) -> dict[str, dict[str, Any]]:
    """Each personal field as a page shows it: the value (masked or not), a contact link for a
    full value, and whether a "显示" button is offered (masked, and the user may reveal)."""
    shown = selectors.sensitive_values(user, customer)
    full = selectors.shows_sensitive(user, customer)
    may_reveal = not full and selectors.can_view_sensitive(user, customer)
    return {
        f: {
            "field": f,
            "value": shown[f],
            "masked": not full,
            "can_reveal": may_reveal and bool(shown[f]),
            "href": contact_href(f, shown[f]) if full else "",
            "customer_id": customer.pk,
        }
        for f in fields
    }


def _personal(user: Any, customer: Customer) -> dict[str, str]:
    """Values for the edit form: in full for permitted users, never masked text."""
    values = {f: getattr(customer, f) or "" for f in SENSITIVE_INPUTS}
    return values if selectors.can_view_sensitive(user, customer) else dict.fromkeys(values, "")


# --- history and conflict tables ----------------------------------------------------------

ACTION_LABELS = {
    "customer.create": _("新建"),
    "customer.update": _("编辑"),
    "customer.change_status": _("状态变更"),
    "customer.delete": _("删除"),
    "customer.review": _("审核"),
    "customer.resubmit": _("重新提交"),
    "customer.rename": _("改名"),
    "customer.restore": _("恢复"),
    "customer.merge": _("合并"),
}
EXTRA_FIELD_LABELS = {"owner_id": _("负责人"), "department_id": _("所属部门"), "tags": _("标签")}
CHOICE_LABELS = {
    "status": dict(CustomerStatus.choices),
    "customer_type": dict(CustomerType.choices),
    "review_status": dict(ReviewStatus.choices),
}
EMPTY = "—"


def field_label(name: str) -> Any:
    """The Chinese (translatable) name of an audited field, as the forms show it."""
    if name in EXTRA_FIELD_LABELS:
        return EXTRA_FIELD_LABELS[name]
    try:
        return Customer._meta.get_field(name).verbose_name
    except FieldDoesNotExist:
        return name


class ValueFormatter:
    """Stored values as people read them: labels for codes, names for user/department ids.

    Names are looked up once for all ids given, so a long history costs two queries.
    """

    def __init__(self, labels: dict[str, dict[str, str]], pairs: list[tuple[str, Any]]) -> None:
        self.labels = labels
        self._custom: dict[str, CustomField] | None = None
        self._custom_labels: dict[str, dict[str, str]] = {}
        owners = {v for f, v in pairs if f == "owner_id" and v}
        depts = {v for f, v in pairs if f == "department_id" and v}
        self.users = (
            {
                pk: name or username
                for pk, name, username in User.objects.filter(pk__in=owners).values_list(
                    "pk", "name", "username"
                )
            }
            if owners
            else {}
        )
        self.departments = (
            dict(Department.objects.filter(pk__in=depts).values_list("pk", "name")) if depts else {}
        )

    def custom(self, name: str) -> CustomField | None:
        """The definition behind a ``custom_fields.<key>`` entry (all of them read once)."""
        if not name.startswith(custom_fields.PREFIX):
            return None
        if self._custom is None:
            fields = services.custom_field_definitions()
            self._custom = {f.key: f for f in fields}
            self._custom_labels = custom_fields.choice_labels(fields)
        return self._custom.get(name[len(custom_fields.PREFIX) :])

    def label(self, name: str) -> Any:
        definition = self.custom(name)
        if definition is not None:
            return definition.shown_label
        if name.startswith(custom_fields.PREFIX):  # a field since removed: its key
            return name[len(custom_fields.PREFIX) :]
        return field_label(name)

    def __call__(self, field: str, value: Any) -> Any:
        if value in (None, "", []):
            return EMPTY
        definition = self.custom(field)
        if definition is not None:
            return custom_fields.display_value(
                definition, value, self._custom_labels.get(definition.key)
            )
        if field in CHOICE_LABELS:
            return CHOICE_LABELS[field].get(value, value)
        if field in DICTIONARY_FIELDS:
            return self.labels.get(DICTIONARY_FIELDS[field], {}).get(value, value)
        if field == "owner_id":
            return self.users.get(value, value)
        if field == "department_id":
            return self.departments.get(value, value)
        if field == "tags":
            return "、".join(str(v) for v in value)
        if field.endswith("_at") and isinstance(value, str) and parse_datetime(value):
            return timezone.localtime(parse_datetime(value)).strftime("%Y-%m-%d %H:%M")
        return value


def change_history_rows(
    entries: list[AuditEntry], labels: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """Audit entries as (time, who, IP, action label, [field, before, after]) rows."""
    pairs = [(f, v) for e in entries for f, ba in e.changes.items() for v in ba]
    fmt = ValueFormatter(labels, pairs)
    rows = []
    for entry in entries:
        changes = [
            (fmt.label(f), fmt(f, before), fmt(f, after))
            for f, (before, after) in entry.changes.items()
            if before not in (None, "", []) or after not in (None, "", [])
        ]
        rows.append(
            {
                "entry": entry,
                "action": ACTION_LABELS.get(entry.action) or action_label(entry.action),
                "changes": changes,
            }
        )
    return rows


def conflict_rows(
    current: Customer, submitted: dict[str, Any], *, full: bool = True
) -> list[dict[str, Any]]:
    """Fields where the record as it is now differs from what the user submitted (personal
    values masked unless ``full``: a conflict must not unmask what the edit form hid)."""
    labels = _labels(DETAIL_LABELS)
    fmt = ValueFormatter(labels, [])
    rows = []
    for field, mine in _flatten_custom(current, submitted).items():
        if field.startswith(custom_fields.PREFIX):
            now = (current.custom_fields or {}).get(field[len(custom_fields.PREFIX) :])
            if now != mine:
                rows.append(
                    {
                        "field": field,
                        "label": fmt.label(field),
                        "current": fmt(field, now),
                        "mine": fmt(field, mine),
                    }
                )
            continue
        now = (
            sorted(t.name for t in current.tags.all())
            if field == "tags"
            else getattr(current, field, None)
        )
        if field in SENSITIVE_INPUTS and not full:
            now = mask(field, now or "")
        if field == "tags":
            mine = sorted(mine)
        if (now or "") != (mine or ""):
            rows.append(
                {
                    "field": field,
                    "label": field_label(field),
                    "current": fmt(field, now),
                    "mine": fmt(field, mine),
                }
            )
    return rows


def _flatten_custom(current: Customer, submitted: dict[str, Any]) -> dict[str, Any]:
    """``submitted`` with its custom values as ``custom_fields.<key>`` entries, each in its
    stored form when it is valid (so "1234.5" and a stored "1234.50" count as the same)."""
    flat = {f: v for f, v in submitted.items() if f != "custom_fields"}
    definitions = {f.key: f for f in services.custom_field_definitions(active_only=True)}
    stored = current.custom_fields or {}
    for key, raw in (submitted.get("custom_fields") or {}).items():
        value = raw
        if key in definitions:
            with contextlib.suppress(ValidationError):
                value = custom_fields.clean_value(definitions[key], raw, current=stored.get(key))
        flat[custom_fields.error_key(key)] = value
    return flat


def keep_current_values(submitted: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """``submitted`` with the fields the user chose to leave as they are now (after a
    conflict) dropped, so the save keeps the other person's value for them."""
    keep = set(fields)
    kept = {f: v for f, v in submitted.items() if f not in keep}
    if isinstance(kept.get("custom_fields"), dict):
        kept["custom_fields"] = {
            k: v for k, v in kept["custom_fields"].items() if custom_fields.error_key(k) not in keep
        }
    return kept


# --- list --------------------------------------------------------------------------------


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    """Filters, sortable columns and keyset pages; htmx swaps only the table."""
    user, params = request.user, request.GET
    filterset = selectors.customer_filter(user, params)
    ordering = clean_ordering(params.get("ordering"))
    page = page_or_first(
        request, selectors.customer_list, user=user, params=params, limit=PAGE_SIZE
    )
    count = selectors.customer_count(user=user, params=params, cap=selectors.COUNT_CAP)
    labels = _labels(LIST_LABELS)
    custom = services.custom_field_definitions(active_only=True)
    columns = [f for f in custom if f.show_in_list]
    column_labels = custom_fields.choice_labels(columns)
    rows = [
        {
            "customer": c,
            "mobile": personal_items(user, c, fields=("mobile",))["mobile"],
            "industry": labels["industry"].get(c.industry, c.industry),
            "category": labels["customer_category"].get(c.category, c.category),
            "custom": [
                custom_fields.display_value(
                    f, (c.custom_fields or {}).get(f.key), column_labels.get(f.key)
                )
                for f in columns
            ],
        }
        for c in page.items
    ]
    context = {
        "rows": rows,
        "custom_columns": columns,
        "page": page,
        "ordering": ordering,
        "count": count,
        "count_capped": count > selectors.COUNT_CAP,
        "cap": selectors.COUNT_CAP,
        "filter_errors": filterset.errors if not filterset.is_valid() else {},
        "table_target": f"#{TABLE_TARGET}",
    }

    def filter_form() -> dict[str, Any]:
        form = CustomerFilterForm(
            params,
            labels=labels,
            owners=owner_choices(user),
            tags=tag_names(),
            custom_fields=custom,
        )
        more = any(params.get(f) for f in form.fields if f not in (*PRIMARY_FILTERS, "q"))
        return {"form": form, "primary_filters": PRIMARY_FILTERS, "more_filters_active": more}

    return render_list(
        request,
        context,
        target=TABLE_TARGET,
        table_template="customers/_table.html",
        page_template="customers/list.html",
        page_extras=filter_form,
    )


@login_required
@require_GET
def region_options(request: HttpRequest) -> JsonResponse:
    """Cities of a province, or districts of a city, for the cascading selects."""
    province = request.GET.get("province", "").strip()
    city = request.GET.get("city", "").strip()
    if not province:
        items: list[tuple[str, str]] = list(regions.provinces())
    elif city:
        items = list(regions.districts(province, city))
    else:
        items = list(regions.cities(province))
    return JsonResponse({"items": [{"code": code, "name": name} for code, name in items]})


# --- create / edit -----------------------------------------------------------------------


def _form_page(request: HttpRequest, form: CustomerForm, **extra: Any) -> HttpResponse:
    status = 200 if not (form.is_bound and (form.errors or extra.get("problem"))) else 422
    if extra.get("conflicts") is not None or extra.get("similar"):
        status = 409
    matched = {f: field_label(f) for f in ("name", *SENSITIVE_INPUTS)}
    return render(
        request,
        "customers/form.html",
        {"form": form, "matched_labels": matched, **extra},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    require_page_perm(request, "customers.add_customer", "customer.create")
    form = CustomerForm(request.POST or None)
    problem = None
    similar = None
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(
                actor=request.user,
                data=form.service_data(),
                meta=_meta(request),
                confirm_duplicates=form.cleaned_data["confirm_duplicates"],
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        except UnconfirmedDuplicates as exc:
            similar = exc.warnings
        except DomainError as exc:
            problem = exc
        else:
            messages.success(request, MSG_CREATED % {"name": customer.name, "code": customer.code})
            return redirect("customers:detail", pk=customer.pk)
    return _form_page(request, form, problem=problem, similar=similar, is_edit=False)


def _initial(customer: Customer, personal: dict[str, str], full: bool) -> dict[str, Any]:
    fields = [f for f in CustomerForm.base_fields if f not in ("tags", *FORM_ONLY_FIELDS)]
    initial = {f: getattr(customer, f) for f in fields}
    initial["loaded_at"] = timezone.now()
    initial.update({f: (personal[f] if full else "") for f in SENSITIVE_INPUTS})
    initial["tags"] = "，".join(t.name for t in customer.tags.all())
    initial.update(
        custom_field_forms.initial_values(
            services.custom_field_definitions(active_only=True), customer.custom_fields or {}
        )
    )
    initial["version"] = customer.version
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _get_for_write(request, pk, "customers.change_customer", "customer.update")
    full = selectors.can_view_sensitive(request.user, customer)
    if request.method == "GET":
        form = CustomerForm(
            initial=_initial(customer, _personal(request.user, customer), full),
            hidden_sensitive=not full,
            stored_custom=customer.custom_fields,
        )
        return _form_page(request, form, customer=customer, is_edit=True)
    form = CustomerForm(
        request.POST, hidden_sensitive=not full, stored_custom=customer.custom_fields
    )
    form.fields["version"].required = True
    problem = conflicts = similar = others = None
    if form.is_valid():
        try:
            saved = services.customer_update(
                actor=request.user,
                customer=customer,
                data=keep_current_values(form.service_data(), request.POST.getlist("keep_current")),
                version=form.cleaned_data["version"],
                meta=_meta(request),
                confirm_duplicates=form.cleaned_data["confirm_duplicates"],
            )
        except StaleVersion as exc:
            customer = _get(request, pk)
            conflicts = conflict_rows(customer, form.service_data(), full=full)
            since = form.cleaned_data.get("loaded_at")
            others = change_history_rows(
                selectors.customer_changes_since(customer=customer, since=since) if since else [],
                _labels(DETAIL_LABELS),
            )
            data = request.POST.copy()
            data["version"] = str(customer.version)
            data["loaded_at"] = timezone.now().isoformat()
            form = CustomerForm(
                data, hidden_sensitive=not full, stored_custom=customer.custom_fields
            )
            problem = exc
        except ValidationError as exc:
            _attach_errors(form, exc)
        except UnconfirmedDuplicates as exc:
            similar = exc.warnings
        except NotFound as exc:
            raise Http404() from exc
        except DomainError as exc:
            problem = exc
        else:
            messages.success(request, MSG_UPDATED)
            if saved.pending_rename is not None:
                messages.info(request, MSG_RENAME_REQUESTED)
            return redirect("customers:detail", pk=customer.pk)
    return _form_page(
        request,
        form,
        customer=customer,
        is_edit=True,
        problem=problem,
        conflicts=conflicts,
        others=others,
        similar=similar,
    )


# --- detail, status, delete --------------------------------------------------------------


@login_required
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _get(request, pk)
    labels = _labels(DETAIL_LABELS)
    user = request.user
    may_change = user.has_perm("customers.change_customer")
    may_delete = user.has_perm("customers.delete_customer")
    # Buttons only for records the user could actually change (inside the write scope).
    writable = (may_change or may_delete) and selectors.customer_writable(user, customer)
    context = {
        "customer": customer,
        "personal": personal_items(user, customer),
        "industry": labels["industry"].get(customer.industry, customer.industry),
        "category": labels["customer_category"].get(customer.category, customer.category),
        "source": labels["customer_source"].get(customer.source, customer.source),
        # The newest few; the timeline (kind 状态变更) pages through all of them.
        "status_history": list(
            selectors.customer_status_history(customer=customer)[: STATUS_ROWS_SHOWN + 1]
        ),
        "status_rows_shown": STATUS_ROWS_SHOWN,
        "change_history": change_history_rows(
            selectors.customer_change_history(customer=customer), labels
        ),
        "status_form": StatusChangeForm(
            initial={"status": customer.status, "version": customer.version}
        ),
        "can_change": writable and may_change and approvals.is_editable(customer),
        "can_delete": writable and may_delete,
        # Only a record still under review (or rejected) has a review worth showing.
        "review": None
        if customer.review_status == ReviewStatus.APPROVED
        else approval_selectors.latest_for("customer", customer.pk, approvals.CREATE),
        "rename": approval_selectors.latest_for("customer", customer.pk, approvals.RENAME),
        "can_resubmit": writable and may_change and customer.review_status == "rejected",
        "merges": merge_selectors.merges_into(user, customer),
        "custom_items": _custom_items(customer),
        "consents": list(customer.consents.all()),
        "can_record_consent": writable and may_change,
        "can_privacy": user.has_perm(PRIVACY_PERM),
        "churn": churn_selectors.churn_pending_for(user=user, customer=customer),
    }
    return render(request, "customers/detail.html", context)


def _custom_items(customer: Customer) -> list[dict[str, Any]]:
    fields = services.custom_field_definitions()
    return custom_fields.detail_items(
        fields, customer.custom_fields or {}, custom_fields.choice_labels(fields)
    )


@login_required
@require_POST
def customer_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    """A rejected customer, fixed, goes back to review."""
    customer = _get_for_write(request, pk, "customers.change_customer", "customer.resubmit")
    try:
        approvals.customer_resubmit(actor=request.user, customer=customer, meta=_meta(request))
    except (DomainError, ValidationError) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, MSG_RESUBMITTED)
    return redirect("customers:detail", pk=customer.pk)


@login_required
@require_http_methods(["GET", "POST"])
def customer_change_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The modal on the detail page posts here; GET is the same form without JavaScript."""
    customer = _get_for_write(request, pk, "customers.change_customer", "customer.change_status")
    form = StatusChangeForm(
        request.POST or None, initial={"status": customer.status, "version": customer.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.customer_change_status(
                actor=request.user,
                customer=customer,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"],
                meta=_meta(request),
            )
        except StaleVersion as exc:
            messages.error(request, MSG_STALE_STATUS % {"code": exc.code})
        except NotFound as exc:
            raise Http404() from exc
        except ValidationError as exc:
            _attach_errors(form, exc)
            return render(
                request,
                "customers/status_form.html",
                {"customer": customer, "form": form},
                status=422,
            )
        except DomainError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, MSG_STATUS_CHANGED % {"status": changed.get_status_display()})
        return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/status_form.html",
        {"customer": customer, "form": form},
        status=422 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation (no-JS path); POST moves the customer to the recycle bin."""
    customer = _get_for_write(request, pk, "customers.delete_customer", "customer.delete")
    if request.method == "GET":
        return render(request, "customers/delete_confirm.html", {"customer": customer})
    try:
        services.customer_delete(actor=request.user, customer=customer, meta=_meta(request))
    except NotFound as exc:
        raise Http404() from exc
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect("customers:detail", pk=customer.pk)
    messages.success(request, MSG_DELETED % {"name": customer.name})
    return redirect("customers:list")


@login_required
@require_http_methods(["POST"])
def customer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """ "显示": one personal value in full (audited by the service). htmx swaps the value
    in place; without JavaScript the value comes on a small page of its own."""
    field = request.POST.get("field", "")
    try:
        value = reveal.customer_reveal(
            actor=request.user, customer_id=pk, field=field, meta=_meta(request)
        )
    except NotFound as exc:
        raise Http404() from exc
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=422, content_type="text/plain")
    item = {
        "field": field,
        "value": value,
        "masked": False,
        "can_reveal": False,
        "href": contact_href(field, value),
        "customer_id": pk,
    }
    htmx = getattr(request, "htmx", None)
    if htmx:
        response = render(request, "customers/_personal_value.html", {"item": item})
    else:
        customer = _get(request, pk)
        context = {"customer": customer, "item": item, "label": field_label(field)}
        response = render(request, "customers/reveal.html", context)
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ("HX-Request",))
    return response

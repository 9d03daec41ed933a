"""联系人 pages: the contacts section of a customer page (loaded by htmx), add / edit /
delete / 设为主要联系人, and the contact list. Thin: rules, scope and audit live in
customers.contacts and customers.contact_selectors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound, StaleVersion, error_text
from guanxi.core.list_pages import page_or_first, render_list
from guanxi.customers import contact_selectors, contacts, selectors
from guanxi.customers.models import Contact, Customer

PAGE_SIZE = 50
TABLE_TARGET = "contact-table"
MSG_CREATED = _("联系人“%(name)s”已添加")
MSG_SAVED = _("联系人“%(name)s”已保存")
MSG_DELETED = _("联系人“%(name)s”已删除")
MSG_PRIMARY = _("已将“%(name)s”设为主要联系人")
MSG_STALE = _(
    "该联系人已被他人修改（当前版本 %(version)s），页面已保留您的输入；"
    "核对后再次保存将以您的输入为准"
)
HIDDEN_PLACEHOLDER = _("已隐藏，留空表示不修改")


def _text(label: Any, max_length: int, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", **attrs}),
    )


class ContactForm(forms.Form):
    """Shape only; customers.contacts.clean_contact_input decides (the name is required
    there, so the error reads the same in the page and the API)."""

    name = _text(_("姓名"), 200, autocomplete="off")
    title = _text(_("职务"), 200)
    department_name = _text(_("部门"), 200)
    mobile = _text(_("手机号"), 40, inputmode="tel")
    phone = _text(_("固定电话"), 40, inputmode="tel", placeholder="010-12345678")
    email = _text(_("邮箱"), 254, inputmode="email")
    wechat = _text(_("微信号"), 64)
    birthday = _text(_("生日"), 10, type="date")
    notes = forms.CharField(
        label=_("备注"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    is_primary = forms.BooleanField(
        label=_("设为主要联系人"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, hidden_sensitive: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required_mark = True  # type: ignore[attr-defined]
        self.hidden_sensitive = hidden_sensitive
        if hidden_sensitive:
            for name in contacts.SENSITIVE_FIELDS:
                self.fields[name].widget.attrs["placeholder"] = HIDDEN_PLACEHOLDER

    def service_data(self, *, editing: bool) -> dict[str, Any]:
        data = {f: self.cleaned_data.get(f) for f in contacts.EDITABLE_FIELDS}
        if editing and not data["is_primary"]:
            data.pop("is_primary")  # an unticked box on an edit is "leave as it is"
        if self.hidden_sensitive:
            # Masked values were never shown; an empty box keeps what is stored.
            for name in contacts.SENSITIVE_FIELDS:
                if not str(data.get(name) or "").strip():
                    data.pop(name, None)
        return data


def _put_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, field_messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)


def _customer(request: HttpRequest, pk: int, action: str = "view") -> Customer:
    try:
        return selectors.customer_get(user=request.user, pk=pk, action=action)
    except NotFound as exc:
        raise Http404() from exc


def _contact(request: HttpRequest, pk: int, action: str = "view") -> Contact:
    try:
        return contact_selectors.contact_get(user=request.user, pk=pk, action=action)
    except NotFound as exc:
        raise Http404() from exc


def _back(customer_id: int) -> str:
    return reverse("customers:detail", args=[customer_id]) + "#contacts"


def _shown(user: Any, contact: Contact) -> dict[str, str]:
    return contact_selectors.contact_values(user, contact)


@login_required
@require_GET
def contact_section(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The 联系人 card of a customer page, primary first, values masked per rule."""
    customer = _customer(request, customer_pk)
    user = request.user
    rows = [
        {"contact": c, "values": _shown(user, c)}
        for c in contact_selectors.customer_contacts(user=user, customer=customer)
    ]
    writable = customer.erased_at is None and selectors.customer_writable(user, customer)
    context = {
        "customer": customer,
        "rows": rows,
        "can_add": writable and user.has_perm("customers.add_contact"),
        "can_change": writable and user.has_perm("customers.change_contact"),
        "can_delete": writable and user.has_perm("customers.delete_contact"),
    }
    return render(request, "customers/contacts/_section.html", context)


def _form_page(
    request: HttpRequest, form: ContactForm, customer: Customer, contact: Contact | None
) -> HttpResponse:
    status = 422 if form.is_bound and form.errors else 200
    context = {"form": form, "customer": customer, "contact": contact}
    return render(request, "customers/contacts/form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    require_page_perm(request, "customers.add_contact", "contact.create", target="contact")
    customer = _customer(request, customer_pk, action="change")
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = contacts.contact_create(
                actor=request.user,
                customer_id=customer.pk,
                data=form.service_data(editing=False),
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            _put_errors(form, exc)
        except NotFound as exc:
            raise Http404() from exc
        except DomainError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, MSG_CREATED % {"name": saved.name})
            return redirect(_back(customer.pk))
    return _form_page(request, form, customer, None)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_page_perm(request, "customers.change_contact", "contact.update", target="contact")
    contact = _contact(request, pk, action="change")
    full = selectors.can_view_sensitive(request.user, contact.customer)
    initial = {f: getattr(contact, f) for f in contacts.EDITABLE_FIELDS}
    initial["birthday"] = contact.birthday.isoformat() if contact.birthday else ""
    initial["version"] = contact.version
    if not full:
        initial.update(dict.fromkeys(contacts.SENSITIVE_FIELDS, ""))
    form = ContactForm(request.POST or None, initial=initial, hidden_sensitive=not full)
    if request.method == "POST" and form.is_valid():
        try:
            saved = contacts.contact_update(
                actor=request.user,
                contact=contact,
                data=form.service_data(editing=True),
                version=form.cleaned_data.get("version") or 0,
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            _put_errors(form, exc)
        except StaleVersion as exc:
            current = exc.extra["current"]
            form.data = form.data.copy()
            form.data["version"] = str(current.version)
            form.add_error(None, f"{MSG_STALE % {'version': current.version}}（{exc.code}）")
        except NotFound as exc:
            raise Http404() from exc
        except DomainError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, MSG_SAVED % {"name": saved.name})
            return redirect(_back(saved.customer_id))
    return _form_page(request, form, contact.customer, contact)


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_page_perm(request, "customers.delete_contact", "contact.delete", target="contact")
    contact = _contact(request, pk, action="change")
    error = ""
    if request.method == "POST":
        try:
            contacts.contact_delete(
                actor=request.user, contact=contact, meta=RequestMeta.from_request(request)
            )
        except NotFound as exc:
            raise Http404() from exc
        except DomainError as exc:
            error = error_text(exc)
        else:
            messages.success(request, MSG_DELETED % {"name": contact.name})
            return redirect(_back(contact.customer_id))
    context = {"contact": contact, "customer": contact.customer, "error": error}
    return render(
        request, "customers/contacts/delete_confirm.html", context, status=409 if error else 200
    )


@login_required
@require_POST
def contact_set_primary(request: HttpRequest, pk: int) -> HttpResponse:
    require_page_perm(request, "customers.change_contact", "contact.set_primary", target="contact")
    contact = _contact(request, pk, action="change")
    try:
        contacts.contact_set_primary(
            actor=request.user, contact=contact, meta=RequestMeta.from_request(request)
        )
    except NotFound as exc:
        raise Http404() from exc
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, MSG_PRIMARY % {"name": contact.name})
    return redirect(_back(contact.customer_id))


@login_required
@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    """All contacts in the user's scope: search box (name, pinyin, initials, exact phone or
    e-mail), customer link, keyset pages; htmx swaps only the table."""
    user, params = request.user, request.GET
    if not user.has_perm("customers.view_contact"):
        raise HttpForbidden()
    page = page_or_first(
        request, contact_selectors.contact_list, user=user, params=params, limit=PAGE_SIZE
    )
    rows = [{"contact": c, "values": _shown(user, c)} for c in page.items]
    context = {
        "rows": rows,
        "page": page,
        "q": params.get("q", ""),
        "table_target": f"#{TABLE_TARGET}",
    }
    return render_list(
        request,
        context,
        target=TABLE_TARGET,
        table_template="customers/contacts/_table.html",
        page_template="customers/contacts/list.html",
    )

"""标签管理 pages and the customer list's 批量打标签 action. Thin: the rules, scope and audit
live in customers.tags."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.dictionaries import dictionary_choices, dictionary_labels
from guanxi.core.errors import DomainError, error_text
from guanxi.customers import tags
from guanxi.customers.models import Tag

MSG_CREATED = _("标签“%(name)s”已创建")
MSG_SAVED = _("标签“%(name)s”已保存")
MSG_DELETED = _("标签“%(name)s”已删除")
MSG_APPLIED = _("已更新 %(changed)s 个客户的标签")
MSG_SKIPPED = _("%(n)s 个客户不在您的可编辑范围内，未处理")


class TagForm(forms.Form):
    """Shape only; customers.tags.clean_tag_input decides."""

    name = forms.CharField(label=_("标签名称"), max_length=100, required=False)
    color = forms.CharField(
        label=_("颜色"),
        max_length=16,
        required=False,
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    tag_type = forms.ChoiceField(label=_("标签类型"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required_mark = True  # type: ignore[attr-defined]
        self.fields["tag_type"].choices = [("", "—"), *dictionary_choices("tag_type")]


def _tag(pk: int) -> Tag:
    try:
        return Tag.objects.get(pk=pk)
    except Tag.DoesNotExist as exc:
        raise Http404() from exc


def _put_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, field_messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)


@login_required
def tag_list(request: HttpRequest) -> HttpResponse:
    """Every tag with its type, colour and how many live customers carry it."""
    require_page_perm(request, "customers.view_tag", "tag.view")
    rows = Tag.objects.annotate(
        customers_count=Count("customers", filter=_alive_customer())
    ).order_by("tag_type", "name")
    labels = dictionary_labels("tag_type")
    items = [{"tag": t, "type": labels.get(t.tag_type, t.tag_type)} for t in rows]
    return render(request, "customers/tags/list.html", {"items": items})


def _alive_customer() -> Any:
    from django.db.models import Q

    return Q(customers__deleted_at__isnull=True)


@login_required
@require_http_methods(["GET", "POST"])
def tag_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no ``pk``) or edit a tag."""
    tag = _tag(pk) if pk is not None else None
    perm, action = (
        ("customers.change_tag", "tag.update") if tag else ("customers.add_tag", "tag.create")
    )
    require_page_perm(request, perm, action, target="tag")
    initial = {"name": tag.name, "color": tag.color, "tag_type": tag.tag_type} if tag else {}
    form = TagForm(request.POST or None, initial=initial or {"color": "#0d6efd"})
    status = 200
    if request.method == "POST" and form.is_valid():
        meta = RequestMeta.from_request(request)
        try:
            if tag is None:
                saved = tags.tag_create(actor=request.user, data=form.cleaned_data, meta=meta)
                messages.success(request, MSG_CREATED % {"name": saved.name})
            else:
                saved = tags.tag_update(
                    actor=request.user, tag=tag, data=form.cleaned_data, meta=meta
                )
                messages.success(request, MSG_SAVED % {"name": saved.name})
            return redirect("customers:tag_list")
        except ValidationError as exc:
            _put_errors(form, exc)
            status = 422
    elif request.method == "POST":
        status = 422
    return render(request, "customers/tags/form.html", {"form": form, "tag": tag}, status=status)


@login_required
@require_POST
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tag = _tag(pk)
    require_page_perm(request, "customers.delete_tag", "tag.delete", tag=tag)
    try:
        tags.tag_delete(actor=request.user, tag=tag, meta=RequestMeta.from_request(request))
        messages.success(request, MSG_DELETED % {"name": tag.name})
    except DomainError as exc:
        messages.error(request, error_text(exc))
    return redirect("customers:tag_list")


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/customers/"


@login_required
@require_POST
def tag_bulk_apply(request: HttpRequest) -> HttpResponse:
    """批量打标签 from the customer list: add or remove one manual tag on the ticked rows."""
    require_page_perm(
        request, "customers.change_customer", "customer.tags_apply", target="customer"
    )
    tag_id = request.POST.get("tag") or ""
    mode = request.POST.get("mode")
    try:
        result = tags.tags_apply(
            actor=request.user,
            customer_ids=request.POST.getlist("ids"),
            add=[tag_id] if mode == "add" and tag_id else [],
            remove=[tag_id] if mode == "remove" and tag_id else [],
            meta=RequestMeta.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect(_next(request))
    messages.success(request, MSG_APPLIED % {"changed": len(result["changed"])})
    if result["skipped"]:
        messages.warning(request, MSG_SKIPPED % {"n": result["skipped"]})
    return redirect(_next(request))

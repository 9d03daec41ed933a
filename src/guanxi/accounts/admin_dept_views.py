"""系统设置 → 部门管理: the tree with managers; create, edit (incl. moving), delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.accounts import selectors, services
from guanxi.accounts.admin_forms import DepartmentForm
from guanxi.accounts.admin_views import confirm_delete, get_or_404, guard, meta, run
from guanxi.accounts.models import Department

MSG_SAVED = _("部门“%(name)s”已保存")
MSG_DELETED = _("部门“%(name)s”已删除")


def _department(request: HttpRequest, pk: int) -> Department:
    return get_or_404(selectors.department_get, request, pk)


@login_required
@require_GET
def department_list(request: HttpRequest) -> HttpResponse:
    guard(request, "accounts.view_department")
    user = request.user
    return render(
        request,
        "accounts/admin/departments.html",
        {
            "nodes": selectors.department_tree(actor=user),
            "can_add": user.has_perm("accounts.add_department"),
            "can_change": user.has_perm("accounts.change_department"),
            "can_delete": user.has_perm("accounts.delete_department"),
        },
    )


def _form_page(request: HttpRequest, form: DepartmentForm, dept: Department | None) -> HttpResponse:
    return render(
        request,
        "accounts/admin/department_form.html",
        {"form": form, "department": dept},
        status=422 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def department_create(request: HttpRequest) -> HttpResponse:
    guard(request, "accounts.add_department")
    form = DepartmentForm(
        request.POST or None, initial={"parent_id": request.GET.get("parent", ""), "sort": 0}
    )
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        dept = run(
            form,
            lambda: services.department_create(
                actor=request.user,
                name=data["name"],
                parent=data["parent_id"],
                manager=data["manager_id"],
                sort=data["sort"],
                meta=meta(request),
            ),
        )
        if dept is not None:
            messages.success(request, MSG_SAVED % {"name": dept.name})
            return redirect("org:departments")
    return _form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename, re-sort, change manager, or move: the parent list leaves out the department
    itself and everything below it (the service refuses cycles anyway)."""
    guard(request, "accounts.change_department")
    dept = _department(request, pk)
    initial = {
        "name": dept.name,
        "parent_id": dept.parent_id or "",
        "manager_id": dept.manager_id or "",
        "sort": dept.sort,
    }
    form = DepartmentForm(request.POST or None, initial=initial, exclude_subtree=dept.path)
    if request.method == "POST" and form.is_valid():
        saved = run(
            form,
            lambda: services.department_update(
                actor=request.user, department=dept, data=form.service_data(), meta=meta(request)
            ),
        )
        if saved is not None:
            messages.success(request, MSG_SAVED % {"name": saved.name})
            return redirect("org:departments")
    return _form_page(request, form, dept)


@login_required
@require_http_methods(["GET", "POST"])
def department_delete(request: HttpRequest, pk: int) -> HttpResponse:
    guard(request, "accounts.delete_department")
    dept = _department(request, pk)
    return confirm_delete(
        request,
        title=_("删除部门"),
        text=_("确认删除部门“%(name)s”？只有没有成员和下级部门的部门可以删除。")
        % {"name": dept.name},
        back="org:departments",
        call=lambda: services.department_delete(
            actor=request.user, department=dept, meta=meta(request)
        ),
        done=MSG_DELETED % {"name": dept.name},
    )

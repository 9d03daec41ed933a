"""Default roles (DESIGN.md): created when missing, never overwritten once an admin edits them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission

from guanxi.core.scopes import ALL, DEPARTMENT_TREE, OWN
from guanxi.sales.grants import ROLE_GRANTS, add_role_scopes, dotted_names

CUSTOMER_ALL = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.delete_customer",
    "customers.approve_customer",
    "customers.view_sensitive_customer",
    "customers.export_customer",
]
TAG_ALL = [
    "customers.view_tag",
    "customers.add_tag",
    "customers.change_tag",
    "customers.delete_tag",
]
# The relationship around a customer (contacts, follow-ups, interactions, segments, tasks).
RELATIONSHIP_READ = [
    "customers.view_contact",
    "customers.view_followup",
    "customers.view_interaction",
    "customers.view_segment",
    "customers.add_segment",
    "workflow.view_task",
    "workflow.add_task",
    "workflow.change_task",
]
RELATIONSHIP_ALL = [
    *RELATIONSHIP_READ,
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
    "customers.add_followup",
    "customers.change_followup",
    "customers.add_interaction",
    "customers.change_interaction",
]
DICTIONARY_ALL = [
    "core.view_dictionarytype",
    "core.add_dictionaryitem",
    "core.change_dictionaryitem",
    "core.delete_dictionaryitem",
    "core.view_dictionaryitem",
]

# Undo anyone's import batch and see every batch; delete anyone's saved column mapping.
IMPORT_ADMIN = ["dataio.undo_importbatch", "dataio.delete_importmapping"]

# Apps whose every permission the admin role holds (users, roles, audit, workflow ...).
ADMIN_APPS = [
    "accounts",
    "core",
    "customers",
    "audit",
    "workflow",
    "dataio",
    "ops",
    "reports",
    "sales",
]

# code: (name, description, permissions, read scope, write scope)
DEFAULT_ROLES: dict[str, tuple[str, str, list[str] | str, str, str]] = {
    "admin": ("系统管理员", "用户、角色、系统设置、备份与审计", "__all__", ALL, ALL),
    "data_admin": (
        "数据管理员",
        "数据字典、导入、去重合并、质量检查、审核",
        [
            *CUSTOMER_ALL,
            "customers.purge_customer",
            "customers.merge_customer",
            "customers.handle_privacy_customer",
            "customers.verify_customer",
            *RELATIONSHIP_ALL,
            "customers.view_tagrule",
            "customers.add_tagrule",
            "customers.change_tagrule",
            "customers.delete_tagrule",
            *TAG_ALL,
            *DICTIONARY_ALL,
            *IMPORT_ADMIN,
            "reports.view_report",
            "reports.manage_schedule",
        ],
        ALL,
        ALL,
    ),
    "sales_manager": (
        "销售经理",
        "团队客户与审批、报表",
        [
            *CUSTOMER_ALL,
            *RELATIONSHIP_ALL,
            "customers.change_segment",
            "reports.view_report",
            "reports.manage_schedule",
        ],
        DEPARTMENT_TREE,
        DEPARTMENT_TREE,
    ),
    "sales_rep": (
        "销售代表",
        "本人客户、跟进、商机与订单",
        [
            "customers.view_customer",
            "customers.add_customer",
            "customers.change_customer",
            *RELATIONSHIP_ALL,
            "reports.view_report",
        ],
        OWN,
        OWN,
    ),
    "service_rep": (
        "客服代表",
        "工单与满意度；可查看全部客户，不可修改客户基础信息",
        [
            "customers.view_customer",
            *RELATIONSHIP_READ,
            "customers.add_interaction",
            "reports.view_report",
        ],
        ALL,
        OWN,
    ),
    "marketing": (
        "市场专员",
        "客户分群、营销活动",
        [
            "customers.view_customer",
            *RELATIONSHIP_READ,
            "customers.change_segment",
            "reports.view_report",
        ],
        ALL,
        OWN,
    ),
    "finance": (
        "财务",
        "订单、回款、发票",
        ["customers.view_customer", *RELATIONSHIP_READ, "reports.view_report"],
        ALL,
        OWN,
    ),
    "analyst": (
        "数据分析",
        "报表与导出",
        [
            "customers.view_customer",
            "customers.export_customer",
            *RELATIONSHIP_READ,
            "reports.view_report",
            "reports.manage_schedule",
        ],
        ALL,
        OWN,
    ),
}


def _permissions(spec: list[str] | str) -> list[Permission]:
    if spec == "__all__":
        return list(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
    perms = []
    for dotted in spec:
        app_label, codename = dotted.split(".")
        perms.extend(
            Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        )
    return perms


def ensure_default_roles(**_: Any) -> None:
    """Create the default roles that do not exist yet (idempotent)."""
    from guanxi.accounts.models import Role, RoleScope

    for code, (name, description, perms, read_scope, write_scope) in DEFAULT_ROLES.items():
        role, created = Role.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "read_scope": read_scope,
                "write_scope": write_scope,
                "is_system": True,
            },
        )
        if created:
            role.permissions.set(_permissions(perms))
            if perms != "__all__":
                role.permissions.add(*_permissions(dotted_names(ROLE_GRANTS.get(code, ()))))
            add_role_scopes(RoleScope, role, code)

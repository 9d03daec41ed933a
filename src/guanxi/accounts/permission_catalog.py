"""The permissions a role editor offers, per object type and action, in three groups.

Django creates add/change/delete/view for every model, plus the custom ones in ``Meta``.
Most of those (chain heads, sequences, captcha rows ...) mean nothing to an administrator, so
the catalog is an explicit allow-list: object type × action → permission codename. Only rows
that exist in ``auth.Permission`` are listed, so a missing app never breaks the editor.

Groups: basic (view/add/change of everyday records), advanced (delete, purge, export, approve
and anything that administers the system), sensitive (seeing personal data unmasked).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _

BASIC = "basic"
ADVANCED = "advanced"
SENSITIVE = "sensitive"
GROUP_LABELS = {BASIC: _("基础权限"), ADVANCED: _("高级权限"), SENSITIVE: _("敏感权限")}

ACTION_LABELS = {
    "view": _("查看"),
    "add": _("新建"),
    "change": _("编辑"),
    "delete": _("删除"),
    "export": _("导出"),
    "approve": _("审核"),
    "view_sensitive": _("查看敏感信息"),
    "purge": _("彻底删除"),
    "merge": _("合并"),
    "undo": _("撤销"),
}
_ACTION_GROUPS = {
    "undo": ADVANCED,
    "view": BASIC,
    "add": BASIC,
    "change": BASIC,
    "delete": ADVANCED,
    "export": ADVANCED,
    "approve": ADVANCED,
    "view_sensitive": SENSITIVE,
    # Irreversible, but it shows no personal data: advanced, with delete (not "sensitive").
    "purge": ADVANCED,
    # Merging rewrites two records and moves their history: advanced, like purge.
    "merge": ADVANCED,
}


@dataclass(frozen=True)
class ObjectType:
    """One kind of record a role can be granted actions on."""

    key: str
    label: Any
    app_label: str
    # action → codenames (usually one; a dictionary "view" covers types and items)
    actions: dict[str, tuple[str, ...]]
    # Administering the system: every action but "view" counts as advanced.
    administrative: bool = False
    advanced_view: bool = False


OBJECT_TYPES: tuple[ObjectType, ...] = (
    ObjectType(
        "customer",
        _("客户"),
        "customers",
        {
            "view": ("view_customer",),
            "add": ("add_customer",),
            "change": ("change_customer",),
            "delete": ("delete_customer",),
            "export": ("export_customer",),
            "approve": ("approve_customer",),
            "view_sensitive": ("view_sensitive_customer",),
            "purge": ("purge_customer",),
            "merge": ("merge_customer",),
        },
    ),
    ObjectType(
        "tag",
        _("客户标签"),
        "customers",
        {
            "view": ("view_tag",),
            "add": ("add_tag",),
            "change": ("change_tag",),
            "delete": ("delete_tag",),
        },
    ),
    ObjectType(
        "contact",
        _("联系人"),
        "customers",
        {
            "view": ("view_contact",),
            "add": ("add_contact",),
            "change": ("change_contact",),
            "delete": ("delete_contact",),
        },
    ),
    ObjectType(
        "follow_up",
        _("跟进记录"),
        "customers",
        {"view": ("view_followup",), "add": ("add_followup",), "change": ("change_followup",)},
    ),
    ObjectType(
        "interaction",
        _("互动记录"),
        "customers",
        {
            "view": ("view_interaction",),
            "add": ("add_interaction",),
            "change": ("change_interaction",),
        },
    ),
    ObjectType(
        "segment",
        _("客户分群"),
        "customers",
        # "change" shares a segment with everyone (and edits shared ones).
        {
            "view": ("view_segment",),
            "add": ("add_segment",),
            "change": ("change_segment",),
            "delete": ("delete_segment",),
        },
    ),
    ObjectType(
        "tag_rule",
        _("标签规则"),
        "customers",
        {
            "view": ("view_tagrule",),
            "add": ("add_tagrule",),
            "change": ("change_tagrule",),
            "delete": ("delete_tagrule",),
        },
        administrative=True,
    ),
    ObjectType(
        "task",
        _("待办任务"),
        "workflow",
        {
            "view": ("view_task",),
            "add": ("add_task",),
            "change": ("change_task",),
            "delete": ("delete_task",),
        },
    ),
    ObjectType(
        "reminder_rule",
        _("提醒规则"),
        "workflow",
        {"view": ("view_reminderrule",), "change": ("change_reminderrule",)},
        administrative=True,
        advanced_view=True,
    ),
    ObjectType(
        "contract",
        _("合同"),
        "sales",
        {
            "view": ("view_contract",),
            "add": ("add_contract",),
            "change": ("change_contract",),
            "delete": ("delete_contract",),
        },
    ),
    ObjectType(
        "order",
        _("订单（含回款）"),
        "sales",
        {
            "view": ("view_order",),
            "add": ("add_order",),
            "change": ("change_order",),
            "delete": ("delete_order",),
        },
    ),
    ObjectType("report", _("统计报表"), "reports", {"view": ("view_report",)}),
    ObjectType(
        "report_schedule",
        _("定时报表（发送给他人或角色）"),
        "reports",
        {"change": ("manage_schedule",)},
        administrative=True,
    ),
    ObjectType(
        "import_batch",
        _("他人的导入批次"),
        "dataio",
        {"undo": ("undo_importbatch",)},
        administrative=True,
    ),
    ObjectType(
        "import_mapping",
        _("他人的导入映射模板"),
        "dataio",
        {"delete": ("delete_importmapping",)},
        administrative=True,
    ),
    ObjectType(
        "dictionary",
        _("数据字典"),
        "core",
        {
            "view": ("view_dictionarytype", "view_dictionaryitem"),
            "add": ("add_dictionaryitem",),
            "change": ("change_dictionaryitem",),
            "delete": ("delete_dictionaryitem",),
        },
    ),
    ObjectType(
        "department",
        _("部门"),
        "accounts",
        {
            "view": ("view_department",),
            "add": ("add_department",),
            "change": ("change_department",),
            "delete": ("delete_department",),
        },
        administrative=True,
    ),
    ObjectType(
        "user",
        _("用户"),
        "accounts",
        {
            "view": ("view_user",),
            "add": ("add_user",),
            "change": ("change_user",),
            "delete": ("delete_user",),
            "export": ("export_user",),
            "view_sensitive": ("view_sensitive_user",),
        },
        administrative=True,
    ),
    ObjectType(
        "role",
        _("角色"),
        "accounts",
        {
            "view": ("view_role",),
            "add": ("add_role",),
            "change": ("change_role",),
            "delete": ("delete_role",),
        },
        administrative=True,
    ),
    ObjectType(
        "audit_entry",
        _("审计日志"),
        "audit",
        {"view": ("view_auditentry",), "export": ("export_auditentry",)},
        administrative=True,
        advanced_view=True,
    ),
    # Jobs, system parameters and the status page: one right, administering the system.
    ObjectType(
        "system",
        _("系统运维（定时任务、系统参数、系统状态）"),
        "ops",
        {"change": ("manage_system",)},
        administrative=True,
    ),
    # Backups, restores (overwrite every record) and their verification records.
    ObjectType(
        "backup",
        _("数据备份与恢复"),
        "ops",
        {"change": ("manage_backups",)},
        administrative=True,
    ),
)
OBJECT_TYPE_LABELS = {t.key: t.label for t in OBJECT_TYPES}


def dotted(perm: Permission) -> str:
    """``app_label.codename``, the form ``has_perm`` and the API use (needs content_type)."""
    return f"{perm.content_type.app_label}.{perm.codename}"


def group_of(object_type: ObjectType, action: str) -> str:
    """basic / advanced / sensitive for one action of one object type."""
    group = _ACTION_GROUPS[action]
    administers = object_type.administrative and (action != "view" or object_type.advanced_view)
    return ADVANCED if group == BASIC and administers else group


@dataclass
class CatalogPermission:
    """One checkbox of the role editor."""

    permission: Permission
    object_type: str
    action: str
    group: str
    label: str

    @property
    def dotted(self) -> str:
        return dotted(self.permission)


@dataclass
class CatalogObjectType:
    key: str
    label: Any
    groups: dict[str, list[CatalogPermission]] = field(default_factory=dict)

    def all(self) -> list[CatalogPermission]:
        return [p for group in self.groups.values() for p in group]


def _permission_rows() -> dict[tuple[str, str], Permission]:
    apps = {t.app_label for t in OBJECT_TYPES}
    return {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").filter(
            content_type__app_label__in=apps
        )
    }


def catalog() -> list[CatalogObjectType]:
    """Every object type with its existing permissions, grouped (one query)."""
    rows = _permission_rows()
    result = []
    for otype in OBJECT_TYPES:
        entry = CatalogObjectType(otype.key, otype.label, {BASIC: [], ADVANCED: [], SENSITIVE: []})
        for action, codenames in otype.actions.items():
            for codename in codenames:
                perm = rows.get((otype.app_label, codename))
                if perm is None:
                    continue
                label = f"{ACTION_LABELS[action]}{otype.label}"
                if len(codenames) > 1:
                    label = f"{label}（{perm.content_type.model_class()._meta.verbose_name}）"
                entry.groups[group_of(otype, action)].append(
                    CatalogPermission(perm, otype.key, action, group_of(otype, action), label)
                )
        if entry.all():
            result.append(entry)
    return result


def catalog_index() -> dict[int, CatalogPermission]:
    """Permission id → its catalog entry."""
    return {p.permission.pk: p for entry in catalog() for p in entry.all()}


def group_dotted(perms: Iterable[Permission], index: dict[int, CatalogPermission]) -> dict:
    """A role's permissions as {"basic": [...], "advanced": [...], "sensitive": [...]};
    permissions outside the catalog count as advanced (they administer something)."""
    grouped: dict[str, list[str]] = {BASIC: [], ADVANCED: [], SENSITIVE: []}
    for perm in perms:
        entry = index.get(perm.pk)
        group = entry.group if entry else ADVANCED
        grouped[group].append(dotted(perm))
    return {k: sorted(v) for k, v in grouped.items()}

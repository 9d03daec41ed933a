"""Human-readable names for audit action codes and object types (the audit page, exports).

The codes themselves are stable identifiers written into the log; only their labels live
here. Apps add their own with ``register_actions`` / ``register_object_types`` (in their
``AppConfig.ready`` or at import of their services module); an unknown code is shown raw,
so a missing label never hides an entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Any] = {
    # sign-in and sessions
    "auth.login": _("登录"),
    "auth.logout": _("退出登录"),
    "auth.token": _("获取API令牌"),
    "auth.token_revoke": _("吊销API令牌"),
    "auth.lockout": _("账号锁定（登录失败过多）"),
    "auth.password_change": _("修改密码"),
    "auth.2fa": _("双因素验证"),
    "auth.2fa_enable": _("启用双因素认证"),
    "auth.2fa_disable": _("停用双因素认证"),
    "auth.sms_code": _("发送短信验证码"),
    "auth.session_end": _("结束会话"),
    # users, departments, roles
    "user.create": _("新建用户"),
    "user.update": _("编辑用户"),
    "user.roles": _("变更用户角色"),
    "user.lock": _("锁定用户"),
    "user.unlock": _("解锁用户"),
    "user.disable": _("禁用用户"),
    "user.enable": _("启用用户"),
    "user.delete": _("删除用户"),
    "user.reset_password": _("重置密码"),
    "user.end_sessions": _("结束用户会话"),
    "user.import": _("导入用户"),
    "user.export": _("导出用户"),
    "user.reveal": _("查看用户敏感信息"),
    "department.create": _("新建部门"),
    "department.update": _("编辑部门"),
    "department.delete": _("删除部门"),
    "role.create": _("新建角色"),
    "role.update": _("编辑角色"),
    "role.delete": _("删除角色"),
    "role.permissions": _("变更角色权限"),
    "role.scopes": _("变更数据范围"),
    "security.anomaly": _("安全告警：异常操作"),
    # customers
    "customer.create": _("新建客户"),
    "customer.update": _("编辑客户"),
    "customer.change_status": _("变更客户状态"),
    "customer.delete": _("删除客户"),
    "customer.reveal": _("查看客户敏感信息"),
    "customer.export": _("导出客户"),
    "customer.bulk_create": _("批量新建客户"),
    "customer.demo_seed": _("生成演示客户"),
    # settings
    "dictionary.item_create": _("新增字典项"),
    "dictionary.item_update": _("编辑字典项"),
    # the audit log itself
    "audit.export": _("导出审计日志"),
    "audit.verify": _("验证审计日志完整性"),
}

OBJECT_TYPE_LABELS: dict[str, Any] = {
    "user": _("用户"),
    "department": _("部门"),
    "role": _("角色"),
    "customer": _("客户"),
    "dictionaryitem": _("字典项"),
    "auditentry": _("审计日志"),
    "apitoken": _("API令牌"),
}


def register_actions(labels: Mapping[str, Any]) -> None:
    """Add or override action labels (``{"ticket.create": _("新建工单")}``)."""
    ACTION_LABELS.update(labels)


def register_object_types(labels: Mapping[str, Any]) -> None:
    OBJECT_TYPE_LABELS.update(labels)


def action_label(code: str) -> str:
    """The label for ``code``, or the code itself when nobody registered one."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def object_type_label(code: str) -> str:
    label = OBJECT_TYPE_LABELS.get(code)
    return str(label) if label is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, "label (code)") for the filter select, grouped by prefix through the order."""
    return [(code, f"{action_label(code)}（{code}）") for code in sorted(ACTION_LABELS)]

"""Stable domain error codes: the same code appears in the UI, the API body and the log.

The table is the single source for docs/errors.md (see ``guanxi errors``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

ERROR_CODES: dict[str, tuple[int, Any]] = {
    "ERR-001": (401, _("未授权访问")),
    "ERR-002": (403, _("权限不足")),
    "ERR-003": (403, _("账号已锁定")),
    "ERR-004": (403, _("账号已禁用")),
    "ERR-005": (404, _("记录不存在")),
    "ERR-006": (422, _("数据校验失败")),
    "ERR-007": (409, _("记录已被他人修改，请刷新后重试")),
    "ERR-008": (429, _("请求过于频繁，请稍后再试")),
    "ERR-009": (500, _("服务器内部错误")),
    "ERR-010": (409, _("待审核记录不可编辑")),
    "ERR-011": (409, _("当前状态不允许删除")),
    "ERR-012": (409, _("存在重复数据")),
    "ERR-013": (400, _("请求格式错误")),
    "ERR-014": (405, _("不支持的请求方法")),
    "ERR-015": (401, _("用户名或密码错误")),
    "ERR-016": (401, _("请输入双因素认证动态验证码")),
    "ERR-017": (401, _("验证码错误或已过期")),
    "ERR-018": (400, _("图形验证码错误")),
    "ERR-019": (403, _("须先启用双因素认证")),
    "ERR-020": (403, _("须先修改密码")),
    "ERR-021": (403, _("同时在线会话数已达上限")),
    "ERR-022": (401, _("会话已超时，请重新登录")),
    "ERR-023": (409, _("该审批申请已处理")),
    "ERR-024": (409, _("个人信息已清除的客户不可编辑")),
    "ERR-025": (409, _("该导入当前状态不允许此操作")),
    "ERR-026": (409, _("该记录当前状态不允许此操作")),
}


class DomainError(Exception):
    """A refusal the user can act on; carries a stable code and an HTTP status."""

    code = "ERR-009"

    def __init__(self, message: Any = None, *, code: str | None = None, **extra: Any):
        self.code = code or self.code
        self.status = ERROR_CODES[self.code][0]
        self.message = message or ERROR_CODES[self.code][1]
        self.extra = extra
        super().__init__(str(self.message))


class PermissionDenied(DomainError):
    code = "ERR-002"


class NotFound(DomainError):
    code = "ERR-005"


class StaleVersion(DomainError):
    """The edit was based on an old version; ``current`` holds the record as it is now."""

    code = "ERR-007"


class PendingReview(DomainError):
    code = "ERR-010"


class ErasedRecord(DomainError):
    """A customer whose personal data was erased (PIPL) keeps its business record but its
    base information is not edited again: that would need the personal data back."""

    code = "ERR-024"


class DeleteRefused(DomainError):
    code = "ERR-011"


class DuplicateRecord(DomainError):
    """``duplicates`` lists the matching records visible to the caller; ``hidden`` counts others."""

    code = "ERR-012"


def error_text(exc: DomainError) -> str:
    """A refusal as a page shows it: the message with its code, so support can look it up."""
    return f"{exc.message}（{exc.code}）"

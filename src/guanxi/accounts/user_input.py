"""Validation and normalisation of user input — shared by the pages, the API and imports,
so all three give the same answer in the same words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.choices import Gender, UserStatus
from guanxi.accounts.models import Department, Role, User
from guanxi.core import validators
from guanxi.core.errors import DuplicateRecord
from guanxi.core.field_errors import FieldErrors
from guanxi.core.ids import parse_id

MSG_REQUIRED = _("此项为必填项")
MSG_TOO_LONG = _("不能超过%(max)s个字符")
MSG_USERNAME_FORMAT = _("用户名须为3至150个字符，只能包含字母、数字和 _ . @ + -")
MSG_USERNAME_FIXED = _("用户名创建后不可修改")
MSG_USERNAME_TAKEN = _("用户名“%(value)s”已被使用（已删除用户的用户名同样保留）")
MSG_EMPLOYEE_NO_TAKEN = _("工号“%(value)s”已被其他用户使用")
MSG_DEPARTMENT_MISSING = _("部门不存在")
MSG_DEPARTMENT_AMBIGUOUS = _("有多个名为“%(value)s”的部门，请填写完整路径，例如“总公司/销售部”")
MSG_GENDER_INVALID = _("性别只能是“男”或“女”")
MSG_ROLE_MISSING = _("角色“%(value)s”不存在")

EDITABLE_FIELDS = (
    "username",
    "name",
    "employee_no",
    "department_id",
    "title",
    "mobile",
    "email",
    "gender",
)
MAX_LENGTHS = {"name": 64, "employee_no": 32, "title": 64}
_USERNAME_RE = re.compile(r"[A-Za-z0-9_.@+\-]{3,150}")
_ROLE_SEPARATORS = re.compile(r"[,，、;；\s]+")
_GENDER_WORDS = {
    "": "",
    "男": Gender.MALE,
    "male": Gender.MALE,
    "m": Gender.MALE,
    "女": Gender.FEMALE,
    "female": Gender.FEMALE,
    "f": Gender.FEMALE,
    "未填写": "",
}


def _text(value: Any) -> str:
    return " ".join(validators.fold_text(str(value if value is not None else "")).split())


def _clean_username(value: Any) -> str:
    username = _text(value)
    if not username:
        raise ValidationError(MSG_REQUIRED)
    if not _USERNAME_RE.fullmatch(username):
        raise ValidationError(MSG_USERNAME_FORMAT)
    return username


def clean_gender(value: Any) -> str:
    key = _text(value).lower()
    if key not in _GENDER_WORDS:
        raise ValidationError(MSG_GENDER_INVALID)
    return str(_GENDER_WORDS[key])


def resolve_department(value: Any) -> Department:
    """A department from its id, its name, or its path of names ("总公司/销售部")."""
    if isinstance(value, Department):
        return value
    wanted = parse_id(value.strip() if isinstance(value, str) else value)
    if wanted is not None:
        try:
            return Department.objects.get(pk=wanted)
        except (Department.DoesNotExist, OverflowError) as exc:
            raise ValidationError(MSG_DEPARTMENT_MISSING) from exc
    text = _text(value)
    if not text:
        raise ValidationError(MSG_REQUIRED)
    parts = [p.strip() for p in re.split(r"[/／>]", text) if p.strip()]
    candidates = list(Department.objects.filter(name=parts[-1]).select_related("parent"))
    if len(parts) > 1:
        names = {d.pk: d.name for d in Department.objects.only("id", "name")}
        candidates = [
            d
            for d in candidates
            if [names.get(int(i)) for i in d.path.strip("/").split("/")][-len(parts) :] == parts
        ]
    if not candidates:
        raise ValidationError(MSG_DEPARTMENT_MISSING)
    if len(candidates) > 1:
        raise ValidationError(MSG_DEPARTMENT_AMBIGUOUS % {"value": text})
    return candidates[0]


def split_roles(value: Any) -> list[str]:
    """ "sales_rep，销售经理" → ["sales_rep", "销售经理"] (import cells)."""
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p for p in _ROLE_SEPARATORS.split(_text(value)) if p]


def resolve_roles(values: Iterable[Any]) -> list[Role]:
    """Roles from Role objects, codes or names; unknown ones are one error naming each."""
    wanted = [v for v in values if v not in (None, "")]
    objects = [v for v in wanted if isinstance(v, Role)]
    keys = [str(v).strip() for v in wanted if not isinstance(v, Role)]
    if keys:
        found = list(Role.objects.filter(Q(code__in=keys) | Q(name__in=keys)))
        by_key = {r.code: r for r in found} | {r.name: r for r in found}
        missing = [k for k in keys if k not in by_key]
        if missing:
            raise ValidationError(
                [ValidationError(MSG_ROLE_MISSING % {"value": k}) for k in missing]
            )
        objects.extend(by_key[k] for k in keys)
    return list({r.pk: r for r in objects}.values())


def clean_user_input(data: Mapping[str, Any], *, current: User | None = None) -> dict[str, Any]:
    """Normalise the editable fields present in ``data``; every bad field reported at once.

    On create (``current`` None) username, name and department are required.
    """
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    creating = current is None
    required = ("username", "name", "department_id") if creating else ("name", "department_id")
    for field in EDITABLE_FIELDS:
        if field not in data and not (creating and field in required):
            continue
        with errors.collect(field):
            cleaned[field] = _clean_field(field, data.get(field), current, field in required)
    errors.raise_if_any()
    return cleaned


def _clean_field(field: str, value: Any, current: User | None, required: bool) -> Any:
    if field == "username":
        if current is not None:
            if _text(value) != current.username:
                raise ValidationError(MSG_USERNAME_FIXED)
            return current.username
        return _clean_username(value)
    if field == "department_id":
        if value in (None, ""):
            raise ValidationError(MSG_REQUIRED)
        return resolve_department(value).pk
    if field == "gender":
        return clean_gender(value)
    text = _text(value)
    if required and not text:
        raise ValidationError(MSG_REQUIRED)
    if field == "mobile":
        return validators.normalize_mobile(text) if text else ""
    if field == "email":
        return validators.normalize_email(text) if text else ""
    limit = MAX_LENGTHS.get(field)
    if limit and len(text) > limit:
        raise ValidationError(MSG_TOO_LONG % {"max": limit})
    return text


def _duplicate(message: Any, field: str, users: Iterable[User]) -> DuplicateRecord:
    found = [
        {"id": u.pk, "username": u.username, "name": u.name, "matched_on": [field]} for u in users
    ]
    return DuplicateRecord(message, duplicates=found, hidden_count=0, matched_on=[field])


def ensure_unique(cleaned: Mapping[str, Any], *, exclude_id: int | None = None) -> None:
    """Username (for ever, deleted users included) and employee number (among live users)."""
    if cleaned.get("username"):
        taken = User.objects.filter(username__iexact=cleaned["username"])
        if exclude_id:
            taken = taken.exclude(pk=exclude_id)
        if taken.exists():
            message = MSG_USERNAME_TAKEN % {"value": cleaned["username"]}
            raise _duplicate(message, "username", taken[:5])
    if cleaned.get("employee_no"):
        taken = User.objects.filter(employee_no=cleaned["employee_no"]).exclude(
            status=UserStatus.DELETED
        )
        if exclude_id:
            taken = taken.exclude(pk=exclude_id)
        if taken.exists():
            message = MSG_EMPLOYEE_NO_TAKEN % {"value": cleaned["employee_no"]}
            raise _duplicate(message, "employee_no", taken[:5])

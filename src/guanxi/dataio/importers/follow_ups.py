"""Follow-ups (跟进记录) from a file — typically the history of an older system — each
attached to an existing customer in the importer's write scope. Validation is the form's
(customers.follow_ups.clean_follow_up); the same follow-up (customer, time and content)
imported twice is a duplicate. New rows are bulk-inserted, updates go through
``follow_up_update``, and each touched customer's last/next follow-up stamps are recomputed
once per chunk in one statement."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.core.errors import DomainError
from guanxi.core.field_errors import FieldErrors
from guanxi.core.scopes import ALL, DEPARTMENT, DEPARTMENT_TREE, department_ids, effective_scope
from guanxi.core.validators import fold_text
from guanxi.customers import follow_ups
from guanxi.customers.models import Contact, Customer, FollowUp
from guanxi.dataio.importers.base import FieldSpec, Match, Row
from guanxi.dataio.importers.customers import parse_moment
from guanxi.dataio.importers.relationship import CUSTOMER_FIELDS, RelationshipImporter

MSG_OWNER_UNKNOWN = _("找不到跟进人“%(value)s”（填写用户名或姓名）")
MSG_OWNER_AMBIGUOUS = _("跟进人“%(value)s”对应多个用户，请填写用户名")
MSG_OWNER_NOT_ASSIGNABLE = _("跟进人只能是您本人或您数据范围内的人员")
MSG_CONTACT_UNKNOWN = _("该客户没有名为“%(value)s”的联系人")
MSG_CONTACT_AMBIGUOUS = _("该客户有多位名为“%(value)s”的联系人，无法确定是哪一位")

RULE = "follow_up"  # the duplicate rule: same customer, same time, same content
TEXT_FIELDS = ("method", "result", "content", "next_plan")
TIME_FIELDS = ("followed_at", "next_follow_up_at")

FIELDS: tuple[FieldSpec, ...] = (
    *CUSTOMER_FIELDS,
    FieldSpec(
        "followed_at",
        _("跟进时间"),
        ("时间", "日期", "跟进日期", "followed at", "date", "time"),
        required=True,
        rule=_("必填，日期或日期时间，不晚于现在"),
        example="2024-05-01 14:30",
    ),
    FieldSpec(
        "method",
        _("跟进方式"),
        ("方式", "method"),
        required=True,
        rule=_("必填，电话 / 拜访 / 邮件 / 微信 / 短信 / 会议 / 其他"),
        example="电话",
    ),
    FieldSpec("contact", _("联系人"), ("联系人姓名", "contact"), rule=_("该客户已有联系人的姓名")),
    FieldSpec(
        "content",
        _("跟进内容"),
        ("内容", "沟通内容", "记录", "content", "notes"),
        required=True,
        rule=_("必填，不超过5000字"),
        example="电话沟通采购计划，客户关注交期",
    ),
    FieldSpec("result", _("跟进结果"), ("结果", "result"), rule=_("字典值"), example="需求确认"),
    FieldSpec(
        "owner", _("跟进人"), ("跟进销售", "销售", "owner"), rule=_("用户名或姓名，默认导入人")
    ),
    FieldSpec(
        "next_follow_up_at",
        _("下次跟进时间"),
        ("下次跟进", "下次跟进日期", "next follow-up", "next follow up"),
        rule=_("须晚于跟进时间"),
    ),
    FieldSpec(
        "next_plan", _("下次跟进计划"), ("跟进计划", "计划", "next plan"), rule=_("不超过255字")
    ),
)


def content_digest(content: str) -> str:
    """The duplicate key of a follow-up's text: spacing and full-width forms ignored."""
    return hashlib.sha256(fold_text(content).encode()).hexdigest()[:24]


def refresh_follow_up_stamps(customer_ids: Iterable[int]) -> None:
    """``follow_ups.refresh_customer_stamps`` for many customers in one UPDATE per 2,000:
    each customer's last/next follow-up time from its latest live follow-up."""
    ids = sorted(set(customer_ids))
    latest = (
        FollowUp.objects.alive().filter(customer_id=OuterRef("pk")).order_by("-followed_at", "-id")
    )
    for start in range(0, len(ids), 2000):
        Customer.objects.filter(pk__in=ids[start : start + 2000]).update(
            last_follow_up_at=Subquery(latest.values("followed_at")[:1]),
            next_follow_up_at=Subquery(latest.values("next_follow_up_at")[:1]),
        )


class FollowUpImporter(RelationshipImporter):
    object_type = "follow_up"
    label = _("跟进记录")
    permission = "customers.add_followup"
    fields = FIELDS
    blocking_rules = frozenset({RULE})  # the very same follow-up twice is never wanted

    def begin(self, *, actor: Any, batch: Any) -> None:
        super().begin(actor=actor, batch=batch)
        self._owners: dict[str, User | str | None] = {}

    # --- clean ---------------------------------------------------------------------------
    def clean_row(self, row: Row) -> dict[str, list[str]]:
        values = row.values
        errors = FieldErrors()
        data: dict[str, Any] = {f: values.get(f, "") for f in TEXT_FIELDS}
        for field in TIME_FIELDS:
            data[field] = None
            if values.get(field):
                with errors.collect(field):
                    data[field] = parse_moment(values[field])
        owner = None
        if values.get("owner"):
            with errors.collect("owner"):
                owner = self._owner(values["owner"])
        form = FieldErrors()
        cleaned: dict[str, Any] = {}
        with form.collect():
            # The contact is checked per chunk against the customer (one query), so the
            # form's rules see none here and never consult the customer.
            cleaned = follow_ups.clean_follow_up(None, data)  # type: ignore[arg-type]
        for field, messages in form.errors.items():
            if field not in errors:  # an unreadable time is reported once, as such
                errors.add(field, *messages)
        if errors:
            return {k: [str(m) for m in v] for k, v in errors.errors.items()}
        row.cleaned = {**cleaned, "owner": owner, "contact_name": fold_text(values.get("contact"))}
        return {}

    def _owner(self, text: str) -> User:
        key = fold_text(text)
        if key not in self._owners:
            people = list(User.objects.filter(Q(username=key) | Q(name=key), is_active=True)[:2])
            exact = [u for u in people if u.username == key]
            found: User | str | None = exact[0] if exact else None
            if found is None and people:
                found = people[0] if len(people) == 1 else "ambiguous"
            self._owners[key] = found
        found = self._owners[key]
        if found is None:
            raise ValidationError(MSG_OWNER_UNKNOWN % {"value": text})
        if found == "ambiguous":
            raise ValidationError(MSG_OWNER_AMBIGUOUS % {"value": text})
        assert isinstance(found, User)
        if not self._assignable(found):
            raise ValidationError(MSG_OWNER_NOT_ASSIGNABLE)
        return found

    def _assignable(self, user: User) -> bool:
        """The importer, or someone in the departments their customer write scope covers
        (the rule ``customer_create`` applies to a new customer's owner)."""
        if user.pk == self.actor.pk:
            return True
        scope = effective_scope(self.actor, "change", Customer.scope_object_type)
        if scope == ALL:
            return True
        if scope in (DEPARTMENT, DEPARTMENT_TREE):
            ids = department_ids(self.actor, with_descendants=scope == DEPARTMENT_TREE)
            return user.department_id in ids
        return False

    # --- per chunk -----------------------------------------------------------------------
    def resolve(self, rows: Sequence[Row]) -> None:
        """Contacts by name among each row's customer's live contacts (one query)."""
        named = [r for r in rows if r.cleaned["contact_name"]]
        if not named:
            return
        found: dict[tuple[int, str], list[int]] = {}
        for cid, name, pk in (
            Contact.objects.alive()
            .filter(
                customer_id__in={r.cleaned["customer"].id for r in named},
                name__in={r.cleaned["contact_name"] for r in named},
            )
            .values_list("customer_id", "name", "pk")
        ):
            found.setdefault((cid, name), []).append(pk)
        for row in named:
            name = row.cleaned["contact_name"]
            pks = found.get((row.cleaned["customer"].id, name), [])
            if len(pks) == 1:
                row.cleaned["contact_id"] = pks[0]
            else:
                message = MSG_CONTACT_UNKNOWN if not pks else MSG_CONTACT_AMBIGUOUS
                row.errors.setdefault("contact", []).append(str(message % {"value": name}))

    def keys(self, row: Row) -> list[tuple[str, str]]:
        return [
            (
                RULE,
                _key(
                    row.cleaned["customer"].id, row.cleaned["followed_at"], row.cleaned["content"]
                ),
            )
        ]

    def find(self, rows: Sequence[Row]) -> dict[tuple[str, str], list[Match]]:
        wanted = {key for row in rows for key in row.keys}
        found = (
            FollowUp.objects.alive()
            .filter(
                customer_id__in={r.cleaned["customer"].id for r in rows},
                followed_at__in={r.cleaned["followed_at"] for r in rows},
            )
            .values_list(
                "pk", "customer_id", "customer__code", "followed_at", "content", "import_batch_id"
            )
        )
        matches: dict[tuple[str, str], list[Match]] = {}
        for pk, cid, code, followed_at, content, batch_id in found:
            key = (RULE, _key(cid, followed_at, content))
            if key in wanted:
                label = f"{code} {timezone.localtime(followed_at):%Y-%m-%d %H:%M}"
                matches.setdefault(key, []).append(
                    Match(id=pk, label=label, rule=RULE, in_scope=True, batch_id=batch_id)
                )
        return matches

    # --- write ---------------------------------------------------------------------------
    def write(self, rows: Sequence[Row]) -> None:
        creates = [r for r in rows if r.action == "create"]
        if creates:
            now = timezone.now()
            made = FollowUp.objects.bulk_create(
                [self._new(r, now) for r in creates], batch_size=1000
            )
            for row, follow_up in zip(creates, made, strict=True):
                row.target_id = follow_up.pk
            refresh_follow_up_stamps(r.cleaned["customer"].id for r in creates)
        for row in rows:
            if row.action == "update":
                self._update(row)
        touched = {r.cleaned["customer"].id for r in rows if r.action in ("create", "update")}
        if touched:
            self.record_chunk(
                "follow_up.import", FollowUp, "follow_up", touched, created=len(creates)
            )

    def _new(self, row: Row, now: dt.datetime) -> FollowUp:
        values = {f: row.cleaned[f] for f in follow_ups.FOLLOW_UP_FIELDS}
        return FollowUp(
            customer_id=row.cleaned["customer"].id,
            owner=row.cleaned["owner"] or self.actor,
            created_by=self.actor,
            updated_by=self.actor,
            created_at=now,
            updated_at=now,
            import_batch=self.batch,
            **values,
        )

    def _update(self, row: Row) -> None:
        from guanxi.dataio.models import ImportUpdate
        from guanxi.dataio.undo_relationship import follow_up_before

        follow_up = FollowUp.objects.get(pk=row.target_id)
        data = {f: row.cleaned[f] for f in follow_ups.FOLLOW_UP_FIELDS if row.cleaned.get(f)}
        before = follow_up_before(follow_up)
        try:
            follow_up = follow_ups.follow_up_update(
                actor=self.actor, follow_up=follow_up, data=data, version=follow_up.version
            )
        except (ValidationError, DomainError) as exc:
            self.refuse(row, exc)
            return
        ImportUpdate.objects.create(
            batch=self.batch, object_id=follow_up.pk, before=before, version=follow_up.version
        )

    # --- undo ----------------------------------------------------------------------------
    def undo(self, batch: Any) -> dict[str, int]:
        from guanxi.dataio.undo_relationship import undo_follow_ups

        return undo_follow_ups(actor=self.actor, batch=batch)


def _key(customer_id: int, followed_at: dt.datetime, content: str) -> str:
    moment = followed_at.astimezone(dt.UTC).isoformat()
    return f"{customer_id}|{moment}|{content_digest(content)}"

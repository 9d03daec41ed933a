"""Customers from a file: the same validation as the form (customers.validation), duplicate
keys through the blind indexes, new rows through the bulk path (customers.bulk), updates
through ``customer_update`` so history, renames and version checks hold as for a person."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.core import custom_fields, dictionaries, regions
from guanxi.core.bulk_sql import select_in
from guanxi.core.crypto import blind_index
from guanxi.core.errors import DomainError
from guanxi.core.field_errors import FieldErrors
from guanxi.core.validators import fold_text, name_key
from guanxi.customers import approvals, bulk, services
from guanxi.customers.choices import CustomerStatus, CustomerType, ReviewStatus
from guanxi.customers.contacts import derive_contact_columns, primary_contact_values
from guanxi.customers.models import Customer, CustomerTag, Tag
from guanxi.customers.name_match import deletion_keys
from guanxi.customers.validation import DICTIONARY_FIELDS, EDITABLE_FIELDS, clean_customer_input
from guanxi.dataio.importers.base import FieldSpec, Importer, Match, Row, error_messages
from guanxi.reports import tally_admin

MSG_OWNER_UNKNOWN = _("找不到负责人“%(value)s”（填写用户名或姓名）")
MSG_OWNER_AMBIGUOUS = _("负责人“%(value)s”对应多个用户，请填写用户名")
MSG_BAD_DATE = _("“%(value)s”不是有效的日期（例如 2024-05-01 或 2024-05-01 09:30）")
MSG_FUTURE = _("创建时间不能晚于现在")

AMBIGUOUS = "ambiguous"
TAG_SPLIT = re.compile(r"[、,，;；|/\s]+")
TYPE_WORDS = {"企业": CustomerType.ENTERPRISE, "公司": CustomerType.ENTERPRISE}
TYPE_WORDS |= {"个人": CustomerType.INDIVIDUAL}

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "code", _("客户编号"), ("编号", "code", "customer code"), rule=_("已有客户的编号：用于更新")
    ),
    FieldSpec(
        "name",
        _("客户名称"),
        ("名称", "公司名称", "企业名称", "单位名称", "客户", "name", "customer", "company"),
        required=True,
        rule=_("必填，不超过128字"),
        example="杭州西湖茶业有限公司",
    ),
    FieldSpec(
        "customer_type",
        _("客户类型"),
        ("类型", "type", "customer type"),
        rule=_("企业客户 / 个人客户，默认企业"),
        example="企业客户",
    ),
    FieldSpec(
        "industry",
        _("所属行业"),
        ("行业", "industry"),
        rule=_("行业名称或代码"),
        example="批发和零售业",
    ),
    FieldSpec("category", _("客户分类"), ("分类", "客户级别", "category"), rule=_("字典值")),
    FieldSpec("source", _("客户来源"), ("来源", "source"), rule=_("字典值"), example="网络推广"),
    FieldSpec(
        "status",
        _("客户状态"),
        ("状态", "status"),
        rule=_("潜在客户 / 未合作 / 合作客户 / 流失客户"),
    ),
    FieldSpec(
        "contact_name",
        _("联系人"),
        ("联系人姓名", "姓名", "contact", "contact name"),
        required=True,
        rule=_("必填"),
        example="王小明",
    ),
    FieldSpec("contact_title", _("职务"), ("职位", "title", "position"), example="采购经理"),
    FieldSpec(
        "mobile",
        _("手机号"),
        ("手机", "手机号码", "移动电话", "mobile", "cell", "mobile phone"),
        rule=_("11位中国大陆手机号；手机号和固定电话至少填一项"),
        example="13800138000",
    ),
    FieldSpec(
        "phone",
        _("固定电话"),
        ("座机", "电话", "联系电话", "landline", "phone", "tel"),
        example="0571-87654321",
    ),
    FieldSpec(
        "email",
        _("邮箱"),
        ("电子邮箱", "邮件", "email", "e-mail", "mail"),
        example="wang@example.com",
    ),
    FieldSpec(
        "uscc",
        _("统一社会信用代码"),
        ("信用代码", "社会信用代码", "uscc"),
        rule=_("18位，企业客户"),
    ),
    FieldSpec(
        "id_number", _("身份证号"), ("身份证", "证件号码", "id number"), rule=_("18位，个人客户")
    ),
    FieldSpec("province", _("省份"), ("省", "province")),
    FieldSpec("city", _("城市"), ("市", "city")),
    FieldSpec("district", _("区县"), ("区", "县", "district")),
    FieldSpec(
        "address",
        _("地址"),
        ("详细地址", "联系地址", "公司地址", "通讯地址", "address"),
        rule=_("可只填一列完整地址，省市区自动识别"),
        example="浙江省杭州市西湖区文三路90号",
    ),
    FieldSpec("tags", _("客户标签"), ("标签", "tags", "tag"), rule=_("多个标签用、或逗号分隔")),
    FieldSpec(
        "owner", _("负责人"), ("销售", "所属销售", "owner"), rule=_("用户名或姓名，默认导入人")
    ),
    FieldSpec(
        "created_at",
        _("创建时间"),
        ("录入时间", "created at", "created"),
        rule=_("保留原系统的创建时间"),
    ),
    FieldSpec("notes", _("备注"), ("说明", "notes", "remark", "remarks", "comment")),
)
# Form fields cleaned by clean_customer_input; the rest are the importer's own.
BASE_FIELDS = tuple(f for f in EDITABLE_FIELDS if f not in ("tags", "owner_id"))
KEY_FIELDS = ("mobile", "phone", "email", "uscc")
REGION_PARTS = ("province", "city", "district", "address")


def _choice(value: str, choices: Any, words: dict[str, str] | None = None) -> str:
    """A TextChoices code from its code, its label or a short word of it ("企业")."""
    known = _choice_lookup(choices, get_language() or "")
    if value in known:
        return known[value]
    for word, code in (words or {}).items():
        if word in value:
            return code
    for code, label in choices.choices:
        if str(label).startswith(value) or value.startswith(str(label)[:2]):
            return code
    return value  # clean_customer_input names it as a bad choice


@lru_cache(maxsize=32)
def _choice_lookup(choices: Any, language: str) -> dict[str, str]:
    """Code and label (in the active language and in Chinese) -> code, built once."""
    lookup: dict[str, str] = {}
    for code, label in choices.choices:
        lookup[str(label)] = code
        with translation.override("zh-hans"):
            lookup[str(label)] = code
        lookup[code] = code
    return lookup


def parse_moment(value: str) -> datetime:
    """A date or date-time as people type it (2024-05-01, 2024/5/1 9:30, 2024-05-01T09:30)."""
    text = fold_text(value).replace("/", "-").replace(".", "-").replace("T", " ")
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text) if " " not in text else None
        if day is None:
            raise ValidationError(MSG_BAD_DATE % {"value": value})
        moment = datetime(day.year, day.month, day.day)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class PreparedCustomer(NamedTuple):
    """What ``CustomerImporter.prepare`` computes from a clean row alone, ahead of the write
    (in the helper process when there is one): the customer's derived columns, its primary
    contact's (None without a contact name) and its similar-name keys."""

    columns: dict[str, Any]
    contact: dict[str, Any] | None
    name_keys: list[str]


class CustomerImporter(Importer):
    object_type = "customer"
    label = _("客户")
    permission = "customers.add_customer"
    fields = FIELDS
    blocking_rules = frozenset({"code", "name"})
    clean_offline = True  # owners and dictionaries are read in begin()

    def field_specs(self) -> Sequence[FieldSpec]:
        extra = tuple(
            FieldSpec(f"cf:{f.key}", f.label, tuple(a for a in (f.label_en, f.key) if a))
            for f in custom_fields.definitions(Customer.scope_object_type)
        )
        return self.fields + extra

    def begin(self, *, actor: Any, batch: Any) -> None:
        super().begin(actor=actor, batch=batch)
        self.custom = custom_fields.definitions(Customer.scope_object_type)
        self.review_needed = approvals.review_needed(actor)
        self._owners = _active_users()
        dictionaries.preload(*DICTIONARY_FIELDS.values())

    # --- clean ---------------------------------------------------------------------------
    def clean(self, row: Row) -> None:
        values = row.values
        errors = FieldErrors()
        data: dict[str, Any] = {f: values[f] for f in BASE_FIELDS if values.get(f)}
        if "customer_type" in data:
            data["customer_type"] = _choice(data["customer_type"], CustomerType, TYPE_WORDS)
        if "status" in data:
            data["status"] = _choice(data["status"], CustomerStatus)
        if data.get("address") and not (data.get("province") or data.get("city")):
            region, street = regions.split_address(data["address"])
            if region.province:
                data.update(
                    province=region.province,
                    city=region.city,
                    district=region.district,
                    address=street,
                )
        cleaned = errors.check(clean_customer_input, data) or {}
        custom_raw = {f[3:]: v for f, v in values.items() if f.startswith("cf:") and v}
        custom = errors.check(
            lambda: custom_fields.clean_values(self.custom, custom_raw, creating=True)
        )
        extra: dict[str, Any] = {}
        if values.get("code"):
            extra["code"] = fold_text(values["code"]).upper()
        if values.get("contact_title"):
            extra["contact_title"] = fold_text(values["contact_title"])[:64]
        if values.get("tags"):
            extra["tags"] = [t[:32] for t in TAG_SPLIT.split(values["tags"]) if t]
        if values.get("owner"):
            with errors.collect("owner"):
                extra["owner"] = self._owner(values["owner"])
        if values.get("created_at"):
            with errors.collect("created_at"):
                extra["created_at"] = parse_moment(values["created_at"])
                if extra["created_at"] > timezone.now():
                    raise ValidationError(MSG_FUTURE)
        if errors:
            row.errors = _by_field(errors)
            return
        row.cleaned = {**cleaned, **extra, "custom_fields": custom or {}}
        row.keys = self._keys(row.cleaned)

    def _owner(self, text: str) -> User:
        found = self._owners.get(fold_text(text))
        if found is None:
            raise ValidationError(MSG_OWNER_UNKNOWN % {"value": text})
        if found == AMBIGUOUS:
            raise ValidationError(MSG_OWNER_AMBIGUOUS % {"value": text})
        return found  # type: ignore[return-value]

    @staticmethod
    def _keys(cleaned: dict[str, Any]) -> list[tuple[str, str]]:
        keys = [("name", name_key(cleaned["name"]))]
        if cleaned.get("code"):
            keys.append(("code", cleaned["code"]))
        keys += [(f, blind_index(f, cleaned[f])) for f in KEY_FIELDS if cleaned.get(f)]
        return keys

    def prepare(self, row: Row) -> None:
        cleaned = row.cleaned
        contact = (
            derive_contact_columns(primary_contact_values(cleaned))
            if cleaned.get("contact_name")
            else None
        )
        columns = bulk.derive_columns(cleaned, self.custom)
        row.prepared = PreparedCustomer(columns, contact, deletion_keys(columns["name_core"]))

    # --- match ---------------------------------------------------------------------------
    def match(self, rows: Sequence[Row]) -> dict[tuple[str, str], list[Match]]:
        wanted: dict[str, set[str]] = {}
        for row in rows:
            for rule, key in row.keys:
                wanted.setdefault(rule, set()).add(key)
        if not wanted:
            return {}
        column = {"name": "name_key", "code": "code", **{f: f"{f}_bidx" for f in KEY_FIELDS}}
        fields = tuple(
            dict.fromkeys(("id", "code", "name", "import_batch_id", "deleted_at", *column.values()))
        )
        select = f"SELECT {', '.join(fields)} FROM {Customer._meta.db_table}"
        found: dict[int, dict[str, Any]] = {}
        for rule, keys in wanted.items():  # one indexed look-up per key kind
            sql = f"{select} WHERE {column[rule]} IN ({{values}})"
            for values in select_in(sql, sorted(keys)):
                rec = dict(zip(fields, values, strict=True))
                found[rec["id"]] = rec
        writable = set(
            Customer.objects.restrict(self.actor, "change")
            .filter(pk__in=list(found))
            .values_list("pk", flat=True)
        )
        matches: dict[tuple[str, str], list[Match]] = {}
        for rec in found.values():
            for rule, col in column.items():
                key = rec[col]
                if not key or key not in wanted.get(rule, ()):
                    continue
                if rec["deleted_at"] is not None and rule != "code":
                    continue  # a deleted record only keeps its code (unique across all)
                matches.setdefault((rule, key), []).append(
                    Match(
                        id=rec["id"],
                        label=f"{rec['code']} {rec['name']}",
                        rule=rule,
                        in_scope=rec["id"] in writable and rec["deleted_at"] is None,
                        batch_id=rec["import_batch_id"],
                    )
                )
        return matches

    # --- write ---------------------------------------------------------------------------
    def write(self, rows: Sequence[Row]) -> None:
        creates = [r for r in rows if r.action == "create"]
        if creates:
            self._create(creates)
        for row in rows:
            if row.action == "update":
                self._update(row)

    def _create(self, rows: Sequence[Row]) -> None:
        now = timezone.now()
        given = [r.cleaned.get("code") for r in rows]
        fresh = iter(bulk.reserve_customer_codes(sum(1 for c in given if not c), now))
        codes = [c or next(fresh) for c in given]
        actor_id = self.actor.pk
        review = ReviewStatus.PENDING if self.review_needed else ReviewStatus.APPROVED
        stamps = [r.cleaned.get("created_at") or now for r in rows]
        tuples = []
        for row, code, stamp in zip(rows, codes, stamps, strict=True):
            owner = row.cleaned.get("owner") or self.actor
            tuples.append(
                bulk.prepare_row(
                    row.cleaned,
                    code=code,
                    owner_id=owner.pk,
                    department_id=owner.department_id,
                    actor_id=actor_id,
                    created_at=stamp,
                    review_status=review,
                    custom_field_definitions=self.custom,
                    import_batch_id=self.batch.pk,
                    derived=row.prepared.columns if row.prepared else None,
                )
            )
        bulk.insert_rows(tuples)
        ids = bulk.after_insert(
            [
                {
                    **r.cleaned,
                    "title": r.cleaned.get("contact_title", ""),
                    "contact_derived": r.prepared.contact if r.prepared else None,
                    "name_keys": r.prepared.name_keys if r.prepared else None,
                }
                for r in rows
            ],
            codes,
            actor_id=actor_id,
            created_at=stamps,
            import_batch_id=self.batch.pk,
        )
        for row, code in zip(rows, codes, strict=True):
            row.target_id = ids[code]
        if ids:
            tally_admin.count_imported(self.batch.pk, min(ids.values()), max(ids.values()))
        self._tag([(ids[c], r.cleaned.get("tags") or []) for r, c in zip(rows, codes, strict=True)])
        # Rule-based tags look at the new customers once this chunk commits (chunk by
        # chunk, so a million-row import never holds every id at once).
        services.announce_change(list(ids.values()), "customer.import")
        if self.review_needed:
            for customer in Customer.objects.filter(pk__in=ids.values()):
                approvals.submit_new(actor=self.actor, customer=customer, meta=None)

    def _tag(self, pairs: list[tuple[int, list[str]]]) -> None:
        names = {n for _id, tags in pairs for n in tags}
        if not names:
            return
        existing = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        for name in sorted(names - existing.keys()):
            existing[name] = Tag.objects.create(name=name).pk
        CustomerTag.objects.bulk_create(
            [
                CustomerTag(customer_id=cid, tag_id=existing[n])
                for cid, tags in pairs
                for n in dict.fromkeys(tags)
            ]
        )

    def _update(self, row: Row) -> None:
        from guanxi.dataio.models import ImportUpdate
        from guanxi.dataio.undo import before_values

        customer = Customer.objects.get(pk=row.target_id)
        data = {f: row.values[f] for f in BASE_FIELDS if row.values.get(f) and f != "status"}
        if row.cleaned.get("code") != customer.code:
            # Matched by a phone, e-mail or USCC: those may be shared, so the name is only
            # changed (through the rename rules) when the row names the record by its code.
            data.pop("name", None)
        if "address" in data and not (row.values.get("province") or row.values.get("city")):
            # A one-column address was split by clean(): store the parts, not the line.
            data.update({f: row.cleaned[f] for f in REGION_PARTS if row.cleaned.get(f)})
        if "customer_type" in data:
            data["customer_type"] = row.cleaned["customer_type"]
        if row.cleaned.get("custom_fields"):
            data["custom_fields"] = {
                **(customer.custom_fields or {}),
                **row.cleaned["custom_fields"],
            }
        if row.cleaned.get("owner"):
            data["owner_id"] = row.cleaned["owner"].pk
        if row.cleaned.get("tags"):
            data["tags"] = sorted(
                set(
                    customer.tags.filter(customertag__rule__isnull=True).values_list(
                        "name", flat=True
                    )
                )
                | set(row.cleaned["tags"])
            )
        before = before_values(customer)
        try:
            customer = services.customer_update(
                actor=self.actor, customer=customer, data=data, version=customer.version
            )
        except ValidationError as exc:
            row.action, row.errors = "error", error_messages(exc)
            return
        except DomainError as exc:
            row.action, row.errors = "error", {"": [f"{exc.message}（{exc.code}）"]}
            return
        ImportUpdate.objects.create(
            batch=self.batch, object_id=customer.pk, before=before, version=customer.version
        )

    # --- undo ----------------------------------------------------------------------------
    def undo(self, batch: Any) -> dict[str, int]:
        from guanxi.dataio.undo import undo_customers

        return undo_customers(actor=self.actor, batch=batch, custom=self.custom)


def _active_users() -> dict[str, User | str]:
    """Owner column text -> active user: a username names its user; a display name names
    its user when only one active user has it, else it is AMBIGUOUS. Read once per run (a
    company has hundreds of users, an import a million rows)."""
    by_name: dict[str, list[User]] = {}
    owners: dict[str, User | str] = {}
    users = list(
        User.objects.filter(is_active=True)
        .only("pk", "username", "name", "department_id")
        .order_by("pk")
    )
    for user in users:
        if user.name:
            by_name.setdefault(user.name, []).append(user)
    for name, people in by_name.items():
        owners[name] = people[0] if len(people) == 1 else AMBIGUOUS
    for user in users:
        owners[user.username] = user
    return owners


def _by_field(errors: FieldErrors) -> dict[str, list[str]]:
    try:
        errors.raise_if_any()
    except ValidationError as exc:
        return error_messages(exc)
    return {}

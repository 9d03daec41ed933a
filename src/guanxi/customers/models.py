"""Customer master data and the events around a customer's identity."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.crypto import EncryptedTextField
from guanxi.core.models import BusinessModel, ByteOrderCharField, ScopedQuerySet
from guanxi.customers.choices import CustomerStatus, CustomerType, ReviewStatus

ALIVE = Q(deleted_at__isnull=True)


class Tag(models.Model):
    """A label put on customers (manual for now; rule-based tags come later)."""

    name = models.CharField(_("标签名称"), max_length=32, unique=True)
    color = models.CharField(_("颜色"), max_length=16, default="#0d6efd")
    tag_type = models.CharField(_("标签类型"), max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomerQuerySet(ScopedQuerySet):
    def in_bin(self) -> CustomerQuerySet:
        """Deleted by a user (restorable), as opposed to merged into another customer."""
        return self.filter(deleted_at__isnull=False, merged_into__isnull=True)


class Customer(BusinessModel):
    """A customer (enterprise or person): the master record every other module hangs on.

    Personal fields are encrypted with a blind index each; ``name_key`` enforces unique names
    among live customers; ``search_tokens`` feeds the full-text index (see customers.search).
    """

    # Set by services.customer_update when a new name became an approval request instead.
    pending_rename: Any = None
    # Set by the create/update services: the non-blocking duplicate findings of the save.
    duplicate_warnings: Any = ()

    code = models.CharField(_("客户编号"), max_length=24, unique=True, editable=False)
    name = models.CharField(_("客户名称"), max_length=128)
    name_key = models.CharField(max_length=128, editable=False)
    # The identifying part of the name (customers.name_match); with CustomerNameKey it finds
    # similar names. Code-point order, so index neighbours share prefixes.
    name_core = ByteOrderCharField(max_length=128, blank=True, default="", editable=False)
    customer_type = models.CharField(
        _("客户类型"), max_length=16, choices=CustomerType.choices, default=CustomerType.ENTERPRISE
    )
    contact_name = models.CharField(_("联系人"), max_length=64)
    mobile = EncryptedTextField(_("手机号"), blind_index_field="mobile_bidx", purpose="mobile")
    mobile_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    phone = EncryptedTextField(_("固定电话"), blind_index_field="phone_bidx", purpose="phone")
    phone_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    email = EncryptedTextField(_("邮箱"), blind_index_field="email_bidx", purpose="email")
    email_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    uscc = EncryptedTextField(_("统一社会信用代码"), blind_index_field="uscc_bidx", purpose="uscc")
    uscc_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    id_number = EncryptedTextField(
        _("身份证号"), blind_index_field="id_number_bidx", purpose="id_number"
    )
    id_number_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    province = models.CharField(_("省份"), max_length=32, blank=True)
    city = models.CharField(_("城市"), max_length=32, blank=True)
    district = models.CharField(_("区县"), max_length=32, blank=True)
    address = models.CharField(_("详细地址"), max_length=255, blank=True)
    industry = models.CharField(_("所属行业"), max_length=32, blank=True)
    category = models.CharField(_("客户分类"), max_length=32, blank=True)
    source = models.CharField(_("客户来源"), max_length=32, blank=True)
    status = models.CharField(
        _("客户状态"),
        max_length=20,
        choices=CustomerStatus.choices,
        default=CustomerStatus.POTENTIAL,
    )
    review_status = models.CharField(
        _("审核状态"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    # No single-column indexes on owner and department: cust_owner_idx and cust_dept_idx lead
    # with them and serve every look-up (one B-tree less to write per customer each).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="owned_customers",
        verbose_name=_("负责人"),
        db_index=False,
    )
    department = models.ForeignKey(
        "accounts.Department",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("所属部门"),
        db_index=False,
    )
    notes = models.TextField(_("备注"), blank=True)
    tags = models.ManyToManyField(
        Tag, through="CustomerTag", blank=True, related_name="customers", verbose_name=_("标签")
    )
    # Values of admin-defined fields (core.CustomField), key → value; see core.custom_fields.
    custom_fields = models.JSONField(_("自定义字段"), default=dict, blank=True)
    last_follow_up_at = models.DateTimeField(_("最近跟进时间"), null=True, blank=True)
    # The next step of the latest follow-up (customers.follow_ups keeps it current).
    next_follow_up_at = models.DateTimeField(_("下次跟进时间"), null=True, blank=True)
    search_tokens = models.TextField(blank=True, default="", editable=False)
    # Share of the expected fields filled, 0–100 (customers.quality), kept by the services.
    completeness = models.PositiveSmallIntegerField(_("完整度"), default=0, editable=False)
    # Set when the personal data was erased (PIPL): the business record stays, anonymised.
    erased_at = models.DateTimeField(_("个人信息清除时间"), null=True, blank=True, editable=False)
    # The import batch that created the record (None when entered by hand): undo removes it.
    import_batch = models.ForeignKey(
        "dataio.ImportBatch",
        models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Set (with deleted_at) when this record was merged into another; such records stay for
    # inspection, out of the recycle bin, and go when the survivor is purged.
    merged_into = models.ForeignKey(
        "self",
        models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("合并至"),
    )

    objects = CustomerQuerySet.as_manager()

    scope_object_type = "customer"

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["-id"]
        permissions = [
            ("view_sensitive_customer", _("查看客户敏感信息")),
            ("approve_customer", _("审核客户")),
            ("export_customer", _("导出客户")),
            ("purge_customer", _("彻底删除客户")),
            ("merge_customer", _("合并重复客户")),
            ("handle_privacy_customer", _("处理个人信息请求（导出、匿名化、清除清单）")),
            ("verify_customer", _("数据质量核查")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["name_key"], condition=ALIVE, name="customer_live_name_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "province", "-id"], name="cust_status_prov_idx"),
            models.Index(fields=["province", "city", "-id"], name="cust_region_idx"),
            models.Index(fields=["owner", "-id"], name="cust_owner_idx"),
            models.Index(fields=["department", "-id"], name="cust_dept_idx"),
            models.Index(fields=["category", "-id"], name="cust_category_idx"),
            models.Index(fields=["industry", "-id"], name="cust_industry_idx"),
            models.Index(fields=["-updated_at", "-id"], name="cust_updated_idx"),
            models.Index(fields=["-created_at", "-id"], name="cust_created_idx"),
            models.Index(fields=["mobile_bidx"], name="cust_mobile_bidx"),
            models.Index(fields=["phone_bidx"], name="cust_phone_bidx"),
            models.Index(fields=["email_bidx"], name="cust_email_bidx"),
            models.Index(fields=["uscc_bidx"], name="cust_uscc_bidx"),
            models.Index(fields=["id_number_bidx"], name="cust_idno_bidx"),
            models.Index(fields=["deleted_at"], name="cust_deleted_idx"),
            models.Index(fields=["name", "id"], name="cust_name_idx"),
            models.Index(fields=["name_core"], name="cust_name_core_idx"),
            models.Index(fields=["completeness"], name="cust_completeness_idx"),
            models.Index(fields=["owner", "next_follow_up_at"], name="cust_owner_next_idx"),
            models.Index(fields=["last_follow_up_at"], name="cust_last_follow_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）" if self.code else self.name


class CustomerNameKey(models.Model):
    """The deletion neighbourhood of a customer's name core: the core itself and, for cores
    long enough that one edit still counts as similar, the core with any one character left
    out. Two cores one substitution, insertion or deletion apart share a key, so the
    similar-name check is a handful of indexed equality lookups (customers.duplicates)."""

    # No index of its own: custnamekey_unique leads with it (an import writes ~6 keys a
    # customer, so each index here is ~6 index entries per imported row).
    customer = models.ForeignKey(Customer, models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=128)

    class Meta:
        indexes = [models.Index(fields=["key", "customer"], name="custnamekey_key_idx")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="custnamekey_unique")
        ]


class CustomerTag(models.Model):
    """Explicit through-table so bulk tagging and tag filters use one index."""

    customer = models.ForeignKey(Customer, models.CASCADE)
    tag = models.ForeignKey(Tag, models.CASCADE)
    # Set when a tag rule put the tag on (customers.tag_rules); such tags come and go with
    # the rule's conditions, manual ones (rule empty) stay until a user removes them.
    rule = models.ForeignKey(
        "TagRule", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("规则")
    )
    tagged_at = models.DateTimeField(_("打标时间"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="custtag_unique")]
        indexes = [models.Index(fields=["tag", "customer"], name="custtag_tag_idx")]


class StatusChange(models.Model):
    """One status transition of a customer: history is rows, not text."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=CustomerStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=CustomerStatus.choices)
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("操作人")
    )
    changed_at = models.DateTimeField(_("变更时间"), default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("状态变更")
        ordering = ["-changed_at", "-id"]


class CustomerMerge(models.Model):
    """One merge of a duplicate into a surviving customer: what each side held, which value
    won per field and how many related rows moved, so a merge can be inspected later."""

    survivor = models.ForeignKey(
        Customer, models.CASCADE, related_name="+", verbose_name=_("保留客户")
    )
    merged = models.ForeignKey(
        Customer, models.CASCADE, related_name="+", verbose_name=_("被合并客户")
    )
    # field → "survivor" | "merged" | "both" (notes only)
    field_choices = models.JSONField(_("字段取值"), default=dict)
    # Masked snapshots (customers.services.snapshot) taken just before the merge.
    survivor_before = models.JSONField(default=dict)
    merged_before = models.JSONField(default=dict)
    # related model label → rows moved to the survivor
    moved = models.JSONField(_("迁移记录"), default=dict)
    reason = models.CharField(_("合并说明"), max_length=255, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("操作人")
    )
    merged_at = models.DateTimeField(_("合并时间"), default=timezone.now)

    class Meta:
        verbose_name = _("客户合并记录")
        ordering = ["-merged_at", "-id"]
        indexes = [
            models.Index(fields=["survivor", "-merged_at"], name="custmerge_survivor_idx"),
            models.Index(fields=["merged"], name="custmerge_merged_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"


class ConsentBasis(models.TextChoices):
    """The lawful bases of PIPL art. 13 a record of personal data can rest on."""

    CONSENT = "consent", _("个人同意")
    CONTRACT = "contract", _("订立、履行合同所必需")
    LEGAL_DUTY = "legal_duty", _("履行法定职责或义务所必需")
    PUBLIC = "public", _("依法公开的个人信息")
    OTHER = "other", _("法律、行政法规规定的其他情形")


class Consent(models.Model):
    """The basis on which personal data of a customer (or its contact person) is held: who,
    on what basis, for which purposes, from which source, when; withdrawn, never deleted."""

    customer = models.ForeignKey(Customer, models.CASCADE, related_name="consents")
    subject_name = models.CharField(_("个人信息主体"), max_length=64)
    basis = models.CharField(_("处理依据"), max_length=16, choices=ConsentBasis.choices)
    scope = models.CharField(_("处理目的与范围"), max_length=255)
    source = models.CharField(_("取得方式"), max_length=64)
    evidence = models.CharField(_("凭证"), max_length=255, blank=True)
    given_at = models.DateTimeField(_("取得时间"))
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("撤回原因"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("个人信息处理依据")
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["customer", "-given_at"], name="consent_customer_idx")]

    def __str__(self) -> str:
        return f"{self.subject_name}：{self.get_basis_display()}"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.withdrawn_at is None and (self.expires_at is None or self.expires_at > now)


class RetentionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class RetentionList(models.Model):
    """A purge list: customers whose personal data passed the retention rule, waiting for a
    data admin's decision. Approving it erases the personal data of the listed customers."""

    rule = models.JSONField(_("规则"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=RetentionStatus.choices, default=RetentionStatus.PENDING
    )
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    comment = models.CharField(_("审批意见"), max_length=500, blank=True)
    erased_count = models.PositiveIntegerField(_("已匿名化"), default=0)

    class Meta:
        verbose_name = _("个人信息清除清单")
        ordering = ["-created_at", "-id"]


class RetentionCandidate(models.Model):
    """One customer on a purge list; a data admin may keep it off before approving."""

    retention_list = models.ForeignKey(RetentionList, models.CASCADE, related_name="candidates")
    customer = models.ForeignKey(Customer, models.CASCADE, related_name="+")
    last_activity_at = models.DateTimeField(_("最后互动时间"))
    excluded = models.BooleanField(_("保留"), default=False)
    erased = models.BooleanField(_("已匿名化"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["retention_list", "customer"], name="retention_candidate_unique"
            )
        ]


class QualityCheck(models.Model):
    """One sampling round of the data-quality check: a share of the live customers drawn at
    random for data admins to verify against reality."""

    created_at = models.DateTimeField(_("抽样时间"), default=timezone.now)
    sample_rate = models.FloatField(_("抽样比例"))
    population = models.PositiveIntegerField(_("客户总数"))

    class Meta:
        verbose_name = _("数据质量核查")
        ordering = ["-created_at", "-id"]


class QualityStatus(models.TextChoices):
    PENDING = "pending", _("待核实")
    VERIFIED = "verified", _("核实无误")
    CORRECTED = "corrected", _("已更正")


class QualityItem(models.Model):
    """One sampled customer and what the data admin found."""

    check_round = models.ForeignKey(QualityCheck, models.CASCADE, related_name="items")
    customer = models.ForeignKey(Customer, models.CASCADE, related_name="+")
    status = models.CharField(
        _("核查结果"), max_length=16, choices=QualityStatus.choices, default=QualityStatus.PENDING
    )
    note = models.CharField(_("说明"), max_length=255, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("核查人"),
    )
    checked_at = models.DateTimeField(_("核查时间"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["check_round", "customer"], name="quality_item_unique")
        ]
        indexes = [models.Index(fields=["check_round", "status", "id"], name="quality_item_idx")]


# --- the relationship around a customer (contacts, follow-ups, interactions) -------------
# Each follows its customer's data scope: the scope paths run through ``customer``.


class Contact(BusinessModel):
    """A person at a customer (联系人); one live contact per customer may be primary.

    Personal fields are encrypted with a blind index each (exact phone/e-mail search and
    duplicate checks); ``birthday_md`` ("MM-DD") lets the birthday reminder use an index.
    """

    customer = models.ForeignKey(
        Customer, models.CASCADE, related_name="contacts", verbose_name=_("客户")
    )
    name = models.CharField(_("姓名"), max_length=64)
    title = models.CharField(_("职务"), max_length=64, blank=True)
    department_name = models.CharField(_("部门"), max_length=64, blank=True)
    mobile = EncryptedTextField(_("手机号"), blind_index_field="mobile_bidx", purpose="mobile")
    mobile_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    phone = EncryptedTextField(_("固定电话"), blind_index_field="phone_bidx", purpose="phone")
    phone_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    email = EncryptedTextField(_("邮箱"), blind_index_field="email_bidx", purpose="email")
    email_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    wechat = EncryptedTextField(_("微信号"), blind_index_field="wechat_bidx", purpose="wechat")
    wechat_bidx = models.CharField(max_length=32, blank=True, default="", editable=False)
    birthday = models.DateField(_("生日"), null=True, blank=True)
    birthday_md = models.CharField(max_length=5, blank=True, default="", editable=False)
    notes = models.TextField(_("备注"), blank=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    # Name, full pinyin and initials, lower-case, space-separated (customers.contacts).
    search_tokens = models.TextField(blank=True, default="", editable=False)

    objects = ScopedQuerySet.as_manager()

    scope_owner_field = "customer__owner"
    scope_department_field = "customer__department"
    scope_object_type = "customer"

    import_batch = models.ForeignKey(
        "dataio.ImportBatch",
        models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True, deleted_at__isnull=True),
                name="contact_one_primary",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-is_primary", "id"], name="contact_customer_idx"),
            models.Index(fields=["mobile_bidx"], name="contact_mobile_bidx"),
            models.Index(fields=["phone_bidx"], name="contact_phone_bidx"),
            models.Index(fields=["email_bidx"], name="contact_email_bidx"),
            models.Index(fields=["wechat_bidx"], name="contact_wechat_bidx"),
            models.Index(fields=["birthday_md"], name="contact_birthday_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class FollowUp(BusinessModel):
    """One follow-up (跟进记录): how, with whom, what came of it and the next step.

    ``owner`` is who followed up (跟进人). The customer keeps ``last_follow_up_at`` and
    ``next_follow_up_at`` of its latest follow-up current (customers.follow_ups).
    """

    customer = models.ForeignKey(
        Customer, models.CASCADE, related_name="follow_ups", verbose_name=_("客户")
    )
    contact = models.ForeignKey(
        Contact,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("联系人"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("跟进人")
    )
    method = models.CharField(_("跟进方式"), max_length=32)
    result = models.CharField(_("跟进结果"), max_length=32, blank=True)
    content = models.TextField(_("跟进内容"))
    followed_at = models.DateTimeField(_("跟进时间"), default=timezone.now)
    next_follow_up_at = models.DateTimeField(_("下次跟进时间"), null=True, blank=True)
    next_plan = models.CharField(_("下次跟进计划"), max_length=255, blank=True)

    objects = ScopedQuerySet.as_manager()

    scope_owner_field = "customer__owner"
    scope_department_field = "customer__department"
    scope_object_type = "customer"

    import_batch = models.ForeignKey(
        "dataio.ImportBatch",
        models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        ordering = ["-followed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-followed_at", "-id"], name="followup_customer_idx"),
            models.Index(fields=["owner", "-followed_at"], name="followup_owner_idx"),
            models.Index(fields=["next_follow_up_at"], name="followup_next_idx"),
            models.Index(fields=["-followed_at", "-id"], name="followup_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.followed_at:%Y-%m-%d}"


class Interaction(BusinessModel):
    """An interaction recorded by hand (活动参与, 投诉咨询, 订单下单, ...): a timeline entry
    that is neither a follow-up nor generated by another module."""

    customer = models.ForeignKey(
        Customer, models.CASCADE, related_name="interactions", verbose_name=_("客户")
    )
    kind = models.CharField(_("互动类型"), max_length=32)
    subject = models.CharField(_("主题"), max_length=128)
    details = models.TextField(_("详情"), blank=True)
    occurred_at = models.DateTimeField(_("发生时间"), default=timezone.now)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("经办人")
    )

    objects = ScopedQuerySet.as_manager()

    scope_owner_field = "customer__owner"
    scope_department_field = "customer__department"
    scope_object_type = "customer"

    class Meta:
        verbose_name = _("互动记录")
        verbose_name_plural = _("互动记录")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["customer", "-occurred_at", "-id"], name="interaction_customer_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class TagRule(models.Model):
    """A rule that tags customers automatically (高价值客户, 流失风险, ...).

    ``conditions`` is a list of {"field", "op", "value"} on customer fields and on aggregates
    (total order amount, days since last follow-up, complaints, ...), all of which must hold;
    customers.tag_rules evaluates it when data changes and nightly.
    """

    tag = models.ForeignKey(Tag, models.CASCADE, related_name="rules", verbose_name=_("标签"))
    name = models.CharField(_("规则名称"), max_length=64, unique=True)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    conditions = models.JSONField(_("条件"), default=list)
    enabled = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    last_run_at = models.DateTimeField(_("最近执行"), null=True, blank=True)
    last_run_count = models.PositiveIntegerField(_("命中客户数"), default=0)

    class Meta:
        verbose_name = _("标签规则")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Segment(models.Model):
    """A saved customer filter (客户分群): the customer list's query parameters, personal or
    shared; the list, exports and campaigns apply it with the viewer's own data scope."""

    name = models.CharField(_("分群名称"), max_length=64)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    # The customer list's filter parameters (customers.filters.CustomerFilter), as sent.
    params = models.JSONField(_("筛选条件"), default=dict)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="segments", verbose_name=_("创建人")
    )
    shared = models.BooleanField(_("共享"), default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("客户分群")
        verbose_name_plural = _("客户分群")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="segment_owner_name_unique")
        ]
        indexes = [models.Index(fields=["shared", "name"], name="segment_shared_idx")]

    def __str__(self) -> str:
        return self.name


class ChurnProposalStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    ACCEPTED = "accepted", _("已确认流失")
    DISMISSED = "dismissed", _("已忽略")
    WITHDRAWN = "withdrawn", _("已撤回")


class ChurnProposal(models.Model):
    """The daily 流失预警 job's proposal to mark a cooperating customer as 流失: its last
    contract or order ended ``last_business_on`` and nothing runs since. Someone who may
    change the customer confirms it (the status changes, with history) or dismisses it; a
    dismissed proposal is not made again for the same end date."""

    customer = models.ForeignKey(
        Customer, models.CASCADE, related_name="churn_proposals", verbose_name=_("客户")
    )
    last_business_on = models.DateField(_("最后业务结束日"))
    proposed_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ChurnProposalStatus.choices,
        default=ChurnProposalStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    reason = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("流失预警")
        verbose_name_plural = _("流失预警")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="pending"),
                name="churn_one_pending_per_customer",
            )
        ]
        indexes = [models.Index(fields=["status", "id"], name="churn_status_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.last_business_on}"

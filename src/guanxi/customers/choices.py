from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerType(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业客户")  # a company; USCC applies
    INDIVIDUAL = "individual", _("个人客户")  # a person; ID number applies


class CustomerStatus(models.TextChoices):
    POTENTIAL = "potential", _("潜在客户")  # known, not yet engaged
    NOT_COOPERATING = "not_cooperating", _("未合作")  # engaged, no business yet (or restored)
    COOPERATING = "cooperating", _("合作客户")  # has business with us
    LOST = "lost", _("流失客户")  # business has ended


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("待审核")  # created by someone who may not approve it
    APPROVED = "approved", _("已审核")  # usable and editable
    REJECTED = "rejected", _("已驳回")  # back to its creator to fix and resubmit

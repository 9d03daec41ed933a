from django.db import models
from django.utils.translation import gettext_lazy as _


class UserStatus(models.TextChoices):
    ACTIVE = "active", _("正常")  # may sign in
    LOCKED = "locked", _("锁定")  # refused until locked_until (or an admin unlocks)
    DISABLED = "disabled", _("禁用")  # refused until an admin re-enables
    DELETED = "deleted", _("已删除")  # soft-deleted; history kept


class Gender(models.TextChoices):
    UNKNOWN = "", _("未填写")
    MALE = "male", _("男")
    FEMALE = "female", _("女")

"""System parameters edited on the 系统参数 page: a value per key, over the settings default."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemParameter(models.Model):
    """An administrator's value for one registered parameter (see ``ops.parameters``); a key
    with no row reads the default from Django settings."""

    key = models.CharField(_("参数"), max_length=64, unique=True)
    value = models.JSONField(_("值"))
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改人"),
    )

    class Meta:
        verbose_name = _("系统参数")
        verbose_name_plural = _("系统参数")

    def __str__(self) -> str:
        return self.key

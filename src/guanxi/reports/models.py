"""Summary tables (tallies) the database keeps current, so reports never scan at size.

Each tally counts rows per (bucket, owner, department): the owner and department are the
customer's, so a caller's data scope applies to a tally exactly as to the customers
(``core.scopes.scope_q`` on the same column names). Triggers installed by
``reports.tally_sql`` keep them current on every write path (services, raw bulk inserts,
merges, recycle bin, owner transfers); ``guanxi reports_tally --verify`` compares them with a
fresh count. ``department_id`` 0 stands for "no department" (a unique key cannot hold NULL).
Plain integer columns, not foreign keys: a tally must never block deleting what it counts.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerTally(models.Model):
    """Live customers per value of one dimension (status, category, city ...)."""

    dimension = models.CharField(max_length=16)
    value = models.CharField(max_length=80)
    owner_id = models.BigIntegerField()
    department_id = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("统计报表")
        default_permissions = ()
        permissions = [("view_report", _("查看统计报表"))]
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "value", "owner_id", "department_id"],
                name="reports_custtally_key",
            )
        ]
        indexes = [
            models.Index(fields=["owner_id", "dimension"], name="reports_custtally_owner"),
            models.Index(fields=["department_id", "dimension"], name="reports_custtally_dept"),
        ]


class CustomerDayTally(models.Model):
    """Live customers per local creation date."""

    day = models.DateField()
    owner_id = models.BigIntegerField()
    department_id = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["day", "owner_id", "department_id"], name="reports_daytally_key"
            )
        ]
        indexes = [
            models.Index(fields=["owner_id", "day"], name="reports_daytally_owner"),
            models.Index(fields=["department_id", "day"], name="reports_daytally_dept"),
            # Company-wide answers (scope "all") read the index alone, not the table.
            models.Index(fields=["day", "n"], name="reports_daytally_day_n"),
        ]


class StatusChangeTally(models.Model):
    """Status changes of live customers per local date and (from, to) pair."""

    day = models.DateField()
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    owner_id = models.BigIntegerField()
    department_id = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["day", "from_status", "to_status", "owner_id", "department_id"],
                name="reports_statustally_key",
            )
        ]
        indexes = [
            models.Index(fields=["owner_id", "day"], name="reports_statustally_owner"),
            models.Index(fields=["department_id", "day"], name="reports_statustally_dept"),
            # Changes to one status (流失 per day), read from the index alone.
            models.Index(fields=["to_status", "day", "n"], name="reports_statustally_to_day"),
        ]


class FollowUpTally(models.Model):
    """Live follow-ups of live customers per local date and follow-up owner (跟进人);
    ``owner_id``/``department_id`` are the customer's, for the scope."""

    day = models.DateField()
    follower_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    department_id = models.BigIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["day", "follower_id", "owner_id", "department_id"],
                name="reports_followtally_key",
            )
        ]
        indexes = [
            models.Index(fields=["owner_id", "day"], name="reports_followtally_owner"),
            models.Index(fields=["department_id", "day"], name="reports_followtally_dept"),
        ]


TALLY_MODELS = (CustomerTally, CustomerDayTally, StatusChangeTally, FollowUpTally)

# Scheduled reports live in their own module; imported here so Django registers them.
from guanxi.reports.schedule_models import ReportDelivery, ReportSchedule  # noqa: E402, F401

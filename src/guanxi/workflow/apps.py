from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "guanxi.workflow"
    label = "workflow"
    verbose_name = _("流程与通知")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # The reminder rules' rows (提醒规则): missing ones created, edited ones kept.
        post_migrate.connect(_seed_reminder_rules, sender=self, dispatch_uid="guanxi-reminders")


def _seed_reminder_rules(sender, **kwargs) -> None:  # type: ignore[no-untyped-def]
    from guanxi.workflow.reminders import ensure_reminder_rules

    ensure_reminder_rules()

from django.db import migrations

from guanxi.core.migration_ops import grant_to_roles

# The periodic jobs that existed as huey crontabs, with the same schedules (in TIME_ZONE).
SEEDED_JOBS = [
    ("tag_rules", "标签规则计算", "30 1 * * *", 2, 600),
    ("purge_recycle_bin", "回收站清理", "30 2 * * *", 2, 600),
    ("retention_review", "个人信息保存期限审查", "0 3 * * *", 2, 600),
    ("purge_exports", "清理过期导出文件", "15 3 * * *", 2, 600),
    ("quality_sample", "数据质量抽样", "0 4 1 * *", 0, 60),
    ("reminders", "提醒检查", "*/15 * * * *", 2, 120),
    ("daily_digest", "每日摘要邮件", "0 8 * * *", 3, 300),
]


def seed_jobs(apps, schema_editor):
    ScheduledJob = apps.get_model("ops", "ScheduledJob")
    for name, title, cron, retries, delay in SEEDED_JOBS:
        ScheduledJob.objects.get_or_create(
            name=name,
            defaults={
                "title": title,
                "cron": cron,
                "max_retries": retries,
                "retry_delay_seconds": delay,
            },
        )


def grant_manage_system(apps, schema_editor):
    """Existing admin roles get the system right the seeds give new ones."""
    grant_to_roles(apps, "ops", {"admin": ("manage_system",)})


class Migration(migrations.Migration):
    dependencies = [("ops", "0003_jobs_and_settings"), ("accounts", "0002_security")]
    operations = [
        migrations.RunPython(seed_jobs, migrations.RunPython.noop),
        migrations.RunPython(grant_manage_system, migrations.RunPython.noop),
    ]

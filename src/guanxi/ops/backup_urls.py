"""Routes of 数据备份 / 数据恢复 / 备份验证记录, included under /settings/system/backups/."""

from django.urls import path

from guanxi.ops import backup_views

urlpatterns = [
    path("", backup_views.backup_list, name="backups"),
    path("now/", backup_views.backup_now, name="backup_now"),
    path("restore/", backup_views.restore, name="restore"),
    path("verifications/", backup_views.verifications, name="backup_verifications"),
]

"""Customer pages (/customers/...)."""

from django.urls import path

from guanxi.customers import (
    churn_views,
    contact_urls,
    followup_urls,
    merge_views,
    privacy_views,
    quality_views,
    recycle_views,
    segment_urls,
    tag_urls,
    views,
)

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("regions/", views.region_options, name="regions"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/status/", views.customer_change_status, name="change_status"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/reveal/", views.customer_reveal, name="reveal"),
    path("<int:pk>/resubmit/", views.customer_resubmit, name="resubmit"),
    path("duplicates/", merge_views.duplicates_report, name="duplicates"),
    path("merge/", merge_views.merge_page, name="merge"),
    path("merges/<int:pk>/", merge_views.merge_record, name="merge_record"),
    path("churn/", churn_views.churn_list, name="churn_list"),
    path("churn/<int:pk>/", churn_views.churn_decide, name="churn_decide"),
    path("recycle/", recycle_views.recycle_bin, name="recycle_bin"),
    path("recycle/<int:pk>/restore/", recycle_views.recycle_restore, name="recycle_restore"),
    path("recycle/<int:pk>/purge/", recycle_views.recycle_purge, name="recycle_purge"),
    path("<int:pk>/consents/new/", privacy_views.consent_new, name="consent_new"),
    path("consents/<int:pk>/withdraw/", privacy_views.consent_withdraw, name="consent_withdraw"),
    path("<int:pk>/personal-data/", privacy_views.personal_data_export, name="personal_data"),
    path("<int:pk>/erase/", privacy_views.customer_erase, name="erase"),
    path("retention/", privacy_views.retention_lists, name="retention_lists"),
    path("retention/<int:pk>/", privacy_views.retention_detail, name="retention_detail"),
    path("quality/", quality_views.quality_overview, name="quality"),
    path("quality/checks/<int:pk>/", quality_views.quality_check, name="quality_check"),
    path("quality/items/<int:pk>/", quality_views.quality_mark, name="quality_mark"),
]
urlpatterns += [
    *contact_urls.urlpatterns,
    *followup_urls.urlpatterns,
    *tag_urls.urlpatterns,
    *segment_urls.urlpatterns,
]

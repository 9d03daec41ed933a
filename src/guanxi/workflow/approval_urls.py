"""审批中心 (/approvals/...)."""

from django.urls import path

from guanxi.workflow import approval_views, flow_views

app_name = "approvals"
urlpatterns = [
    path("", approval_views.approval_inbox, name="inbox"),
    path("<int:pk>/", approval_views.approval_detail, name="detail"),
    path("flows/", flow_views.flow_list, name="flows"),
    path("flows/<int:pk>/", flow_views.flow_edit, name="flow_edit"),
]

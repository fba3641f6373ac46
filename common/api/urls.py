from django.urls import path

from . import views

urlpatterns = [
    path("admin/audit/", views.AuditListView.as_view(), name="admin-audit"),
    path("admin/audit/<int:entry_id>/revert/", views.AuditRevertView.as_view(), name="admin-audit-revert"),
]

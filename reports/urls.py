from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.dashboard, name="reports_dashboard"),
    path("reports/<slug:table>.csv", views.table_csv, name="reports_csv"),
]

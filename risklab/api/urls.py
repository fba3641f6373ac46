from django.urls import path

from . import views

urlpatterns = [
    path("admin/montecarlo/", views.MonteCarloListView.as_view(), name="admin-montecarlo"),
    path("admin/montecarlo/<int:run_id>/", views.MonteCarloDetailView.as_view(), name="admin-montecarlo-run"),
]

from django.urls import path

from . import views

app_name = "risklab"
urlpatterns = [
    path("risk/montecarlo/", views.montecarlo, name="montecarlo"),
    path("risk/montecarlo/<int:run_id>/", views.montecarlo_run, name="montecarlo-run"),
]

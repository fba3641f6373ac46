from django.urls import path

from . import views

urlpatterns = [
    path("assets/", views.AssetListView.as_view(), name="asset-list"),
    path("markets/", views.MarketListView.as_view(), name="market-list"),
    path("markets/<str:symbol>/", views.MarketDetailView.as_view(), name="market-detail"),
    path("admin/markets/<str:symbol>/", views.AdminMarketView.as_view(), name="admin-market"),
    path("admin/pool/", views.AdminPoolView.as_view(), name="admin-pool"),
]

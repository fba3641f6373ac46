from django.urls import path

from . import views

urlpatterns = [
    path("oracle/prices/", views.OraclePriceListView.as_view(), name="oracle-prices"),
    path("oracle/prices/<str:symbol>/", views.OraclePriceDetailView.as_view(), name="oracle-price"),
    path("oracle/prices/<str:symbol>/haircuts/", views.HaircutTableView.as_view(), name="oracle-haircuts"),
    path("oracle/market-status/", views.MarketStatusView.as_view(), name="oracle-market-status"),
    path("admin/oracle/<str:symbol>/price/", views.ManualPriceView.as_view(), name="admin-oracle-price"),
    path("admin/oracle/<str:symbol>/shock/", views.ShockView.as_view(), name="admin-oracle-shock"),
    path("admin/oracle/<str:symbol>/unpin/", views.UnpinView.as_view(), name="admin-oracle-unpin"),
    path("admin/oracle/<str:symbol>/policy/", views.PolicyView.as_view(), name="admin-oracle-policy"),
    path("admin/oracle/<str:symbol>/source/", views.SourceView.as_view(), name="admin-oracle-source"),
    path("admin/backtests/", views.BacktestListView.as_view(), name="admin-backtests"),
    path("admin/backtests/<int:backtest_id>/", views.BacktestDetailView.as_view(), name="admin-backtest"),
]

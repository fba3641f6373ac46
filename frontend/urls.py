from django.contrib.auth import views as auth_views
from django.urls import path

from . import borrower_views, risk_views, views
from .auth_views import LoginView

app_name = "frontend"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("account/", views.account, name="account"),
    path("act/<str:action>/", borrower_views.action, name="action"),
    path("act/<str:action>/preview/", borrower_views.action_preview, name="action-preview"),
    path("collateral/<str:symbol>/", borrower_views.collateral, name="collateral"),
    path("history/", borrower_views.history, name="history"),
    path("login/wallet/", borrower_views.wallet_login, name="wallet-login"),
    path("markets/<str:symbol>/", views.market_detail, name="market"),
    path("backtests/", views.backtests, name="backtests"),
    path("backtests/<int:backtest_id>/", views.backtest_detail, name="backtest"),
    path("risk/", risk_views.console, name="risk-default"),
    path("risk/liquidations/", risk_views.liquidation_feed, name="risk-liquidations"),
    path("risk/<str:symbol>/", risk_views.desk, name="risk"),
    path("risk/<str:symbol>/preview/", risk_views.preview, name="risk-preview"),
]

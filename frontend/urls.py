from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .auth_views import LoginView

app_name = "frontend"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("account/", views.account, name="account"),
    path("account/action/", views.account_action, name="account-action"),
    path("account/collateral/<str:symbol>/", views.toggle_collateral, name="account-collateral"),
    path("markets/<str:symbol>/", views.market_detail, name="market"),
    path("backtests/", views.backtests, name="backtests"),
    path("backtests/<int:backtest_id>/", views.backtest_detail, name="backtest"),
    path("risk/", views.risk, name="risk-default"),
    path("risk/<str:symbol>/", views.risk, name="risk"),
]

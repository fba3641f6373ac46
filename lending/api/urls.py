from django.urls import path

from . import siwe_views, views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/siwe/nonce/", siwe_views.SiweNonceView.as_view(), name="auth-siwe-nonce"),
    path("auth/siwe/verify/", siwe_views.SiweVerifyView.as_view(), name="auth-siwe-verify"),
    path("auth/siwe/link/", siwe_views.SiweLinkView.as_view(), name="auth-siwe-link"),
    path("account/", views.AccountView.as_view(), name="account"),
    path("account/faucet/", views.FaucetView.as_view(), name="account-faucet"),
    path("account/supply/", views.SupplyView.as_view(), name="account-supply"),
    path("account/withdraw/", views.WithdrawView.as_view(), name="account-withdraw"),
    path("account/borrow/", views.BorrowView.as_view(), name="account-borrow"),
    path("account/repay/", views.RepayView.as_view(), name="account-repay"),
    path("account/collateral/", views.CollateralView.as_view(), name="account-collateral"),
    path("account/outlook/", views.AccountOutlookView.as_view(), name="account-outlook"),
    path("account/history/", views.HistoryView.as_view(), name="account-history"),
    path("admin/what-if/", views.WhatIfView.as_view(), name="admin-what-if"),
    path("admin/liquidations/scan/", views.AdminScanView.as_view(), name="admin-liquidation-scan"),
    path("liquidations/", views.LiquidationListView.as_view(), name="liquidation-list"),
]

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from markets.models import Asset

ACTIONS = [("faucet", "Faucet"), ("supply", "Supply"), ("withdraw", "Withdraw"), ("borrow", "Borrow"),
           ("repay", "Repay")]


class RegisterForm(UserCreationForm):
    class Meta:
        model = get_user_model()
        fields = ["username"]


class ActionForm(forms.Form):
    asset = forms.ChoiceField(label="Asset")
    amount = forms.CharField(label="Amount", max_length=80,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "e.g. 10 or max",
                                                           "autocomplete": "off"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset"].choices = [(a.symbol, f"{a.symbol} — {a.name}") for a in Asset.objects.order_by("id")]


class RiskForm(forms.Form):
    ltv_bps = forms.IntegerField(label="LTV (bps)", min_value=0, max_value=10_000)
    liquidation_threshold_bps = forms.IntegerField(label="Liquidation threshold (bps)", min_value=0,
                                                   max_value=10_000)
    liquidation_bonus_bps = forms.IntegerField(label="Liquidation bonus (bps, 10500 = +5%)", min_value=0,
                                               max_value=20_000)
    supply_cap = forms.IntegerField(label="Supply cap (whole tokens, 0 = none)", min_value=0)
    borrow_cap = forms.IntegerField(label="Borrow cap (whole tokens, 0 = none)", min_value=0)
    paused = forms.BooleanField(label="Paused", required=False)
    frozen = forms.BooleanField(label="Frozen", required=False)
    reason = forms.CharField(label="Reason (required, goes to the audit trail)", max_length=500)


class PriceForm(forms.Form):
    price = forms.CharField(label="Manual price (USD)", max_length=30)
    reason = forms.CharField(label="Reason", max_length=500, required=False)


BACKTEST_POLICIES = [
    ("none", "none: no closed-market handling (frozen price)"),
    ("kamino", "kamino: Kamino's LTV/LT, frozen price, no weekend mode"),
    ("fixed", "fixed: one haircut per closure kind, on borrowing power and threshold"),
    ("calibrated", "calibrated: k × daily σ, on borrowing power and threshold"),
    ("pause_when_closed", "pause_when_closed: calibrated haircut on borrowing power, no liquidations while shut"),
]


class BacktestForm(forms.Form):
    asset = forms.ChoiceField(label="Asset")
    date_from = forms.DateField(label="From (first session)", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To (last session)", widget=forms.DateInput(attrs={"type": "date"}))
    policies = forms.MultipleChoiceField(label="Policies", choices=BACKTEST_POLICIES,
                                         widget=forms.CheckboxSelectMultiple)
    ltv_bps = forms.IntegerField(label="What-if LTV (bps, blank = the reserve's)", required=False)
    liquidation_threshold_bps = forms.IntegerField(label="What-if liquidation threshold (bps)", required=False)
    liquidation_bonus_bps = forms.IntegerField(label="What-if liquidation bonus (bps, 10500 = +5%)", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from oracles import haircut

        shipped = {p.stem for p in haircut.PRICES_DIR.glob("*.csv")}
        self.fields["asset"].choices = [(a.symbol, f"{a.symbol} ({a.underlying} history)")
                                        for a in Asset.objects.order_by("id") if a.underlying in shipped]


class WhatIfForm(forms.Form):
    percent = forms.CharField(label="Price move (%, e.g. -20)", max_length=10)
    at = forms.ChoiceField(label="When", choices=[("now", "now"), ("next_close", "just after the next NYSE close")])

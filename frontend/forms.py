from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from common.errors import DomainError
from core.amounts import AmountError, parse_price
from lending.services import username_available
from markets.models import Asset
from markets.services import MAX_BPS_FIELD, MAX_VALID_CAP

from .fields import AsciiDateField, AsciiIntegerField


class RegisterForm(UserCreationForm):
    class Meta:
        model = get_user_model()
        fields = ["username"]

    def clean_username(self):
        """The API's rules: no address-like, system or wallet- names, none equal to another in any case or form."""
        try:
            self.cleaned_data["username"] = username_available(self.cleaned_data["username"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
        return super().clean_username()


class RiskForm(forms.Form):
    ltv_bps = AsciiIntegerField(label="LTV (bps)", min_value=0, max_value=10_000)
    liquidation_threshold_bps = AsciiIntegerField(label="Liquidation threshold (bps)", min_value=0,
                                                  max_value=10_000)
    liquidation_bonus_bps = AsciiIntegerField(label="Liquidation bonus (bps, 10500 = +5%)", min_value=0,
                                              max_value=20_000)
    supply_cap = AsciiIntegerField(label="Supply cap (whole tokens, 0 = none)", min_value=0, max_value=MAX_VALID_CAP)
    borrow_cap = AsciiIntegerField(label="Borrow cap (whole tokens, 0 = none)", min_value=0, max_value=MAX_VALID_CAP)
    paused = forms.BooleanField(label="Paused", required=False)
    frozen = forms.BooleanField(label="Frozen", required=False)
    reason = forms.CharField(label="Reason (required, goes to the audit trail)", max_length=500)


class PriceForm(forms.Form):
    price = forms.CharField(label="Manual price (USD)", max_length=30)
    reason = forms.CharField(label="Reason", max_length=500, required=False)
    confirm = forms.BooleanField(label="Confirm a price more than 10× away from the current one", required=False)

    def clean_price(self):
        try:
            return parse_price(self.cleaned_data["price"])
        except AmountError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


BACKTEST_POLICIES = [
    ("none", "none: no closed-market handling (frozen price)"),
    ("kamino", "kamino: Kamino's LTV/LT, frozen price, no weekend mode"),
    ("fixed", "fixed: one haircut per closure kind, on borrowing power and threshold"),
    ("calibrated", "calibrated: k × daily σ, on borrowing power and threshold"),
    ("pause_when_closed", "pause_when_closed: calibrated haircut on borrowing power, no liquidations while shut"),
]


class BacktestForm(forms.Form):
    asset = forms.ChoiceField(label="Asset")
    date_from = AsciiDateField(label="From (first session)", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = AsciiDateField(label="To (last session)", widget=forms.DateInput(attrs={"type": "date"}))
    policies = forms.MultipleChoiceField(label="Policies", choices=BACKTEST_POLICIES,
                                         widget=forms.CheckboxSelectMultiple)
    ltv_bps = AsciiIntegerField(label="What-if LTV (bps, blank = the reserve's)", required=False, min_value=0,
                                max_value=MAX_BPS_FIELD)
    liquidation_threshold_bps = AsciiIntegerField(label="What-if liquidation threshold (bps)", required=False,
                                                  min_value=0, max_value=MAX_BPS_FIELD)
    liquidation_bonus_bps = AsciiIntegerField(label="What-if liquidation bonus (bps, 10500 = +5%)", required=False,
                                              min_value=0, max_value=MAX_BPS_FIELD)
    engine = forms.ChoiceField(label="Liquidation engine", required=False, choices=[
        ("", "the pool's engine"), ("v3.3", "Aave v3.3 (close factor 50%/100%)"),
        ("v4", "Aave v4 (target health factor, bonus grows as HF falls)")])
    seize_at = forms.ChoiceField(label="Seized collateral counted at", initial="reference", required=False, choices=[
        ("reference", "the reference price (the haircut only decides whether)"),
        ("haircut", "the haircut price (the old rule, to compare)")])
    seed = AsciiIntegerField(label="Seed (blank = drawn)", required=False, min_value=0, max_value=2**32 - 1)
    recommend = forms.BooleanField(label="Also recommend LTV / threshold per engine and policy (slower)",
                                   required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from core.haircut import calibrated as haircut

        shipped = {p.stem for p in haircut.PRICES_DIR.glob("*.csv")}
        self.fields["asset"].choices = [(a.symbol, f"{a.symbol} ({a.underlying} history)")
                                        for a in Asset.objects.order_by("id") if a.underlying in shipped]


class WhatIfForm(forms.Form):
    percent = forms.CharField(label="Price move (%, e.g. -20)", max_length=10)
    at = forms.ChoiceField(label="When", choices=[("now", "now"), ("next_close", "just after the next NYSE close")])

"""The borrower's one-action forms: "Asset" and "Amount", one submit button named for the action."""
from django import forms

from markets.models import Asset

ACTION_LABELS = {"faucet": "Faucet", "supply": "Supply", "withdraw": "Withdraw", "borrow": "Borrow",
                 "repay": "Repay"}


class AmountForm(forms.Form):
    asset = forms.ChoiceField(label="Asset")
    amount = forms.CharField(label="Amount", max_length=80, error_messages={"required": "Enter an amount."},
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "e.g. 10 or max",
                                                           "autocomplete": "off"}))

    def __init__(self, *args, action: str, symbols=None, **kwargs):
        kwargs.setdefault("auto_id", f"{action}-%s")  # ids unique per form: two forms may share a page
        super().__init__(*args, **kwargs)
        self.action = action
        assets = Asset.objects.order_by("id")
        choices = [(a.symbol, f"{a.symbol} — {a.name}") for a in assets if symbols is None or a.symbol in symbols]
        # an empty shortlist (nothing to repay yet) still offers every asset: the refusal then says why
        self.fields["asset"].choices = choices or [(a.symbol, f"{a.symbol} — {a.name}") for a in assets]

"""Forms of the risk console. People type percentages (40, 7.5) and dollars; the forms hand the services basis
points and 8-decimal prices."""
import re

from django import forms

from core.amounts import AmountError, parse_price
from markets.services import MAX_VALID_CAP

from .fields import AsciiIntegerField, PercentMoveField

_PERCENT = re.compile(r"[0-9]{1,5}(\.[0-9]{1,2})?")


class _DeskForm(forms.Form):
    """The desk shows several forms on one page: each gets its own element ids (labels must name one input)."""

    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class PercentField(forms.CharField):
    """A percentage with at most 2 decimals ("40", "7.5") -> basis points, bounded."""

    def __init__(self, *, min_bps=0, max_bps=10_000, offset_bps=0, **kwargs):
        self.min_bps, self.max_bps, self.offset_bps = min_bps, max_bps, offset_bps
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(max_length=12, **kwargs)
        self.validators = []  # cleaned values are bps integers; the length is checked on the text

    def prepare_value(self, value):
        if isinstance(value, int):  # bps from the model -> percent for the input
            value -= self.offset_bps
            return f"{value // 100}" if value % 100 == 0 else f"{value / 100:.2f}".rstrip("0")
        return value

    def to_python(self, value):
        text = (value or "").strip().rstrip("%").strip()
        if not text:
            return None
        if not _PERCENT.fullmatch(text):
            raise forms.ValidationError("Enter a percentage such as 40 or 7.5 (digits 0-9, at most 2 decimals).",
                                        code="invalid")
        whole, _, frac = text.partition(".")
        bps = int(whole) * 100 + int(frac.ljust(2, "0") or 0)
        if not self.min_bps <= bps <= self.max_bps:
            raise forms.ValidationError(f"Enter a percentage between {self.min_bps / 100:g} and "
                                        f"{self.max_bps / 100:g}.", code="range")
        return bps + self.offset_bps


class HealthFactorField(forms.CharField):
    """A health factor as people write it ("1.05", at most 4 decimals) -> bps (10500), bounded."""

    _HF = re.compile(r"[0-9](\.[0-9]{1,4})?")

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(max_length=8, **kwargs)
        self.validators = []

    def prepare_value(self, value):
        if isinstance(value, int):
            return f"{value // 10_000}.{value % 10_000:04d}".rstrip("0").rstrip(".")
        return value

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return None
        if not self._HF.fullmatch(text):
            raise forms.ValidationError("Enter a health factor such as 1.05 (at most 4 decimals).", code="invalid")
        whole, _, frac = text.partition(".")
        return int(whole) * 10_000 + int(frac.ljust(4, "0") or 0)


class ReserveParametersForm(forms.Form):
    """A reserve's risk parameters as people read them; cleaned_data holds the services' bps."""

    ltv_bps = PercentField(label="LTV (%)", help_text="Borrowing power per dollar of collateral.")
    liquidation_threshold_bps = PercentField(label="Liquidation threshold (%)",
                                             help_text="Health factor 1 is debt = collateral × this.")
    liquidation_bonus_bps = PercentField(label="Liquidation bonus (%)", offset_bps=10_000, max_bps=10_000,
                                         help_text="Paid to liquidators on top of the debt they repay: 7.5 = +7.5%.")
    supply_cap = AsciiIntegerField(label="Supply cap (whole tokens, 0 = none)", min_value=0, max_value=MAX_VALID_CAP)
    borrow_cap = AsciiIntegerField(label="Borrow cap (whole tokens, 0 = none)", min_value=0, max_value=MAX_VALID_CAP)
    paused = forms.BooleanField(label="Paused", required=False)
    frozen = forms.BooleanField(label="Frozen", required=False)
    reason = forms.CharField(label="Reason (required, goes to the audit trail)", max_length=500)

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("reason", None)
        return data


class PreviewForm(ReserveParametersForm):
    """The same fields for the live preview: no reason needed to look."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = False


class PinForm(_DeskForm):
    id_prefix = "pin"
    price = forms.CharField(label="Pin the price at (USD)", max_length=30,
                            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    reason = forms.CharField(label="Reason", max_length=500)
    confirm = forms.BooleanField(label="Yes, set a price more than 10× away from the current one", required=False)

    def clean_price(self):
        try:
            return parse_price(self.cleaned_data["price"])
        except AmountError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class ShockForm(_DeskForm):
    id_prefix = "shock"
    percent = PercentMoveField(label="Move the price by (%)", max_length=10,
                              widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "e.g. -15",
                                                            "autocomplete": "off"}))
    at = forms.ChoiceField(label="When", choices=[("now", "now"), ("next_open", "at the next open")])
    reason = forms.CharField(label="Reason", max_length=500)


class UnpinForm(_DeskForm):
    id_prefix = "unpin"
    reason = forms.CharField(label="Reason for ending the pin", max_length=500)


class _AuditEntryField(AsciiIntegerField):
    """An audit entry id: anything but a positive ASCII integer in range is the same plain refusal."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class RevertForm(forms.Form):
    entry = _AuditEntryField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput,
                             error_messages={k: "Choose a change to revert." for k in (
                                 "required", "invalid", "min_value", "max_value")})
    reason = forms.CharField(label="Reason for the revert", max_length=500)
    confirm = forms.BooleanField(label="I confirm this revert", required=True,
                                 error_messages={"required": "Tick the confirmation to revert."})


class WhatIfForm(_DeskForm):
    id_prefix = "what-if"
    percent = PercentMoveField(label="Price move (%, e.g. -20)", max_length=10)
    at = forms.ChoiceField(label="Measured", choices=[("now", "now"),
                                                      ("next_close", "just after the next NYSE close")])


ENGINES = [("v3.3", "Aave v3.3 (close factor 50%, or 100% under HF 0.95)"),
           ("v4", "Aave v4 (repay to a target HF, bonus grows as HF falls)")]


class PoolForm(_DeskForm):
    id_prefix = "pool"
    liquidation_engine = forms.ChoiceField(label="Liquidation engine", choices=ENGINES)
    target_health_factor_bps = HealthFactorField(label="v4 target health factor (e.g. 1.05)")
    liquidation_bonus_factor_bps = PercentField(label="v4 liquidation bonus factor (%)")
    health_factor_for_max_bonus_bps = HealthFactorField(label="v4 health factor for the maximum bonus (e.g. 0.95)")
    reason = forms.CharField(label="Reason (required, goes to the audit trail)", max_length=500)

from django import forms

from core.aave.engines import ENGINES
from core.simulation.montecarlo import PATH_KINDS
from core.simulation.paths import POLICIES
from markets.models import Asset

from .services import MAX_ACCOUNTS, MAX_HOURS, MAX_PATHS, MIN_HOURS


class _Int(forms.IntegerField):
    """ASCII digits only (int() would take other scripts' digits)."""

    def to_python(self, value):
        if value not in self.empty_values and not str(value).strip().lstrip("-").isascii():
            raise forms.ValidationError("Enter a whole number in ASCII digits.", code="invalid")
        return super().to_python(value)


class MonteCarloForm(forms.Form):
    assets = forms.MultipleChoiceField(label="Collateral assets", widget=forms.CheckboxSelectMultiple)
    engines = forms.MultipleChoiceField(label="Liquidation engines", choices=[(e, e) for e in ENGINES],
                                        widget=forms.CheckboxSelectMultiple)
    policy = forms.ChoiceField(label="Closed-market policy", choices=[(p, p) for p in POLICIES])
    paths = forms.ChoiceField(label="Paths", choices=[(p, p.replace("_", " ")) for p in PATH_KINDS])
    n_paths = _Int(label="Number of paths", min_value=1, max_value=MAX_PATHS)
    hours = _Int(label="Hours per path", min_value=MIN_HOURS, max_value=MAX_HOURS)
    accounts = _Int(label="Borrowers in the book", min_value=1, max_value=MAX_ACCOUNTS)
    seed = _Int(label="Seed", min_value=0, max_value=2**32 - 1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from core.haircut import calibrated as haircut

        shipped = {p.stem for p in haircut.PRICES_DIR.glob("*.csv")}
        self.fields["assets"].choices = [(a.symbol, f"{a.symbol} ({a.underlying})")
                                         for a in Asset.objects.order_by("id") if a.underlying in shipped]

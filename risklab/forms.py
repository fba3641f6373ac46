from django import forms

from core.aave.engines import ENGINES
from core.simulation.backtest import POLICY_LABELS
from core.simulation.montecarlo import PATH_KINDS
from core.simulation.paths import POLICIES
from markets.models import Asset

from .services import MAX_ACCOUNTS, MAX_HOURS, MAX_PATHS, MIN_HOURS

# Names a person reads beside the code names (the policies': core.simulation.backtest.POLICY_LABELS)
PATH_LABELS = {"simulated": "Simulated (GBM in session, real gaps at reopens)",
               "historical": "Historical (random windows of real daily bars)",
               "monday_gap_all": "Stress: every stock gaps −10% on a Monday",
               "earnings_gap": "Stress: one name −25% overnight on earnings",
               "token_push_sunday": "Stress: token pushed 5% on a Sunday",
               "weekend_split": "Stress: a split over a weekend", "stuck_feed": "Stress: a stuck feed",
               "zero_feed": "Stress: a feed reading zero", "status_unknown": "Stress: market status unknown 30 min"}
ENGINE_LABELS = {"v3.3": "Aave v3.3", "v4": "Aave v4"}


class _Int(forms.IntegerField):
    """ASCII digits only (int() would take other scripts' digits)."""

    def to_python(self, value):
        if value not in self.empty_values and not str(value).strip().lstrip("-").isascii():
            raise forms.ValidationError("Enter a whole number in ASCII digits.", code="invalid")
        return super().to_python(value)


class MonteCarloForm(forms.Form):
    assets = forms.MultipleChoiceField(label="Collateral assets", widget=forms.CheckboxSelectMultiple)
    engines = forms.MultipleChoiceField(label="Liquidation engines", widget=forms.CheckboxSelectMultiple,
                                        choices=[(e, ENGINE_LABELS.get(e, e)) for e in ENGINES])
    policy = forms.ChoiceField(label="Closed-market policy",
                               choices=[(p, f"{POLICY_LABELS.get(p, p)} ({p})") for p in POLICIES])
    paths = forms.ChoiceField(label="Paths", choices=[(p, PATH_LABELS.get(p, p.replace("_", " "))) for p in PATH_KINDS])
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

"""core.profiles: each issuer profile's closed-market behaviour, on the pure replay (seeded, no Django)."""
import math
from datetime import UTC, date, datetime, timedelta

import pytest

from core import profiles as P

HOUR = timedelta(hours=1)
FRI = datetime(2026, 1, 9, 18, tzinfo=UTC)  # Friday 13:00 ET, regular session
MON = datetime(2026, 1, 12, 18, tzinfo=UTC)  # Monday 13:00 ET
HAIRCUTS = {"overnight": 300, "weekend": 500, "holiday": 600, "holiday_weekend": 700, "unplanned": 2_500}


def params(profile, **kw):
    kw.setdefault("underlying", "TSLA")
    kw.setdefault("sigma_daily", 0.03)
    return P.AssetParams("X", profile, **kw)


def test_every_api_profile_is_declared():
    assert set(P.NAMES) == set(P.PROFILES)
    assert {p.name for p in P.PROFILES.values() if p.effective == P.LOWER_OF} == {
        "stablestock", "aster_perp", "trade_xyz", "ventuals"}


def test_replay_is_deterministic_and_inclusive():
    p = params("xstocks")
    a, b = P.replay(p, FRI, MON, HOUR, 7), P.replay(p, FRI, MON, HOUR, 7)
    assert a == b and len(a) == 73 and a[0].at == FRI and a[-1].at == MON
    assert P.replay(p, FRI, MON, HOUR, 8) != a
    with pytest.raises(ValueError, match="more than"):
        P.replay(p, FRI, FRI + timedelta(days=400), HOUR, 1)


def test_xstocks_drifts_while_closed_and_snaps_back_at_the_open():
    steps = P.replay(params("xstocks"), FRI, MON, HOUR, 3, haircuts=HAIRCUTS)
    weekend = [s for s in steps if s.session == "closed"]
    assert max(abs(s.token_price / s.reference_price - 1) for s in weekend) > 0.005
    assert len({s.reference_price for s in weekend}) == 1  # the reference is frozen
    first_open = next(s for s in steps if s.at > FRI + timedelta(days=1) and s.session == "regular")
    assert abs(first_open.token_price / first_open.reference_price - 1) < 0.002


def test_ondo_split_and_dividend_move_the_stock_not_the_token():
    p = params("ondo_global_markets", underlying="AAPL", sigma_daily=0.017)
    start, end = datetime(2020, 8, 28, 15, tzinfo=UTC), datetime(2020, 8, 31, 18, tzinfo=UTC)  # 4:1 split
    actions = P.corporate_actions("AAPL", start.date(), end.date())
    assert [(a.kind, a.factor) for a in actions] == [("split", 0.25)]
    with_split = P.replay(p, start, end, HOUR, 5, actions=actions)
    without = P.replay(p, start, end, HOUR, 5, actions=[])
    assert [s.reference_price for s in with_split] == pytest.approx([s.reference_price for s in without], rel=1e-9)
    assert with_split[-1].extra["multiplier"] == pytest.approx(4.0)
    assert with_split[-1].extra["underlying"] == pytest.approx(without[-1].extra["underlying"] / 4)
    # past the shipped data the last year's dividends repeat: Feb 2026 has one
    divs = P.corporate_actions("AAPL", date(2026, 1, 1), date(2026, 3, 31))
    assert [a.kind for a in divs] == ["dividend"] and 0.99 < divs[0].factor < 1


def test_robinhood_trades_weekday_nights_not_weekends():
    steps = P.replay(params("robinhood", underlying="AMZN"), FRI - timedelta(days=1), MON, HOUR, 2)
    nights = [s for s in steps if s.session == "overnight"]
    assert nights and all(s.token_price is not None for s in nights)
    assert len({s.token_price for s in nights}) > len(nights) // 2  # a real, moving price
    assert all(s.token_price is None for s in steps if s.session == "closed")


def test_stablestock_push_cost_and_moves_follow_pool_depth():
    thin, deep = params("stablestock", depth_usd=250_000), params("stablestock", depth_usd=1_000_000)
    assert P.push_cost_usd(thin)["cost_usd"] == round(250_000 * (math.sqrt(1.05) - 1))
    assert abs(P.push_cost_usd(deep)["cost_usd"] - 4 * P.push_cost_usd(thin)["cost_usd"]) <= 2

    def worst(p):
        return max(abs(s.token_price / s.reference_price - 1) for s in P.replay(p, FRI, MON, HOUR, 4)
                   if s.session == "closed")

    assert worst(thin) > 2 * worst(deep) > 0


@pytest.mark.parametrize("profile, kw, half", [("trade_xyz", {"max_leverage": 10}, 0.10),
                                               ("trade_xyz", {"max_leverage": 50}, 0.02),
                                               ("aster_perp", {"band_bps": 300}, 0.03)])
def test_own_books_stay_inside_their_band_while_closed(profile, kw, half):
    steps = P.replay(params(profile, **kw), FRI, MON, HOUR, 9, haircuts=HAIRCUTS)
    for s in steps:
        assert s.band_low == round(s.reference_price * (1 - half)) or abs(
            s.band_low - s.reference_price * (1 - half)) <= 1
        assert s.band_low <= s.token_price <= s.band_high
        if s.session != "regular":  # lower of the book and the haircut reference
            assert s.effective_price == min(s.token_price, s.reference_price * (10_000 - s.haircut_bps) // 10_000)
    push = P.push_cost_usd(params(profile, depth_usd=100_000, **kw))
    assert push["capped_by_band"] == (half < 0.05)


def test_ventuals_blends_valuation_and_one_hour_average():
    p = params("ventuals", underlying="OPENAI", calendar="ALWAYS_CLOSED", sigma_daily=0.05,
               valuation_interval_days=30, blend_bps=5_000)
    steps = P.replay(p, FRI, FRI + timedelta(days=5), HOUR, 11, haircuts=HAIRCUTS)
    for s in steps[1:]:
        expected = 0.5 * s.extra["valuation"] + 0.5 * s.extra["moving_average"]
        assert s.reference_price == round(expected * P.PRICE_UNIT)
        assert s.haircut_bps == 2_500 and s.session == "closed"
    assert len({s.reference_price for s in steps}) > 100  # the trade average moves it between valuations


def test_jarsy_changes_only_on_valuation_events():
    p = params("jarsy", underlying="SPACEX", calendar="ALWAYS_CLOSED", valuation_interval_days=30)
    steps = P.replay(p, FRI, FRI + timedelta(days=365), timedelta(days=1), 1)
    for a, b in zip(steps, steps[1:], strict=False):
        changed = a.reference_price != b.reference_price
        assert changed == (b.extra["events"] > a.extra["events"])
        assert b.token_price == b.reference_price
    assert 3 <= steps[-1].extra["events"] <= 30
    # its own staleness: a valuation older than twice its interval
    assert P.jarsy_stale(p, FRI, FRI + timedelta(days=61), FRI)
    assert not P.jarsy_stale(p, FRI, FRI + timedelta(days=59), FRI)


def test_cex_wallet_resells_a_profile_in_its_own_hours():
    ondo = params("ondo_global_markets", underlying="AAPL")
    binance = params("cex_wallet", underlying="AAPL", resells="ondo_global_markets", venue_hours="24/7")
    bybit = params("cex_wallet", underlying="AAPL", resells="ondo_global_markets", venue_hours="24/5")
    a, b, c = (P.replay(x, FRI, MON, HOUR, 6) for x in (ondo, binance, bybit))
    assert [s.reference_price for s in a] == [s.reference_price for s in b] == [s.reference_price for s in c]
    assert [s.token_price for s in a] == [s.token_price for s in b]
    assert all(s.token_price is None for s in c if s.session == "closed")
    assert all(s.token_price is not None for s in c if s.session != "closed")


def test_hours_and_rule_line():
    monday = datetime(2026, 1, 12, 15, tzinfo=UTC)
    assert P.hours_today(params("robinhood"), monday) == "NYSE 09:30-16:00 ET; token 24/5 Sun 20:00-Fri 20:00 ET"
    assert P.hours_today(params("xstocks"), datetime(2026, 1, 10, 15, tzinfo=UTC)).startswith("NYSE closed today")
    line = P.rule_line(params("trade_xyz", max_leverage=10), monday)
    assert line.startswith("Trade.xyz (HIP-3) · NYSE") and "closed: lower of" in line


def test_a_token_has_no_market_when_its_24_5_venue_is_closed():
    open_ = P.token_market_open
    assert not open_("robinhood", "closed") and open_("robinhood", "overnight") and open_("robinhood", "regular")
    assert open_("xstocks", "closed") and open_("trade_xyz", "closed")  # 24/7 tokens
    assert not open_("cex_wallet", "closed", venue_hours="24/5", resells="xstocks")  # Bybit's 24/5 contracts
    assert open_("cex_wallet", "overnight", venue_hours="24/5", resells="xstocks")
    assert open_("cex_wallet", "closed", venue_hours="24/7", resells="ondo_global_markets")  # Binance via Ondo
    assert not open_("cex_wallet", "closed", venue_hours="24/7", resells="robinhood")  # a 24/5 token resold


def test_a_cex_wallet_follows_the_rule_of_the_profile_it_resells():
    assert P.rule_profile("cex_wallet", "stablestock") == "stablestock"
    assert P.rule_profile("cex_wallet", "") == P.rule_profile("cex_wallet", "cex_wallet") == "cex_wallet"
    assert P.rule_profile("xstocks", "stablestock") == "xstocks"  # only a CEX wallet resells
    p = params("cex_wallet", resells="trade_xyz", max_leverage=10, venue_hours="24/5")
    steps = P.replay(p, FRI - timedelta(days=1), MON, HOUR, 4, haircuts=HAIRCUTS)
    nights = [s for s in steps if s.session != "regular" and s.token_price is not None]
    assert nights and all(s.session != "closed" for s in nights)  # the venue trades weekday nights only
    for s in steps:
        haircut_ref = s.reference_price * (10_000 - s.haircut_bps) // 10_000
        if s.session == "closed":  # no venue: no token price, the haircut reference
            assert s.token_price is None and s.effective_price == haircut_ref
        elif s.session != "regular":  # Trade.xyz's rule: the lower of its band-bounded book and the reference
            assert s.band_low <= s.token_price <= s.band_high
            assert s.effective_price == min(s.token_price, haircut_ref)


SHOCK = -2_000  # -20%


def test_a_shock_keeps_a_depeg_relative_to_the_shocked_reference():
    ref, token, band = P.shock_quote(SHOCK, reference=100 * P.PRICE_UNIT, token=95 * P.PRICE_UNIT)
    assert (ref, token, band) == (80 * P.PRICE_UNIT, 76 * P.PRICE_UNIT, None)  # still 5% under: still a depeg
    assert P.is_depeg(ref, token)
    ref, token, _ = P.shock_quote(SHOCK, reference=100 * P.PRICE_UNIT, token=100 * P.PRICE_UNIT)
    assert token == ref and not P.is_depeg(ref, token)


def test_a_shock_keeps_a_banded_token_inside_its_band():
    ref, token, band = P.shock_quote(SHOCK, reference=100 * P.PRICE_UNIT, token=91 * P.PRICE_UNIT,
                                     band=(90 * P.PRICE_UNIT, 110 * P.PRICE_UNIT))
    assert ref == 80 * P.PRICE_UNIT and band == (72 * P.PRICE_UNIT, 88 * P.PRICE_UNIT)  # +/-10% of the new ref
    assert band[0] <= token <= band[1] and token == int(72.8 * P.PRICE_UNIT)
    ref, token, band = P.shock_quote(5_000, reference=100 * P.PRICE_UNIT, token=110 * P.PRICE_UNIT,
                                     band=(90 * P.PRICE_UNIT, 110 * P.PRICE_UNIT))
    assert token == band[1] == 165 * P.PRICE_UNIT  # at the edge before, at the edge after


def test_a_shock_leaves_no_market_and_no_price_as_they_were():
    assert P.shock_quote(SHOCK, reference=100 * P.PRICE_UNIT, token=None) == (80 * P.PRICE_UNIT, None, None)
    assert P.shock_quote(SHOCK, reference=0, token=0) == (0, 0, None)  # no price yet stays unknown
    assert P.shock_quote(-9_999, reference=1, token=1)[:2] == (1, 1)  # never a zero price

"""The Django admin cannot change what the audited services own (assets, reserves, feeds, policies, faucet
limits), and a half-configured asset (no reserve, no feed, no policy or no round yet) never breaks a public
page or endpoint: it shows up as "unknown" or is skipped."""
import pytest
from django.test import Client

from common.models import AuditEntry
from lending.models import FaucetPolicy
from markets.models import Asset, Reserve
from markets.services import STOCK_RESERVE
from oracles.models import HaircutPolicy, OracleFeed
from oracles.services import round_publish
from tests.factories import fund_and_supply, make_account, make_universe, make_user, set_price, superuser_page_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    return superuser_page_client()


def snapshot():
    return [list(m.objects.order_by("pk").values()) for m in
            (Asset, Reserve, OracleFeed, HaircutPolicy, FaucetPolicy, AuditEntry)]


OWNED = {"markets/asset": Asset, "markets/reserve": Reserve, "oracles/oraclefeed": OracleFeed,
         "oracles/haircutpolicy": HaircutPolicy, "lending/faucetpolicy": FaucetPolicy}


@pytest.mark.parametrize("model", OWNED)
def test_admin_cannot_add_or_change(admin_client, model):
    asset = Asset.objects.get(symbol="TSLAx")
    if model == "lending/faucetpolicy":
        FaucetPolicy.objects.create(asset=asset, daily_limit=5)
    pk = asset.pk if model == "markets/asset" else OWNED[model].objects.get(asset=asset).pk
    before = snapshot()
    assert admin_client.get(f"/admin/{model}/").status_code == 200
    assert admin_client.get(f"/admin/{model}/add/").status_code == 403
    r = admin_client.post(f"/admin/{model}/add/", {"symbol": "EVILx", "name": "Evil", "kind": "stock_token",
                                                   "decimals": 18, "issuer_profile": "xstocks",
                                                   "calendar": "XNYS", "asset": asset.pk, "daily_limit": 10**9})
    assert r.status_code == 403
    page = admin_client.get(f"/admin/{model}/{pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content  # a view-only page
    r = admin_client.post(f"/admin/{model}/{pk}/change/", {"symbol": "EVILx", "name": "Evil", "decimals": 0,
                                                           "daily_limit": 10**9, "ltv_bps": 9_999})
    assert r.status_code == 403
    assert admin_client.post(f"/admin/{model}/{pk}/delete/", {"post": "yes"}).status_code == 403
    assert snapshot() == before


def test_system_accounts_cannot_be_activated_or_given_a_password(admin_client):
    from django.contrib.auth import get_user_model

    from lending.models import Account

    User = get_user_model()
    system = list(User.objects.filter(account__system_role__isnull=False))
    assert {u.account.system_role for u in system} >= {"treasury"}
    User.objects.filter(pk__in=[u.pk for u in system]).update(is_active=False, password="!")
    before = list(User.objects.order_by("pk").values())
    for user in system:
        r = admin_client.post(f"/admin/auth/user/{user.pk}/password/",
                              {"password1": "takeover-pass-123", "password2": "takeover-pass-123",
                               "usable_password": "true"})
        assert r.status_code == 403
        r = admin_client.post(f"/admin/auth/user/{user.pk}/change/",
                              {"username": user.username, "is_active": "on", "is_staff": "on", "is_superuser": "on",
                               "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
        assert r.status_code == 403
        page = admin_client.get(f"/admin/auth/user/{user.pk}/change/")
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert admin_client.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"}).status_code == 403
        r = admin_client.post("/admin/auth/user/", {"action": "delete_selected", "_selected_action": [user.pk],
                                                    "post": "yes"})
        assert r.status_code in (200, 403)  # refused, or the "cannot delete" page
    assert list(User.objects.order_by("pk").values()) == before
    assert Account.objects.filter(system_role="treasury").exists()
    # people stay editable by a superuser
    bob = make_user("bob")
    r = admin_client.get(f"/admin/auth/user/{bob.pk}/change/")
    assert r.status_code == 200 and b'name="_save"' in r.content
    r = admin_client.post(f"/admin/auth/user/{bob.pk}/change/",
                          {"username": "bob", "is_active": "on", "date_joined_0": "2026-01-01",
                           "date_joined_1": "00:00:00", "last_login_0": "", "last_login_1": ""})
    assert r.status_code == 302 and User.objects.get(pk=bob.pk).is_active


def _half_configured(kind: str) -> Asset:
    asset = Asset.objects.create(symbol="HALFx", name="Half", kind="stock_token", decimals=18,
                                 issuer_profile="xstocks", underlying="HALF", calendar="XNYS")
    if kind == "asset_only":
        return asset
    Reserve.objects.create(asset=asset, ltv_bps=5_000, liquidation_threshold_bps=6_000,
                           liquidation_bonus_bps=10_750, **STOCK_RESERVE)
    if kind != "no_feed":
        OracleFeed.objects.create(asset=asset, source="manual")
        if kind != "no_round":
            round_publish(asset=asset, reference_price=10**10, token_price=10**10, source="manual", notify=False)
    if kind != "no_policy":
        HaircutPolicy.objects.create(asset=asset, mode="none")
    return asset


PUBLIC = ["/api/v1/assets/", "/api/v1/markets/", "/api/v1/markets/HALFx/", "/api/v1/oracle/prices/",
          "/api/v1/oracle/prices/HALFx/", "/api/v1/oracle/prices/HALFx/haircuts/", "/", "/markets/HALFx/",
          "/api/v1/oracle/market-status/"]
SIGNED_IN = ["/api/v1/liquidations/", "/", "/api/v1/account/", "/api/v1/account/outlook/", "/risk/",
             "/risk/HALFx/"]


def expected(kind: str, url: str) -> int:
    """200 everywhere; an asset with no reserve has no market (nor risk desk) to show: 404."""
    no_market = kind == "asset_only" and url in ("/api/v1/markets/HALFx/", "/markets/HALFx/", "/risk/HALFx/")
    return 404 if no_market else 200


@pytest.mark.parametrize("kind", ["asset_only", "no_feed", "no_policy", "no_round"])
def test_half_configured_asset_breaks_no_public_endpoint(kind):
    make_universe()
    set_price("TSLAx", "250")
    staff = make_user(staff=True)
    account = make_account()
    fund_and_supply(account, "TSLAx", "10")
    _half_configured(kind)
    client = Client(raise_request_exception=False)
    for url in PUBLIC:
        r = client.get(url)
        assert r.status_code == expected(kind, url), (url, r.status_code)
    client.force_login(staff)
    for url in SIGNED_IN:
        r = client.get(url)
        assert r.status_code == expected(kind, url), (url, r.status_code)
    client.force_login(account.user)
    for url in ["/", "/api/v1/account/", "/api/v1/account/outlook/"]:
        assert client.get(url).status_code == 200, url
    from lending.keeper import liquidation_scan  # the keeper's scan prices the half asset as unknown

    assert liquidation_scan() == 0

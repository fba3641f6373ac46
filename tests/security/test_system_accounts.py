"""System accounts (keeper, treasury) exist from the migrations and are found by Account.system_role, never by
username: registering their names in any case or Unicode form is refused (API and HTML), their users cannot
sign in, liquidation proceeds and fees go to them and to no user-made account, and the migration does not
adopt a squatter that an old database may hold."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token

from lending import keeper as lending_keeper
from lending import services
from lending.models import Account, LedgerEntry, LiquidationEvent, Position, WalletBalance
from tests.factories import (
    api_client,
    fund_and_supply,
    ledger_mismatches,
    make_account,
    make_universe,
    make_user,
    set_price,
)

pytestmark = pytest.mark.django_db
E6, E18 = 10**6, 10**18
PASSWORD = "correct-horse-battery-9"
SYSTEM_NAMES = ["keeper", "Keeper", "KEEPER", "ｋｅｅｐｅｒ", " keeper ", "treasury", "TREASURY", "Ｔｒｅａｓｕｒｙ"]


def register_api(username):
    return api_client().post("/api/v1/auth/register/", {"username": username, "password": PASSWORD}, format="json")


def register_html(username):
    return Client().post("/register/", {"username": username, "password1": PASSWORD, "password2": PASSWORD})


def test_system_accounts_come_from_the_migrations_and_cannot_sign_in():
    for role in Account.SystemRole:
        account = Account.objects.select_related("user").get(system_role=role)
        assert not account.user.is_active and not account.user.has_usable_password()
        assert account.eth_address is None
    assert services.keeper_account().system_role == "keeper"
    assert services.treasury_account().system_role == "treasury"


@pytest.mark.parametrize("username", SYSTEM_NAMES)
def test_api_refuses_system_names(username):
    users = get_user_model().objects.count()
    r = register_api(username)
    assert r.status_code == 409, r.content
    assert r.json()["error"] == {"code": "username_reserved", "message": "That username is reserved.",
                                 "field": "username"}
    assert get_user_model().objects.count() == users and not Token.objects.exists()


@pytest.mark.parametrize("username", SYSTEM_NAMES)
def test_html_register_refuses_system_names(username):
    users = get_user_model().objects.count()
    client = Client()
    r = client.post("/register/", {"username": username, "password1": PASSWORD, "password2": PASSWORD})
    assert r.status_code == 400 and "That username is reserved." in r.content.decode()
    assert get_user_model().objects.count() == users and "_auth_user_id" not in client.session


@pytest.mark.parametrize("username", ["carol", "CAROL", "Ｃａｒｏｌ", "wallet-abc", "Wallet-ABC"])
def test_a_name_equal_to_another_in_any_case_or_form_is_refused(username):
    make_user("Carol")
    users = get_user_model().objects.count()
    r = register_api(username)
    assert r.status_code == 409
    assert r.json()["error"]["code"] in {"username_taken", "username_reserved"}
    assert register_html(username).status_code == 400
    assert get_user_model().objects.count() == users


def test_the_system_users_get_no_token_and_no_session_even_with_a_password_set():
    keeper = services.keeper_account().user
    for username, password in [("keeper", ""), ("keeper", PASSWORD), ("treasury", PASSWORD)]:
        r = api_client().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
        assert r.status_code in (400, 401)
    # even if an admin gave one a password, it is inactive: neither login path lets it in
    keeper.set_password(PASSWORD)
    keeper.save()
    r = api_client().post("/api/v1/auth/token/", {"username": keeper.username, "password": PASSWORD},
                          format="json")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    client = Client()
    r = client.post("/login/", {"username": keeper.username, "password": PASSWORD})
    assert r.status_code == 200 and "_auth_user_id" not in client.session
    assert not Token.objects.filter(user=keeper).exists()


def test_a_squatter_registration_fails_and_the_liquidation_pays_the_system_accounts():
    make_universe()
    attacker_api = register_api("keeper")
    assert attacker_api.status_code == 409
    assert register_api("ｔｒｅａｓｕｒｙ").status_code == 409
    attacker = make_account(username="keeper2")  # a look-alike name is fine, and earns nothing
    set_price("TSLAx", "250")
    victim = make_account()
    fund_and_supply(victim, "TSLAx", "40")
    services.account_borrow(account=victim, symbol="USDC", amount=5_000 * E6)  # LTV 55%, LT 65%
    set_price("TSLAx", "150")
    keeper = Account.objects.get(system_role="keeper")
    treasury = Account.objects.get(system_role="treasury")
    events = lending_keeper.keeper_run(account_ids=[victim.pk], round_key="squat")
    assert events and all(e.account_id == victim.pk for e in events)
    seized = sum(e.collateral_seized - e.protocol_fee for e in events)
    fee = sum(e.protocol_fee for e in events)
    assert fee > 0
    assert WalletBalance.objects.get(account=keeper, asset__symbol="TSLAx").amount == seized
    assert Position.objects.get(account=treasury, reserve__asset__symbol="TSLAx").scaled_supply == fee  # index 1 ray
    # nothing reached the attacker or any other user-made account
    assert not WalletBalance.objects.filter(account=attacker).exists()
    assert not Position.objects.filter(account=attacker).exists()
    assert not LedgerEntry.objects.filter(account=attacker).exists()
    others = Account.objects.exclude(pk__in=[victim.pk, keeper.pk, treasury.pk])
    assert not WalletBalance.objects.filter(account__in=others, asset__symbol="TSLAx").exists()
    assert not get_user_model().objects.filter(username__iexact="keeper").exclude(pk=keeper.user_id).exists()
    assert LiquidationEvent.objects.count() == len(events)
    assert not ledger_mismatches()


@pytest.mark.django_db(transaction=True)
def test_migrating_an_old_database_does_not_adopt_a_squatter():
    """Before 0003 the keeper was whoever held the username "keeper"; a squatter registered it first. The
    migration leaves the squatter a plain account and gives the keeper its own user; the treasury the old code
    made (inactive, no password, is_treasury) is adopted with its funds."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("lending", "0002_delete_idempotencyrecord")])
    old = executor.loader.project_state([("lending", "0002_delete_idempotencyrecord")]).apps
    OldUser, OldAccount = old.get_model("auth", "User"), old.get_model("lending", "Account")
    OldAccount.objects.all().delete()
    OldUser.objects.all().delete()
    squatter = OldUser.objects.create(username="keeper", password="pbkdf2_sha256$1$salt$hash", is_active=True)
    squatter_account = OldAccount.objects.create(user=squatter)
    treasury = OldUser.objects.create(username="treasury", password="", is_active=False)
    treasury_account = OldAccount.objects.create(user=treasury, is_treasury=True)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    squatter_now = Account.objects.select_related("user").get(pk=squatter_account.pk)
    assert squatter_now.system_role is None and squatter_now.user.username == "keeper"
    assert squatter_now.user.is_active  # untouched: still the squatter's own account
    keeper = services.keeper_account()
    assert keeper.pk != squatter_account.pk and keeper.user.username == "system:keeper"
    assert not keeper.user.is_active and not keeper.user.has_usable_password()
    assert services.treasury_account().pk == treasury_account.pk
    assert not services.treasury_account().user.has_usable_password()
    # and nobody can register the keeper's new name either
    assert register_api("system:keeper").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_two_registrations_of_one_name_in_different_cases_at_once_make_one_user():
    """The check and the insert run under a lock per folded name, so "Dana" and "ｄａｎａ" cannot both pass."""
    import threading

    from django.db import connections

    from common.errors import DomainError

    barrier, outcomes = threading.Barrier(4), []

    def register(name):
        try:
            barrier.wait()
            services.user_register(username=name, password=PASSWORD)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(name,)) for name in ["Dana", "dana", "ｄａｎａ", "DANA"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["username_taken"] * 3
    assert get_user_model().objects.filter(username__iexact="dana").count() == 1

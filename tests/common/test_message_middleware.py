"""common.middleware.MessageMiddleware: the storage is made only for a request that uses it; a message still
reaches the next page, and a request that shows none leaves the cookies alone."""
import pytest
from django.contrib.messages.storage.base import BaseStorage
from django.test import Client

from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def made(monkeypatch):
    """How many message storages the requests built."""
    count = []
    real = BaseStorage.__init__

    def counting(self, request, *args, **kwargs):
        count.append(request.path)
        real(self, request, *args, **kwargs)
    monkeypatch.setattr(BaseStorage, "__init__", counting)
    return count


def test_an_api_request_builds_no_message_storage(made):
    make_universe()
    client = api_client(make_user())
    assert client.get("/api/v1/markets/").status_code == 200
    assert client.post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "5"}, format="json").status_code == 200
    assert made == []


def test_a_message_reaches_the_next_page_and_is_shown_once(made):
    make_universe()
    client = Client()
    client.force_login(make_user())
    r = client.post("/act/faucet/", {"asset": "USDC", "amount": "5"}, follow=True)
    assert r.redirect_chain == [("/", 302)] and b"Faucet of 5 USDC done." in r.content
    assert made  # the action's page added it, the dashboard read it
    assert b"Faucet of 5 USDC done." not in client.get("/").content  # shown once, then gone

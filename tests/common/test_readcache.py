"""common.readcache: shared public reads, exact to the second and to the last committed write."""
import pytest

from common import readcache
from tests.factories import api_client, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db


@pytest.fixture
def on(read_cache, monkeypatch):
    clock = {"second": 1_000}
    monkeypatch.setattr(readcache, "_second", lambda: clock["second"])
    return clock


def counter():
    calls = []

    def build():
        calls.append(1)
        return {"n": len(calls)}
    return build, calls


def test_one_computation_a_second_then_a_fresh_one(on):
    build, calls = counter()
    assert readcache.cached("ns", "a", build) == readcache.cached("ns", "a", build) == {"n": 1}
    assert readcache.cached("ns", "b", build) == {"n": 2}  # another name, another entry
    on["second"] += 1
    assert readcache.cached("ns", "a", build) == {"n": 3}
    assert len(calls) == 3


def test_a_committed_write_retires_the_entries_at_once(on, django_capture_on_commit_callbacks):
    build, calls = counter()
    readcache.cached("ns", "a", build)
    with django_capture_on_commit_callbacks(execute=True):
        readcache.bump("ns")
    assert readcache.cached("ns", "a", build) == {"n": 2}
    readcache.cached("other", "a", build)
    with django_capture_on_commit_callbacks(execute=True):
        readcache.bump("ns")  # another namespace's entries stay
    assert readcache.cached("other", "a", build) == {"n": 3}


def test_a_write_rolled_back_retires_nothing(on, django_capture_on_commit_callbacks):
    build, calls = counter()
    readcache.cached("ns", "a", build)
    with django_capture_on_commit_callbacks(execute=False):
        readcache.bump("ns")  # never committed
    assert readcache.cached("ns", "a", build) == {"n": 1}


@pytest.mark.parametrize("read", [readcache.cached, readcache.memo])
def test_a_value_built_across_a_write_is_not_kept_past_it(on, read, django_capture_on_commit_callbacks):
    calls = []

    def build_while_a_write_commits():
        calls.append(1)
        if len(calls) == 1:
            with django_capture_on_commit_callbacks(execute=True):
                readcache.bump("ns")
        return len(calls)

    assert read("ns", "a", build_while_a_write_commits) == 1
    # stored under the version it started from, which the write moved past
    assert read("ns", "a", build_while_a_write_commits) == 2
    assert read("ns", "a", build_while_a_write_commits) == 2


def test_off_by_default_and_a_broken_cache_reads_afresh(settings, on, monkeypatch):
    build, calls = counter()
    settings.READ_CACHE = False
    readcache.cached("ns", "a", build), readcache.cached("ns", "a", build)
    assert len(calls) == 2
    settings.READ_CACHE = True

    class Down:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")
        set = get_many = add = get
    monkeypatch.setattr(readcache, "cache", Down())
    assert readcache.cached("ns", "a", build) == {"n": 3}
    assert readcache.memo("ns", "a", build) == {"n": 4}
    assert readcache.memo("ns", "a", build) == {"n": 5}


def test_a_lost_version_never_revives_an_old_entry(on):
    """Redis restarted or evicted the version key: the new version is random, not 0 again."""
    build, calls = counter()
    readcache.cached("ns", "a", build, per_second=False, timeout=60)
    readcache.memo("ns", "m", build)
    readcache.cache.delete(readcache._version_key("ns"))
    assert readcache.cached("ns", "a", build, per_second=False, timeout=60) == {"n": 3}
    assert readcache.memo("ns", "m", build) == {"n": 4}
    assert readcache.cached("ns", "a", build, per_second=False, timeout=60) == {"n": 3}  # and cached again


def test_without_the_second_an_entry_lasts_until_a_write(on, django_capture_on_commit_callbacks):
    build, calls = counter()
    assert readcache.cached("ns", "a", build, per_second=False, timeout=60) == {"n": 1}
    on["second"] += 30
    assert readcache.cached("ns", "a", build, per_second=False, timeout=60) == {"n": 1}
    with django_capture_on_commit_callbacks(execute=True):
        readcache.bump("ns")
    assert readcache.cached("ns", "a", build, per_second=False, timeout=60) == {"n": 2}


def test_a_failed_build_stores_nothing(on):
    def fail():
        raise LookupError("no such row")
    with pytest.raises(LookupError):
        readcache.cached("ns", "a", fail, per_second=False)
    build, calls = counter()
    assert readcache.cached("ns", "a", build, per_second=False) == {"n": 1}


def test_memo_keeps_a_value_in_the_process_until_a_committed_write(on, django_capture_on_commit_callbacks):
    build, calls = counter()
    first = readcache.memo("ns", "rows", build)
    on["second"] += 60  # no clock in it: only a write retires it
    assert readcache.memo("ns", "rows", build) is first
    with django_capture_on_commit_callbacks(execute=False):
        readcache.bump("ns")  # rolled back
    assert readcache.memo("ns", "rows", build) is first
    with django_capture_on_commit_callbacks(execute=True):
        readcache.bump("ns")
    assert readcache.memo("ns", "rows", build) == {"n": 2}
    assert readcache.memo("other", "rows", build) == {"n": 3}
    assert len(calls) == 3


def test_prices_show_a_new_round_within_the_same_second(on, django_capture_on_commit_callbacks):
    make_universe(haircuts=True)
    client = api_client()
    assert client.get("/api/v1/oracle/prices/TSLAx/").json()["reference_price"] == "403.84"
    before = client.get("/api/v1/oracle/prices/").json()
    with django_capture_on_commit_callbacks(execute=True):
        set_price("TSLAx", "300")
    assert client.get("/api/v1/oracle/prices/TSLAx/").json()["reference_price"] == "300"
    after = {p["symbol"]: p for p in client.get("/api/v1/oracle/prices/").json()["results"]}
    assert after["TSLAx"]["reference_price"] == "300"
    assert {p["symbol"] for p in before["results"]} == set(after)
    assert client.get("/api/v1/oracle/prices/NOPE/").status_code == 404
    assert client.get("/api/v1/oracle/prices/?page=9").status_code == 404


def test_a_cached_price_still_counts_against_the_callers_rate(on, settings):
    make_universe(haircuts=True)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "anon": "2/min"}}
    client = api_client()
    codes = [client.get("/api/v1/oracle/prices/TSLAx/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


class _Counting:
    """The cache, counting its round trips."""

    def __init__(self, cache):
        self.cache, self.trips = cache, 0

    def __getattr__(self, name):
        method = getattr(self.cache, name)

        def counted(*args, **kwargs):
            self.trips += 1
            return method(*args, **kwargs)
        return counted


@pytest.fixture
def trips(on, monkeypatch):
    counting = _Counting(readcache.cache)
    monkeypatch.setattr(readcache, "cache", counting)
    monkeypatch.setattr(readcache, "_namespaces", {"ns", "other", "third"})
    monkeypatch.setattr(readcache._request, "versions", None, raising=False)
    return counting


def test_a_request_reads_every_version_with_its_first_round_trip(trips):
    build, calls = counter()
    readcache.memo("ns", "a", build), readcache.memo("other", "a", build)  # set the versions (outside a request)
    readcache.begin_request()
    trips.trips = 0
    readcache.cached("ns", "entry", build)  # the versions of all three and the entry: one round trip
    assert trips.trips == 2  # and the entry stored
    readcache.memo("other", "a", build)  # no round trip: the version came with the first
    readcache.cached("ns", "entry", build)  # the entry only
    assert trips.trips == 3
    readcache.end_request()
    readcache.memo("other", "a", build)  # outside a request: asked again
    assert trips.trips == 4
    assert len(calls) == 3


def test_a_request_reads_its_own_committed_write(trips, django_capture_on_commit_callbacks):
    build, calls = counter()
    readcache.begin_request()
    assert readcache.memo("ns", "rows", build) == {"n": 1}
    with django_capture_on_commit_callbacks(execute=True):
        readcache.bump("ns")  # this process's write: its version is dropped from the request's
    assert readcache.memo("ns", "rows", build) == {"n": 2}
    assert readcache.memo("ns", "rows", build) == {"n": 2}
    readcache.end_request()


def test_a_version_the_request_read_stands_for_it_and_the_next_request_reads_anew(trips):
    """Another process's write during a request: the request answers as of its first read (as one a moment
    earlier would), and the next request sees the write."""
    build, calls = counter()
    readcache.begin_request()
    assert readcache.memo("ns", "rows", build) == {"n": 1}
    trips.cache.incr(readcache._version_key("ns"))  # another process's bump: this request's versions unchanged
    assert readcache.memo("ns", "rows", build) == {"n": 1}
    readcache.end_request()
    readcache.begin_request()
    assert readcache.memo("ns", "rows", build) == {"n": 2}
    readcache.end_request()


def test_an_api_read_asks_the_read_cache_once(read_cache, monkeypatch):
    make_universe()
    client = api_client(make_user())
    client.get("/api/v1/markets/"), client.get("/api/v1/account/")  # the token's entry and the body stored
    counting = _Counting(readcache.cache)
    monkeypatch.setattr(readcache, "cache", counting)
    for path in ("/api/v1/markets/", "/api/v1/markets/TSLAx/", "/api/v1/account/"):
        counting.trips = 0
        assert client.get(path).status_code == 200
        assert counting.trips == 1, path  # the token's entry with every version; the pool's or the feeds' after
    assert readcache._request.versions is None  # gone with the request

"""DRF's token authentication with the token's user read through the shared cache (common.readcache, namespace
"auth"): one round trip to Redis instead of a query the ORM compiles on every API request.

Exact as the query: every save or delete of a user or a token (a logout, a rotated token, a user deactivated or
made staff) bumps the namespace once it commits (common.receivers), after which every entry is read afresh. The
entry holds the user's fields except the password hash, which stays out of Redis: the user comes back with its
password deferred (read from the database if anything asks; a save writes only the loaded fields). The token
itself never reaches the cache either: the entry's key is a hash of it. Unknown tokens are not cached."""
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from common import readcache

AUTH = "auth"
ENTRY_SECONDS = 60  # the longest an entry outlives a bump that failed (Redis down as the write committed)


def _user_fields() -> list[str]:
    return [f.attname for f in get_user_model()._meta.concrete_fields if f.attname != "password"]


_TOKEN_FIELDS = [f.attname for f in Token._meta.concrete_fields]
_TOKEN_STORED = [name for name in _TOKEN_FIELDS if name != "key"]  # the request brings the key


def _token_row(key: str) -> tuple[tuple, tuple]:
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None:
        raise exceptions.AuthenticationFailed(_("Invalid token."))
    return (tuple(getattr(token.user, name) for name in _user_fields()),
            tuple(getattr(token, name) for name in _TOKEN_STORED))


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        user_values, token_values = readcache.cached(AUTH, f"token:{key}", lambda: _token_row(key),
                                                     per_second=False, timeout=ENTRY_SECONDS)
        user = get_user_model().from_db(DEFAULT_DB_ALIAS, _user_fields(), user_values)
        stored = dict(zip(_TOKEN_STORED, token_values, strict=True))
        token = Token.from_db(DEFAULT_DB_ALIAS, _TOKEN_FIELDS, [stored.get(name, key) for name in _TOKEN_FIELDS])
        token.user = user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token

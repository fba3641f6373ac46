"""The token authentication's cache (common.api.authentication, namespace "auth") follows every write it depends
on: a user saved or deleted (deactivated, made staff, logged in) or a token created, rotated or deleted."""
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from . import readcache
from .api.authentication import AUTH


def connect() -> None:
    readcache.bump_on_writes(AUTH, get_user_model(), Token)

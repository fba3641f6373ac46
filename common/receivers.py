"""The token authentication's cache (common.api.authentication, namespace "auth") follows every write it depends
on: a user saved or deleted (deactivated, made staff, logged in) or a token created, rotated or deleted. And each
request's read-cache versions live as long as the request."""
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from rest_framework.authtoken.models import Token

from . import readcache
from .api.authentication import AUTH


def connect() -> None:
    readcache.bump_on_writes(AUTH, get_user_model(), Token)
    request_started.connect(readcache.begin_request, dispatch_uid="readcache.begin_request")
    request_finished.connect(readcache.end_request, dispatch_uid="readcache.end_request")

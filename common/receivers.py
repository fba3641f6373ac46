"""The token authentication's cache (common.api.authentication, namespace "auth") follows every write it depends
on: a user saved or deleted (deactivated, made staff, logged in) or a token created, rotated or deleted."""
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from rest_framework.authtoken.models import Token

from . import readcache
from .api.authentication import AUTH


def _bump(sender, **kwargs) -> None:
    readcache.bump(AUTH)


def connect() -> None:
    for model in (get_user_model(), Token):
        for name, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(_bump, sender=model, dispatch_uid=f"common.readcache.{name}.{model.__name__}")

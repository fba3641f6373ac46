"""Answers for login lockouts (django-axes, per username and client address) and login throttling."""
import math

from axes.helpers import get_cool_off
from django.shortcuts import render
from rest_framework import status
from rest_framework.exceptions import APIException

LOCKED_OUT_MESSAGE = "Too many failed logins for this username from your address."


def cool_off_seconds(request=None) -> int:
    # A failure during a lockout restarts the cool-off (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT),
    # so the whole cool-off is what is left after this attempt.
    cool_off = get_cool_off(request)
    return math.ceil(cool_off.total_seconds()) if cool_off else 0


class LockedOut(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, wait: int):
        self.wait = wait  # DRF's handler turns this into Retry-After
        super().__init__(f"{LOCKED_OUT_MESSAGE} Try again in {wait} seconds.", "locked_out")


def raise_if_locked_out(request) -> None:
    """After a failed authenticate(): raise the API's 429 if axes flagged the attempt as locked out."""
    if getattr(request, "axes_locked_out", False):
        raise LockedOut(cool_off_seconds(request))


def too_many_attempts_page(request, message: str, retry_after: int):
    response = render(request, "frontend/locked_out.html",
                      {"message": message, "minutes": max(1, math.ceil(retry_after / 60))},
                      status=status.HTTP_429_TOO_MANY_REQUESTS)
    response["Retry-After"] = str(retry_after)
    return response


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE, for the HTML logins (site and admin). The API answers through LockedOut: axes
    flags DRF's request wrapper there, which this middleware hook never sees."""
    return too_many_attempts_page(request, LOCKED_OUT_MESSAGE, cool_off_seconds(request))

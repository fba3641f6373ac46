"""Argument parsing shared by the oracle app's commands: ASCII digits only, bounded (like the API's inputs)."""
import argparse
import re
from datetime import date

from django.core.management.base import CommandError

from core.amounts import AmountError, parse_iso_date

_INT = re.compile(r"-?[0-9]{1,6}")
_FRACTION = re.compile(r"0?\.[0-9]{1,6}")


def parse_date(value: str, name: str) -> date:
    try:
        return parse_iso_date(value, name=name)
    except AmountError as exc:
        raise CommandError(f"{exc} Got {value!r}.") from None


def bps(value: str) -> int:
    """argparse type: basis points 0..65535 in ASCII digits (int() would also read other scripts' digits)."""
    if not _INT.fullmatch(value.strip()):
        raise argparse.ArgumentTypeError("must be whole basis points written with the digits 0-9")
    if not 0 <= int(value) <= 65_535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535 basis points")
    return int(value)


def fraction(value: str) -> float:
    """argparse type: a coverage level strictly between 0 and 1, e.g. 0.99 (no NaN, no other scripts' digits)."""
    if not _FRACTION.fullmatch(value.strip()) or float(value) <= 0:
        raise argparse.ArgumentTypeError("must be a decimal between 0 and 1 such as 0.99")
    return float(value)

"""Usernames and wallet addresses: how they are compared, which usernames are refused, how an address is shown."""
import re
import unicodedata

from eth_utils import to_checksum_address

from common.errors import DomainError

from .models import Account

USERNAME_RE = re.compile(r"^[\w.@+-]{3,150}\Z")
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}\Z")
WALLET_USERNAME_PREFIX = "wallet-"  # usernames of accounts a SIWE sign-in creates


def username_key(username: str) -> str:
    """The form two usernames are compared in: NFKC, stripped, casefolded ("ｋｅｅｐｅｒ" is "keeper")."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).strip().casefold())


def username_clean(username: str) -> str:
    """The username as stored (NFKC, stripped), or a DomainError for a name nobody may register: one that
    looks like an address, a system account's, or one of the names SIWE gives new wallets."""
    name = unicodedata.normalize("NFKC", username).strip()
    key = username_key(name)
    if key.startswith("0x"):
        raise DomainError("A username cannot begin with 0x: wallet addresses sign in with SIWE.",
                          code="username_looks_like_address", field="username")
    if not USERNAME_RE.match(name):
        raise DomainError("Use 3-150 letters, digits and @.+-_ only.", code="invalid", field="username")
    if key in Account.SystemRole.values or key.startswith(WALLET_USERNAME_PREFIX):
        raise DomainError("That username is reserved.", code="username_reserved", field="username", status=409)
    return name


def address_normal(address: str) -> str:
    """The stored form of a wallet address: lowercase hex."""
    if not isinstance(address, str) or not ADDRESS_RE.match(address):
        raise DomainError("Not an Ethereum address.", code="invalid_address", field="address")
    return address.lower()


def address_display(address: str | None) -> str | None:
    """EIP-55 checksummed, the only form shown."""
    return to_checksum_address(address) if address else None

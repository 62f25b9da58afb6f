"""API tokens: made once, stored only as a hash, looked up by a public key, compared in constant time."""

import hashlib
import hmac
import re
import secrets

import sqlite_utils

from api.model.clock import now_iso

SCOPES = ("write", "admin")
# What each scope may do: admin includes write.
GRANTS = {"write": {"write"}, "admin": {"write", "admin"}}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")
PREFIX = "icc"


class TokenError(ValueError):
    """A token cannot be made or revoked as asked."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(db: sqlite_utils.Database, name: str, scope: str = "write") -> str:
    """A new token for name; only its hash is stored, so this is the one time it can be seen."""
    if not NAME_PATTERN.match(name):
        raise TokenError("A token name is 1-80 letters, digits, '.', '_', '@' or '-'.")
    if scope not in SCOPES:
        raise TokenError(f"Unknown scope {scope!r}; choose one of {', '.join(SCOPES)}.")
    if db["tokens"].count_where("name = ?", [name]):
        raise TokenError(f"A token named {name!r} exists; revoke it or choose another name.")
    key, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    db["tokens"].insert(
        {
            "key": key,
            "name": name,
            "scope": scope,
            "secret_sha256": digest(secret),
            "created_at": now_iso(),
            "revoked_at": None,
        }
    )
    return f"{PREFIX}_{key}_{secret}"


def list_tokens(db: sqlite_utils.Database) -> list[dict]:
    """Every token's name, scope and dates; never its hash."""
    return list(db.query("SELECT name, scope, created_at, revoked_at FROM tokens ORDER BY name"))


def revoke_token(db: sqlite_utils.Database, name: str) -> None:
    """The named token stops working; it stays listed as revoked, and its name stays taken."""
    cursor = db.execute(
        "UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", [now_iso(), name]
    )
    if cursor.rowcount == 0:
        raise TokenError(f"No active token named {name!r}.")


def authenticate(db: sqlite_utils.Database, presented: str) -> dict | None:
    """The active token row matching a presented token, or None."""
    prefix, _, rest = presented.partition("_")
    key, _, secret = rest.partition("_")
    if prefix != PREFIX or not key or not secret:
        return None
    rows = list(db.query("SELECT * FROM tokens WHERE key = ? AND revoked_at IS NULL", [key]))
    # The key is public; only the secret is compared, and in constant time.
    if rows and hmac.compare_digest(digest(secret), rows[0]["secret_sha256"]):
        return rows[0]
    return None


def allows(token: dict, scope: str) -> bool:
    return scope in GRANTS.get(token["scope"], set())

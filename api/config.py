"""Settings: defaults here, overridden by ICC_EVENTS_* environment variables, then by create_app(config)."""

import ipaddress
import os
from urllib.parse import urlsplit

DEFAULTS = {
    "DATABASE": "icc-events.db",
    # Where the big downloads are built, one file per version of their data; empty: <DATABASE>.downloads.
    "DOWNLOADS_DIR": "",
    # A write body above this many bytes is a 413; room for a source of 1,000,000 characters.
    "MAX_BODY_BYTES": 4 * 1024 * 1024,
    "ACCESS_LOG": True,
    "LOG_LEVEL": "INFO",
    "HOST": "127.0.0.1",
    "PORT": 8000,
    "WORKERS": 2,
    # Seconds a client has to send its request headers; also how long a kept-alive connection may
    # sit idle before the server closes it.
    "HEADER_READ_TIMEOUT": 10,
    # Origins allowed to read cross-origin; "*" means any.
    "CORS_ORIGINS": "*",
    # 0: caches must revalidate every time (cheap: a 304 when the ETag still matches).
    "CACHE_MAX_AGE": 0,
    # Read by flask-compress (api/web/compression.py): the media types it may compress.
    "COMPRESS_MIMETYPES": [
        "application/json",
        "application/problem+json",
        "text/csv",
        "application/x-ndjson",
        "application/yaml",
    ],
    # Serve the database through a read-only connection (works even as root, unlike chmod).
    "READ_ONLY": False,
    # Check the file's structure (quick_check, at most 2 s) as the app starts. `serve` checks once
    # itself, before its workers fork, and starts them with this off.
    "CHECK_ON_START": True,
    # How long a request waits for a lock held by another connection before it gets a 503.
    "DB_BUSY_TIMEOUT_MS": 5000,
    # Client input caps: longer query strings get a 414, longer ids a 400.
    "MAX_QUERY_STRING_LENGTH": 4096,
    # Larger request headers (all of them together) get a 431.
    "MAX_HEADER_BYTES": 8192,
    "MAX_ID_LENGTH": 200,
    # POST /v1/verify: a larger body is a 413, a passage of more sentences a 422.
    "VERIFY_MAX_BODY_BYTES": 64 * 1024,
    "VERIFY_MAX_SENTENCES": 50,
    # Rate limits per client address, in the `limits` notation ("N per second|minute|hour").
    "RATE_LIMIT_ENABLED": True,
    "RATE_LIMIT_WRITES": "60 per minute",
    "RATE_LIMIT_EXPENSIVE_READS": "30 per minute",
    # Where the counters live, as a `limits` storage URI; empty: a SQLite file beside the database,
    # shared by every worker and process on this host. redis://host:6379 shares it between hosts.
    "RATE_LIMIT_STORAGE": "",
    # The public URL of the API, for links made outside a request (icc-events mcp's span URLs).
    "BASE_URL": "http://127.0.0.1:8000",
    # Proxies (addresses or CIDR networks) whose X-Forwarded-For and X-Forwarded-Proto are believed.
    "TRUSTED_PROXIES": (),
    # Webhooks (api/store/webhooks.py, api/integrations/delivery.py). Private, loopback and
    # link-local targets and plain http are refused unless this is on: for tests and development only (SSRF).
    "WEBHOOKS_ALLOW_PRIVATE": False,
    # Retry n waits min(BASE * 2**(n-1), MAX) seconds, times a random factor from 0.5 to 1 (jitter).
    "WEBHOOKS_RETRY_BASE_SECONDS": 5.0,
    "WEBHOOKS_RETRY_MAX_SECONDS": 3600.0,
    # This many failed attempts in a row, on any of its messages, disable a subscription.
    "WEBHOOKS_DISABLE_AFTER_FAILURES": 15,
    # Seconds to connect, and to wait for each read of the response.
    "WEBHOOKS_TIMEOUT_SECONDS": 10.0,
    # How often the deliverer looks for new messages when it has nothing due.
    "WEBHOOKS_POLL_SECONDS": 1.0,
    # Delivery attempts kept per subscription; older ones are deleted as new ones are logged.
    "WEBHOOKS_LOG_KEPT": 1000,
    # Read replica (api/web/replica.py): the primary's public URL; set, this server refuses writes with a
    # problem naming it and opens its database read-only. Empty: this server is the primary.
    "PRIMARY_URL": "",
    # How long a replica waits to reach the change a client names (ICC-Events-Min-Change) before a 503.
    "REPLICA_WAIT_MS": 2000,
}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_bool(value: str) -> bool:
    """1/true/yes/on or 0/false/no/off, any case."""
    word = value.strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        raise ValueError(f"expected one of {', '.join(TRUE_WORDS + FALSE_WORDS)}")
    return word in TRUE_WORDS


def parse_log_level(value: str) -> str:
    if value.strip().upper() not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return value.strip().upper()


def int_between(low: int, high: int):
    """A parser for a whole number from low to high."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return number

    return parse


def positive_seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not 0 < number <= 86400:
        raise ValueError("expected a number of seconds above 0, at most 86400")
    return number


def parse_base_url(value: str) -> str:
    """An http or https URL with a host and no query or fragment, e.g. https://icc-events.example."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("expected an http(s) URL with a host, such as https://icc-events.example")
    return value.strip().rstrip("/")


def parse_primary_url(value: str) -> str:
    """Empty (this server is the primary), or the primary's http(s) URL."""
    return parse_base_url(value) if value.strip() else ""


def parse_networks(value: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or CIDR networks, e.g. 127.0.0.1,10.0.0.0/8; empty: none."""
    networks = tuple(part.strip() for part in value.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"{network!r} is not an IP address or CIDR network") from None
    return networks


# Environment variable -> (setting, parser). The README's settings table lists exactly these.
ENVIRONMENT = {
    "ICC_EVENTS_DB": ("DATABASE", str),
    "ICC_EVENTS_DOWNLOADS_DIR": ("DOWNLOADS_DIR", str),
    "ICC_EVENTS_MAX_BODY_BYTES": ("MAX_BODY_BYTES", int),
    "ICC_EVENTS_ACCESS_LOG": ("ACCESS_LOG", parse_bool),
    "ICC_EVENTS_LOG_LEVEL": ("LOG_LEVEL", parse_log_level),
    "ICC_EVENTS_HOST": ("HOST", str),
    "ICC_EVENTS_PORT": ("PORT", int_between(1, 65535)),
    "ICC_EVENTS_WORKERS": ("WORKERS", int_between(1, 64)),
    "ICC_EVENTS_HEADER_READ_TIMEOUT": ("HEADER_READ_TIMEOUT", int_between(1, 60)),
    "ICC_EVENTS_CORS_ORIGINS": ("CORS_ORIGINS", str),
    "ICC_EVENTS_CACHE_MAX_AGE": ("CACHE_MAX_AGE", int),
    "ICC_EVENTS_READ_ONLY": ("READ_ONLY", parse_bool),
    "ICC_EVENTS_CHECK_ON_START": ("CHECK_ON_START", parse_bool),
    "ICC_EVENTS_DB_BUSY_TIMEOUT_MS": ("DB_BUSY_TIMEOUT_MS", int),
    "ICC_EVENTS_MAX_QUERY_STRING_LENGTH": ("MAX_QUERY_STRING_LENGTH", int),
    "ICC_EVENTS_MAX_HEADER_BYTES": ("MAX_HEADER_BYTES", int),
    "ICC_EVENTS_RATE_LIMIT_ENABLED": ("RATE_LIMIT_ENABLED", parse_bool),
    "ICC_EVENTS_RATE_LIMIT_WRITES": ("RATE_LIMIT_WRITES", str),
    "ICC_EVENTS_RATE_LIMIT_EXPENSIVE_READS": ("RATE_LIMIT_EXPENSIVE_READS", str),
    "ICC_EVENTS_RATE_LIMIT_STORAGE": ("RATE_LIMIT_STORAGE", str),
    "ICC_EVENTS_TRUSTED_PROXIES": ("TRUSTED_PROXIES", parse_networks),
    "ICC_EVENTS_WEBHOOKS_ALLOW_PRIVATE": ("WEBHOOKS_ALLOW_PRIVATE", parse_bool),
    "ICC_EVENTS_WEBHOOKS_RETRY_BASE_SECONDS": ("WEBHOOKS_RETRY_BASE_SECONDS", positive_seconds),
    "ICC_EVENTS_WEBHOOKS_RETRY_MAX_SECONDS": ("WEBHOOKS_RETRY_MAX_SECONDS", positive_seconds),
    "ICC_EVENTS_WEBHOOKS_DISABLE_AFTER_FAILURES": ("WEBHOOKS_DISABLE_AFTER_FAILURES", int_between(1, 1000)),
    "ICC_EVENTS_WEBHOOKS_TIMEOUT_SECONDS": ("WEBHOOKS_TIMEOUT_SECONDS", positive_seconds),
    "ICC_EVENTS_WEBHOOKS_POLL_SECONDS": ("WEBHOOKS_POLL_SECONDS", positive_seconds),
    "ICC_EVENTS_WEBHOOKS_LOG_KEPT": ("WEBHOOKS_LOG_KEPT", int_between(1, 1_000_000)),
    "ICC_EVENTS_BASE_URL": ("BASE_URL", parse_base_url),
    "ICC_EVENTS_PRIMARY_URL": ("PRIMARY_URL", parse_primary_url),
    "ICC_EVENTS_REPLICA_WAIT_MS": ("REPLICA_WAIT_MS", int_between(0, 10000)),
}


class SettingError(ValueError):
    """An ICC_EVENTS_* variable whose value cannot be used; names the variable."""


def settings_from_environment(environ=os.environ) -> dict:
    """The settings the environment overrides, each parsed; a bad value is a SettingError naming it."""
    settings = {}
    for var, (key, parse) in ENVIRONMENT.items():
        if var in environ:
            try:
                settings[key] = parse(environ[var])
            except ValueError as error:
                raise SettingError(f"{var}={environ[var]!r}: {error}") from None
    return settings


def setting(key: str, environ=os.environ):
    """One setting as the environment leaves it: for CLI defaults, outside any app."""
    return settings_from_environment(environ).get(key, DEFAULTS[key])

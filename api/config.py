"""Settings: defaults here, overridden by ICC_EVENTS_* environment variables, then by create_app(config)."""

import os

DEFAULTS = {
    "DATABASE": "icc-events.db",
    "MAX_PAGE_SIZE": 500,
    "DEFAULT_PAGE_SIZE": 50,
    # A write body above this many bytes is a 413; room for a source of 1,000,000 characters.
    "MAX_BODY_BYTES": 4 * 1024 * 1024,
}

# Environment variable -> (setting, parser).
ENVIRONMENT = {
    "ICC_EVENTS_DB": ("DATABASE", str),
    "ICC_EVENTS_MAX_BODY_BYTES": ("MAX_BODY_BYTES", int),
}


def settings_from_environment(environ=os.environ) -> dict:
    return {key: parse(environ[var]) for var, (key, parse) in ENVIRONMENT.items() if var in environ}

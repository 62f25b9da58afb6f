"""Settings: defaults here, overridden by ICC_EVENTS_* environment variables, then by create_app(config)."""

import os

DEFAULTS = {
    "DATABASE": "icc-events.db",
    "MAX_PAGE_SIZE": 500,
    "DEFAULT_PAGE_SIZE": 50,
}

# Environment variable -> (setting, parser).
ENVIRONMENT = {
    "ICC_EVENTS_DB": ("DATABASE", str),
}


def settings_from_environment(environ=os.environ) -> dict:
    return {key: parse(environ[var]) for var, (key, parse) in ENVIRONMENT.items() if var in environ}

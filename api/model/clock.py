"""The one clock every stored timestamp comes from: UTC, ISO 8601, microseconds."""

import datetime as dt


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

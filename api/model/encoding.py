"""JSON text as the API stores and serves it: compact, UTF-8 as is, encoded by orjson.

orjson's output is byte for byte what json.dumps(value, ensure_ascii=False, separators=(",", ":"))
gives for the values records hold (strings, integers, booleans, null, lists and objects), several
times faster; writes encode every record's JSON columns, its served JSON and its etag's content.
"""

import orjson


def encode_json(value) -> str:
    """Compact JSON, keys in the order given."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def canonical_json(value) -> str:
    """Compact JSON with every object's keys sorted: the same value always gives the same text."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS).decode()

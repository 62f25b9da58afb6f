"""Flask's JSON responses encoded by orjson: the same JSON, several times faster for a page of records."""

import orjson
from flask.json.provider import DefaultJSONProvider

# Dates and dataclasses go through Flask's own default, so they come out exactly as before.
OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
OPTIONS |= orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class ORJSONProvider(DefaultJSONProvider):
    """Compact responses through orjson; pretty (debug) output and dumps() stay the standard library's."""

    def response(self, *args, **kwargs):
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)
        options = OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        body = orjson.dumps(self._prepare_response_obj(args, kwargs), default=self.default, option=options)
        return self._app.response_class(body, mimetype=self.mimetype)

"""Turning a request's query string into validated arguments, or a 400 naming each bad parameter."""

import functools

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from api.model.provenance import flatten_errors
from api.web.errors import APIProblem


def parse_query(schema: Schema, args: MultiDict | None = None) -> dict:
    """The query string (or args) loaded by schema; repeated, unknown or invalid parameters are a 400."""
    args = request.args if args is None else args
    repeated = [name for name, values in args.lists() if len(values) > 1]
    if repeated:
        raise bad_query({name: "Given more than once." for name in repeated})
    try:
        if not args:
            return dict(defaults(schema))  # most reads of a record ask nothing: its load, done once
        return schema.load(args.to_dict())
    except ValidationError as error:
        raise bad_query(flatten_errors(error.messages)) from None


@functools.cache
def defaults(schema: Schema) -> dict:
    """What schema loads from an empty query string: the same for every request, so loaded once.

    Callers read the arguments and never change them (each gets its own copy of the top level).
    """
    return schema.load({})


def bad_query(errors: dict[str, str]) -> APIProblem:
    names = ", ".join(sorted(errors))
    detail = f"Invalid query parameter{'s' if len(errors) > 1 else ''}: {names}. " + " ".join(
        f"{name}: {message}" for name, message in sorted(errors.items())
    )
    return APIProblem(400, detail, errors=errors)

"""POST /v1/verify: is each sentence of a passage in a source, exactly, nearly or not at all?"""

import dataclasses

from flask import Blueprint, current_app, request
from marshmallow import ValidationError

from api.model.links import segment
from api.model.provenance import flatten_errors
from api.store.quotes import NEAR_THRESHOLD, split_sentences, verify_passage
from api.web.database import get_db
from api.web.errors import APIProblem
from api.web.writes import JSON, json_body
from schemas.verify import VerifyRequestSchema, VerifyResultSchema

bp = Blueprint("verify", __name__, url_prefix="/v1")
request_schema = VerifyRequestSchema()
result_schema = VerifyResultSchema()


def load_request() -> dict:
    """The validated body: 413 over VERIFY_MAX_BODY_BYTES, 422 invalid or over VERIFY_MAX_SENTENCES."""
    body = json_body(JSON, current_app.config["VERIFY_MAX_BODY_BYTES"])
    try:
        args = request_schema.load(body)
    except ValidationError as error:
        errors = flatten_errors(error.messages)
        raise APIProblem(
            422, f"The request is not valid: {', '.join(sorted(errors))}.", errors=errors
        ) from None
    most = current_app.config["VERIFY_MAX_SENTENCES"]
    if len(split_sentences(args["passage"])) > most:
        message = f"Has more than {most} sentences; send it in parts."
        raise APIProblem(422, f"The request is not valid: passage. {message}", errors={"passage": message})
    return args


def span_url(verdict) -> str | None:
    if verdict.source_id is None:
        return None
    return f"{request.root_url}sources/{segment(verdict.source_id)}#char={verdict.start},{verdict.end}"


@bp.post("/verify")
def verify_quotes():
    """A verdict per sentence, with the source, offsets and span URL of each match."""
    args = load_request()
    verdicts = verify_passage(get_db(), args["passage"], args.get("source_id"))
    sentences = [{**dataclasses.asdict(v), "url": span_url(v)} for v in verdicts]
    return result_schema.dump({"sentences": sentences, "near_threshold": NEAR_THRESHOLD})

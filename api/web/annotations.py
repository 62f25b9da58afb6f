"""Citations as W3C Web Annotations (JSON-LD): GET /v1/<collection>/<id>/annotations."""

from flask import Blueprint, current_app, request

from api.model.collections import COLLECTIONS, Collection
from api.model.links import segment
from api.model.rows import from_row
from api.store.reads import get_row
from api.web.caching import last_modified, read_response, representation_etag
from api.web.database import get_db
from api.web.errors import APIProblem
from api.web.links import record_url

bp = Blueprint("annotations", __name__, url_prefix="/v1")

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
JSON_LD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
# Characters of context either side of a quote, enough to place it where the quote recurs.
CONTEXT_CHARS = 32


def annotation(record_link: str, index: int, citation: dict, text: str, root: str) -> dict:
    """One citation as an Annotation: the body is the record's supported fields, the target its span.

    Offsets, like the API's, count Unicode code points of the source text.
    """
    start, end = citation["start"], citation["end"]
    body = {
        "type": "SpecificResource",
        "source": record_link,
        "purpose": "describing",
        "supports": citation.get("supports") or [],
        "basis": citation.get("basis"),
    }
    for key in ("attributed_to", "reasoning"):
        if citation.get(key):
            body[key] = citation[key]
    return {
        "id": f"{record_link}/annotations#citation-{index}",
        "type": "Annotation",
        "motivation": "describing",
        "body": body,
        "target": {
            "source": f"{root}v1/sources/{segment(citation['source_id'])}",
            "selector": [
                {
                    "type": "TextQuoteSelector",
                    "exact": citation["quote"],
                    "prefix": text[max(0, start - CONTEXT_CHARS) : start],
                    "suffix": text[end : end + CONTEXT_CHARS],
                },
                {"type": "TextPositionSelector", "start": start, "end": end},
            ],
        },
    }


def provenance_context(root: str) -> dict:
    """Terms for what the Web Annotation vocabulary has no word for: each body's supports and basis."""
    terms = {"icc": f"{root}openapi.yaml#"}
    for term in ("supports", "basis", "attributed_to", "reasoning"):
        terms[term] = f"icc:{term}"
    return terms


def annotation_collection(collection: Collection, record: dict, texts: dict[str, str], root: str) -> dict:
    """Every citation of a record as one AnnotationCollection, its items in citation order."""
    link = record_url(collection.name, record["id"], root)
    items = [
        annotation(link, i, c, texts.get(c["source_id"], ""), root)
        for i, c in enumerate(record.get("citations") or [])
    ]
    return {
        "@context": [ANNO_CONTEXT, provenance_context(root)],
        "id": f"{link}/annotations",
        "type": "AnnotationCollection",
        "label": f"Citations of {collection.singular} {record['id']}",
        "total": len(items),
        "first": {"type": "AnnotationPage", "items": items},
    }


def annotations_view(collection: Collection):
    def view(record_id: str):
        db = get_db()
        row = get_row(db, collection, record_id)
        if row is None:
            raise APIProblem(404, f"No {collection.singular} with id {record_id!r}.")
        record = from_row(collection, row)
        source_ids = sorted({c["source_id"] for c in record.get("citations") or []})
        sources = [get_row(db, COLLECTIONS["sources"], source_id) for source_id in source_ids]
        sources = [s for s in sources if s is not None]
        etag = representation_etag(request.url, "jsonld", [(r["id"], r["etag"]) for r in [row, *sources]])
        modified = last_modified([row, *sources])

        def build():
            texts = {s["id"]: s["text"] for s in sources}
            body = annotation_collection(collection, record, texts, request.root_url)
            response = current_app.json.response(body)
            response.content_type = JSON_LD
            return response

        return read_response(etag, modified, build)

    view.__name__ = f"annotations_{collection.singular}"
    view.__doc__ = f"A {collection.singular}'s citations as W3C Web Annotations."
    return view


for _collection in COLLECTIONS.values():
    if "citations" in _collection.schema.fields:
        bp.add_url_rule(
            f"/{_collection.name}/<record_id>/annotations",
            view_func=annotations_view(_collection),
            methods=["GET"],
        )

"""URLs of records and of the records they refer to, so clients can follow them."""

from urllib.parse import quote, urlencode

from flask import request
from werkzeug.urls import iri_to_uri

from api.collections import Collection

# A page carries hundreds of links: formatting them from the request's root URL is several times
# cheaper than building each through the URL map. The paths are the records blueprint's and the
# pages blueprint's routes; tests compare these URLs with url_for's.
# The characters werkzeug leaves unquoted in a path segment, so both give the same URL.
SEGMENT_SAFE = "!$&'()*+,:;=@"


def api_url(path: str) -> str:
    """The absolute URL of a path under the API's root, as this request reached it."""
    return f"{request.root_url}{path}"


def record_url(collection_name: str, record_id: str) -> str:
    return api_url(f"v1/{collection_name}/{quote(record_id, safe=SEGMENT_SAFE)}")


def list_url(collection_name: str, **params) -> str:
    return api_url(f"v1/{collection_name}?{urlencode(params)}" if params else f"v1/{collection_name}")


def link_name(field_name: str) -> str:
    """subject_official_id -> subject_official; affected_company_ids -> affected_companies."""
    if field_name.endswith("_ids"):
        stem = field_name.removesuffix("_ids")
        return stem[:-1] + "ies" if stem.endswith("y") else stem + "s"
    return field_name.removesuffix("_id")


def record_links(collection: Collection, record: dict) -> dict:
    """self, each referenced record, and lists of the records that refer to this one."""
    links = {"self": record_url(collection.name, record["id"])}
    for field_name, target in collection.references().items():
        if record.get(field_name):
            links[link_name(field_name)] = record_url(target, record[field_name])
    for field_name, target in collection.list_references().items():
        if record.get(field_name):
            links[link_name(field_name)] = [record_url(target, value) for value in record[field_name]]
    for name, (target, field_name) in collection.backlinks.items():
        links[name] = list_url(target, **{field_name: record["id"]})
    return links


def add_citation_urls(record: dict) -> None:
    """Each citation links to its span in the source viewer, named by an RFC 5147 character range."""
    for citation in record.get("citations") or []:
        source = quote(citation["source_id"], safe=SEGMENT_SAFE)
        citation["url"] = api_url(f"sources/{source}#char={citation['start']},{citation['end']}")


def with_links(collection: Collection, record: dict) -> dict:
    add_citation_urls(record)
    record["links"] = record_links(collection, record)
    return record


def self_url() -> str:
    """The request's own URL as a URI: non-ASCII query text percent-encoded, as links require."""
    return iri_to_uri(request.url)

"""URLs of records and of the records they refer to, so clients can follow them."""

import functools
from urllib.parse import quote, urlencode

import flask
from flask import request
from marshmallow import Schema, fields
from werkzeug.sansio.utils import get_current_url
from werkzeug.urls import iri_to_uri
from werkzeug.utils import cached_property

from api.model.collections import Collection
from schemas.common import StrictSchema

# A page carries hundreds of links: formatting them from the request's root URL is several times
# cheaper than building each through the URL map. The paths are the records blueprint's and the
# pages blueprint's routes; tests compare these URLs with url_for's.
# The characters werkzeug leaves unquoted in a path segment, so both give the same URL.
SEGMENT_SAFE = "!$&'()*+,:;=@"


@functools.lru_cache(maxsize=64)
def root_url_of(scheme: str, host: str, root_path: str) -> str:
    return get_current_url(scheme, host, root_path)


class Request(flask.Request):
    """Flask's request, with werkzeug's root URL made once per scheme, host and root path.

    werkzeug quotes and IRI-decodes it again for every request: a tenth of a warm item's time.
    """

    @cached_property
    def root_url(self) -> str:
        return root_url_of(self.scheme, self.host, self.root_path)


def segment(value: str) -> str:
    """A record id quoted as one path segment, as url_for quotes it."""
    return quote(value, safe=SEGMENT_SAFE)


# root: the request's root URL, when the caller already has it (a render makes a dozen links).
def record_url(collection_name: str, record_id: str, root: str | None = None) -> str:
    return f"{root or request.root_url}v1/{collection_name}/{segment(record_id)}"


def page_url(collection_name: str, record_id: str, root: str | None = None) -> str:
    """The record's page for people: /<collection>/<id> (a source's is its viewer)."""
    return f"{root or request.root_url}{collection_name}/{segment(record_id)}"


def list_url(collection_name: str, root: str | None = None, /, **params) -> str:
    path = f"v1/{collection_name}?{urlencode(params)}" if params else f"v1/{collection_name}"
    return f"{root or request.root_url}{path}"


def link_name(field_name: str) -> str:
    """subject_official_id -> subject_official; affected_company_ids -> affected_companies."""
    if field_name.endswith("_ids"):
        stem = field_name.removesuffix("_ids")
        return stem[:-1] + "ies" if stem.endswith("y") else stem + "s"
    return field_name.removesuffix("_id")


def record_links(collection: Collection, record: dict, root: str | None = None) -> dict:
    """self, each referenced record, and lists of the records that refer to this one."""
    root = root or request.root_url
    links = {"self": record_url(collection.name, record["id"], root)}
    links["html"] = page_url(collection.name, record["id"], root)
    for field_name, target in collection.references().items():
        if record.get(field_name):
            links[link_name(field_name)] = record_url(target, record[field_name], root)
    for field_name, target in collection.list_references().items():
        if record.get(field_name):
            links[link_name(field_name)] = [record_url(target, value, root) for value in record[field_name]]
    for name, (target, field_name) in collection.backlinks.items():
        links[name] = list_url(target, root, **{field_name: record["id"]})
    return links


def uri(description: str, **kwargs) -> fields.Str:
    return fields.Str(metadata={"format": "uri", "description": description}, **kwargs)


def links_schema(collection: Collection) -> type[Schema]:
    """The `links` object record_links makes for this collection, each link a field, for the spec."""
    attrs = {"self": uri("This record.", required=True)}
    attrs["html"] = uri("This record's page for people: every field with its citations.", required=True)
    for field_name, target in collection.references().items():
        attrs[link_name(field_name)] = uri(
            f"The record in {target} that {field_name} names; left out when null."
        )
    for field_name, target in collection.list_references().items():
        attrs[link_name(field_name)] = fields.List(
            fields.Str(metadata={"format": "uri"}),
            metadata={
                "description": f"The records in {target} that {field_name} names; left out when empty."
            },
        )
    for name, (target, field_name) in collection.backlinks.items():
        attrs[name] = uri(f"The list of {target} whose {field_name} is this record.", required=True)
    return StrictSchema.from_dict(attrs, name=f"{collection.singular.title()}LinksSchema")


def add_citation_urls(record: dict, root: str | None = None) -> None:
    """Each citation links to its span in the source viewer, named by an RFC 5147 character range."""
    root = root or request.root_url
    for citation in record.get("citations") or []:
        span = f"char={citation['start']},{citation['end']}"
        citation["url"] = f"{root}sources/{segment(citation['source_id'])}#{span}"


def with_links(collection: Collection, record: dict, root: str | None = None) -> dict:
    """The record with its citation URLs and links; root defaults to the request's root URL."""
    root = root or request.root_url  # read once: each read goes through Flask's request proxy
    add_citation_urls(record, root)
    record["links"] = record_links(collection, record, root)
    return record


def self_url() -> str:
    """The request's own URL as a URI: non-ASCII query text percent-encoded, as links require."""
    return iri_to_uri(request.url)


def link_next(response, next_url: str | None):
    """The response, with an RFC 8288 Link header to the next page when there is one."""
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response

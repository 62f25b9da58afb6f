"""Where records live and link to: the paths of a record, its page and the lists that refer to it.

Every URL here is made from a root the caller gives. A record's stored representation is rendered
once at write time with root "/", so its links are relative references (RFC 3986 section 4.2,
path-absolute): the same bytes serve every host, scheme and proxy, and a client resolves them against
the URL it read the record from. Pages, feeds and MCP answers pass the request's root URL instead.
"""

from urllib.parse import quote, urlencode

from marshmallow import Schema, fields

from api.model.collections import Collection
from schemas.common import StrictSchema

# The root of the links a stored record carries: relative references, host-independent.
STORED_ROOT = "/"
# The characters werkzeug leaves unquoted in a path segment, so these URLs equal url_for's (the
# paths are the records blueprint's and the pages blueprint's routes; tests compare them).
SEGMENT_SAFE = "!$&'()*+,:;=@"


def segment(value: str) -> str:
    """A record id quoted as one path segment, as url_for quotes it."""
    return quote(value, safe=SEGMENT_SAFE)


def record_url(collection_name: str, record_id: str, root: str) -> str:
    return f"{root}v1/{collection_name}/{segment(record_id)}"


def page_url(collection_name: str, record_id: str, root: str) -> str:
    """The record's page for people: /<collection>/<id> (a source's is its viewer)."""
    return f"{root}{collection_name}/{segment(record_id)}"


def list_url(collection_name: str, root: str, /, **params) -> str:
    path = f"v1/{collection_name}?{urlencode(params)}" if params else f"v1/{collection_name}"
    return f"{root}{path}"


def link_name(field_name: str) -> str:
    """subject_official_id -> subject_official; affected_company_ids -> affected_companies."""
    if field_name.endswith("_ids"):
        stem = field_name.removesuffix("_ids")
        return stem[:-1] + "ies" if stem.endswith("y") else stem + "s"
    return field_name.removesuffix("_id")


def record_links(collection: Collection, record: dict, root: str) -> dict:
    """self, each referenced record, and lists of the records that refer to this one."""
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


def without_links(record: dict) -> dict:
    """The record with_links was given back: its links and citation URLs taken off (in place)."""
    del record["links"]
    for citation in record.get("citations") or []:
        del citation["url"]
    return record


def add_citation_urls(record: dict, root: str) -> None:
    """Each citation links to its span in the source viewer, named by an RFC 5147 character range."""
    for citation in record.get("citations") or []:
        span = f"char={citation['start']},{citation['end']}"
        citation["url"] = f"{root}sources/{segment(citation['source_id'])}#{span}"


def with_links(collection: Collection, record: dict, root: str) -> dict:
    """The record with its citation URLs and links, all made from root."""
    add_citation_urls(record, root)
    record["links"] = record_links(collection, record, root)
    return record


RELATIVE = " A relative reference (RFC 3986): resolve it against the URL this record was read from."


def uri(description: str, **kwargs) -> fields.Str:
    return fields.Str(metadata={"format": "uri-reference", "description": description + RELATIVE}, **kwargs)


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
            fields.Str(metadata={"format": "uri-reference"}),
            metadata={
                "description": f"The records in {target} that {field_name} names; left out when empty."
                + RELATIVE
            },
        )
    for name, (target, field_name) in collection.backlinks.items():
        attrs[name] = uri(f"The list of {target} whose {field_name} is this record.", required=True)
    return StrictSchema.from_dict(attrs, name=f"{collection.singular.title()}LinksSchema")

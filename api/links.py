"""URLs of records and of the records they refer to, so clients can follow them."""

from flask import request, url_for
from werkzeug.urls import iri_to_uri

from api.collections import Collection


def record_url(collection_name: str, record_id: str) -> str:
    return url_for(f"records.get_{collection_name}", record_id=record_id, _external=True)


def list_url(collection_name: str, **params) -> str:
    return url_for(f"records.list_{collection_name}", _external=True, **params)


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
        url = url_for("pages.source_page", source_id=citation["source_id"], _external=True)
        citation["url"] = f"{url}#char={citation['start']},{citation['end']}"


def with_links(collection: Collection, record: dict) -> dict:
    add_citation_urls(record)
    record["links"] = record_links(collection, record)
    return record


def self_url() -> str:
    """The request's own URL as a URI: non-ASCII query text percent-encoded, as links require."""
    return iri_to_uri(request.url)

"""Absolute URLs for a request: its own, the next page's, and records' made from its root URL."""

import functools

import flask
from flask import request
from werkzeug.sansio.utils import get_current_url
from werkzeug.urls import iri_to_uri
from werkzeug.utils import cached_property

from api.model import links

# A page carries hundreds of links: formatting them from the request's root URL is several times
# cheaper than building each through the URL map (the paths are api/model/links.py's).


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


# The absolute URLs of api/model/links.py, made from the request's root URL unless one is given.
def record_url(collection_name: str, record_id: str, root: str | None = None) -> str:
    return links.record_url(collection_name, record_id, root or request.root_url)


def page_url(collection_name: str, record_id: str, root: str | None = None) -> str:
    return links.page_url(collection_name, record_id, root or request.root_url)


def list_url(collection_name: str, root: str | None = None, /, **params) -> str:
    return links.list_url(collection_name, root or request.root_url, **params)


def add_citation_urls(record: dict, root: str | None = None) -> None:
    links.add_citation_urls(record, root or request.root_url)


def self_url() -> str:
    """The request's own URL as a URI: non-ASCII query text percent-encoded, as links require."""
    return iri_to_uri(request.url)


def link_next(response, next_url: str | None):
    """The response, with an RFC 8288 Link header to the next page when there is one."""
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response

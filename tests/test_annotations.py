"""Citations as W3C Web Annotations: the Web Annotation vocabulary's required terms, and true spans."""

from urllib.parse import urljoin

import pytest

from api.model.collections import COLLECTIONS
from tests.conftest import assert_problem

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
CITING = [name for name, c in COLLECTIONS.items() if "citations" in c.schema.fields]
# The terms the Web Annotation Data Model (W3C Recommendation, 2017) requires of each object.
REQUIRED_TERMS = {
    "AnnotationCollection": {"@context", "id", "type"},
    "AnnotationPage": {"type", "items"},
    "Annotation": {"id", "type", "target"},
    "SpecificResource": {"source"},
    "TextQuoteSelector": {"type", "exact"},
    "TextPositionSelector": {"type", "start", "end"},
}


def first_record_id(client, name: str) -> str:
    return client.get(f"/v1/{name}?limit=1").get_json()["data"][0]["id"]


def assert_required_terms(obj: dict, kind: str) -> None:
    assert obj.get("type") == kind
    missing = REQUIRED_TERMS[kind] - obj.keys()
    assert not missing, (kind, missing)


@pytest.mark.parametrize("name", CITING)
def test_every_citation_is_a_web_annotation_with_the_required_terms(client, name):
    record_id = first_record_id(client, name)
    record_url = f"http://localhost/v1/{name}/{record_id}"
    record = client.get(record_url).get_json()
    response = client.get(f"/v1/{name}/{record_id}/annotations")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    body = response.get_json(force=True)
    assert body["@context"][0] == ANNO_CONTEXT
    assert_required_terms(body, "AnnotationCollection")
    assert_required_terms(body["first"], "AnnotationPage")
    items = body["first"]["items"]
    assert body["total"] == len(items) == len(record["citations"])
    for item, citation in zip(items, record["citations"], strict=True):
        assert_required_terms(item, "Annotation")
        assert_required_terms(item["body"], "SpecificResource")
        # JSON-LD needs absolute IRIs: the record's relative self link, resolved against where it was read.
        assert item["body"]["source"] == urljoin(record_url, record["links"]["self"])
        assert item["body"]["supports"] == citation["supports"]
        assert item["body"]["basis"] == citation["basis"]
        quote, position = item["target"]["selector"]
        assert_required_terms(quote, "TextQuoteSelector")
        assert_required_terms(position, "TextPositionSelector")
        assert {"prefix", "suffix"} <= quote.keys()
        assert (position["start"], position["end"], quote["exact"]) == (
            citation["start"],
            citation["end"],
            citation["quote"],
        )


def test_annotation_selectors_locate_the_quote_in_the_source_text(client):
    body = client.get("/v1/warrants/warrant-rodrigo-duterte/annotations").get_json(force=True)
    for item in body["first"]["items"]:
        source = client.get(item["target"]["source"]).get_json()
        quote, position = item["target"]["selector"]
        text = source["text"]
        assert text[position["start"] : position["end"]] == quote["exact"]
        assert text[: position["start"]].endswith(quote["prefix"])
        assert text[position["end"] :].startswith(quote["suffix"])


def test_inferred_annotation_carries_its_reasoning(client):
    body = client.get("/v1/warrants/warrant-rodrigo-duterte/annotations").get_json(force=True)
    inferred = [i["body"] for i in body["first"]["items"] if i["body"]["basis"] == "inferred"]
    assert inferred and all(b["reasoning"] for b in inferred)


def test_annotations_of_an_unknown_record_is_problem_404(client):
    assert_problem(client.get("/v1/warrants/no-such-warrant/annotations"), 404)

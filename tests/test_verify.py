"""POST /v1/verify: each sentence of a passage found in a source exactly, nearly, or not at all."""

import json
import urllib.request

import pytest

from api.store.db import connect
from api.store.quotes import normalise, split_sentences
from tests.conftest import assert_problem
from tests.server_process import running_server

SOURCE = "trump-campaign-against-icc-faces-resistance"
AKANE = (
    "ICC President Tomoko Akane, a Japanese judge, emphasized the court's independence during the summit, "
    "stating the court never accepts any kind of pressure"
)


@pytest.fixture
def source_text(db_path) -> str:
    db = connect(str(db_path), readonly=True)
    try:
        return db.execute("SELECT text FROM sources WHERE id = ?", [SOURCE]).fetchone()[0]
    finally:
        db.conn.close()


def verify(client, passage: str, **extra) -> list[dict]:
    response = client.post("/v1/verify", json={"passage": passage, **extra})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["sentences"]


def test_sentence_in_the_source_is_an_exact_match_whose_offsets_slice_it(client, source_text):
    [verdict] = verify(client, AKANE + ".")
    assert verdict["match"] == "exact" and verdict["score"] == 100
    assert verdict["source_id"] == SOURCE
    assert source_text[verdict["start"] : verdict["end"]] == verdict["quote"] == AKANE
    assert verdict["url"] == f"http://localhost/sources/{SOURCE}#char={verdict['start']},{verdict['end']}"
    assert verdict["differences"] == []


def test_curly_quotes_and_extra_whitespace_still_match_exactly(client, source_text):
    typeset = (
        "\u201c" + AKANE.replace("court's", "court\u2019s").replace(" during ", "\n  during ") + ".\u201d"
    )
    [verdict] = verify(client, typeset)
    assert verdict["match"] == "exact"
    assert source_text[verdict["start"] : verdict["end"]] == AKANE


def test_one_word_changed_is_a_near_match_listing_the_difference(client, source_text):
    [verdict] = verify(client, AKANE.replace("Japanese", "Korean") + ".")
    assert verdict["match"] == "near"
    assert 85 <= verdict["score"] < 100
    assert verdict["differences"] == [{"operation": "replace", "passage": "Korean", "source": "Japanese"}]
    assert source_text[verdict["start"] : verdict["end"]] == verdict["quote"] == AKANE


def test_sentence_in_no_source_is_not_found(client):
    [verdict] = verify(client, "The moon is made of green cheese, said the court.")
    assert verdict["match"] == "none"
    assert verdict["source_id"] is None and verdict["url"] is None and verdict["quote"] is None


def test_each_sentence_gets_its_own_verdict_in_order(client):
    verdicts = verify(
        client, f"{AKANE}. The moon is made of green cheese. {AKANE.replace('Japanese', 'Korean')}!"
    )
    assert [v["match"] for v in verdicts] == ["exact", "none", "near"]


def test_source_id_limits_the_search_to_that_source(client):
    assert verify(client, AKANE, source_id=SOURCE)[0]["match"] == "exact"
    assert verify(client, AKANE, source_id="another-source")[0]["match"] == "none"


@pytest.mark.parametrize(
    ("passage", "sentences"),
    [
        ("Mr. Smith went to Washington. He spoke.", ["Mr. Smith went to Washington.", "He spoke."]),
        ("The U.S. President spoke! Did he?", ["The U.S. President spoke!", "Did he?"]),
        ('"It is over." She left.', ['"It is over."', "She left."]),
        ("a wrapped\nline", ["a wrapped\nline"]),
        ("one paragraph\n\nanother", ["one paragraph", "another"]),
        ("e.g. this stays whole.", ["e.g. this stays whole."]),
    ],
)
def test_passages_split_into_sentences(passage, sentences):
    assert split_sentences(passage) == sentences


def test_normalised_offsets_map_back_to_the_original_code_points():
    text = "Say \u201chi\u201d\u2026  now"
    normalised = normalise(text)
    assert normalised.text == 'Say "hi"... now'
    assert text[slice(*normalised.span(4, 11))] == "\u201chi\u201d\u2026"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"passage": ""}, "passage"),
        ({"passage": "   "}, "passage"),
        ({"passage": 3}, "passage"),
        ({}, "passage"),
        ({"passage": "x", "extra": 1}, "extra"),
        ({"passage": "x", "source_id": "Not An Id"}, "source_id"),
        ({"passage": "It is. " * 51}, "passage"),
        (["x"], "_schema"),
    ],
)
def test_invalid_request_is_problem_422_naming_the_field(client, body, field):
    body = assert_problem(client.post("/v1/verify", json=body), 422)
    assert field in body["errors"]


def test_body_that_is_not_json_is_problem_400(client):
    assert_problem(client.post("/v1/verify", data="{", content_type="application/json"), 400)


def test_body_over_the_limit_is_problem_413(client):
    big = json.dumps({"passage": "x" * 70_000})
    assert_problem(client.post("/v1/verify", data=big, content_type="application/json"), 413)


def test_body_of_another_type_is_problem_415(client):
    assert_problem(client.post("/v1/verify", data="hello", content_type="text/plain"), 415)


def test_verify_round_trip_on_the_real_server(db_path, tmp_path, source_text):
    with running_server(db_path, tmp_path / "server.log") as (base_url, _):
        request = urllib.request.Request(
            f"{base_url}/v1/verify",
            data=json.dumps({"passage": AKANE.replace("Japanese", "Korean")}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert "RateLimit-Remaining" in response.headers
            [verdict] = json.load(response)["sentences"]
    assert verdict["match"] == "near"
    assert verdict["url"].startswith(base_url)
    assert source_text[verdict["start"] : verdict["end"]] == verdict["quote"]

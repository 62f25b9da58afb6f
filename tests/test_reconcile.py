"""The Reconciliation API 0.2 at /v1/reconcile, held against the spec's own JSON Schemas."""

import json
import urllib.parse
import urllib.request
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from flask.testing import FlaskClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from api.model.matching import candidates, normalise
from schemas.reconcile import MAX_BATCH
from tests.conftest import assert_problem
from tests.curation_data import JSON_HEADERS, SOURCE_ID, new_official
from tests.server_process import running_server

SCHEMAS = Path(__file__).parent / "reconciliation_schemas"
FORM = "application/x-www-form-urlencoded"


@cache
def spec_registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


def assert_valid(schema_file: str, instance) -> None:
    """The instance is valid under the vendored 0.2 schema (draft 7, as the spec's files are)."""
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, registry=spec_registry()).validate(instance)


def reconcile(client, queries: dict) -> dict:
    """POST a batch as OpenRefine does; the response must be a valid 0.2 result batch."""
    response = client.post("/v1/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert_valid("reconciliation-result-batch.json", body)
    return body


def results_of(client, query: dict) -> list[dict]:
    assert_valid("reconciliation-query-batch.json", {"q0": query})
    return reconcile(client, {"q0": query})["q0"]["result"]


def test_manifest_is_valid_under_the_0_2_schema_and_points_to_preview_view_and_suggest(client):
    response = client.get("/v1/reconcile")
    assert response.status_code == 200
    manifest = response.get_json()
    assert_valid("manifest.json", manifest)
    assert manifest["versions"] == ["0.2"]
    assert [t["id"] for t in manifest["defaultTypes"]] == ["official", "organization"]
    assert "extend" not in manifest
    view = manifest["view"]["url"].replace("{{id}}", "officials/donald-trump")
    assert client.get(view).get_json()["name"] == "Donald Trump"
    preview = manifest["preview"]["url"].replace("{{id}}", "officials/donald-trump")
    assert client.get(preview).status_code == 200
    suggest = manifest["suggest"]["entity"]
    assert client.get(suggest["service_path"], query_string={"prefix": "trump"}).status_code == 200


def test_a_batch_by_get_and_by_post_gets_the_same_valid_results_per_key(client):
    queries = {"a": {"query": "Donald Trump"}, "b": {"query": "International Criminal Court", "limit": 1}}
    got = client.get("/v1/reconcile", query_string={"queries": json.dumps(queries)})
    assert got.status_code == 200
    assert got.get_json() == reconcile(client, queries)
    assert set(got.get_json()) == {"a", "b"}
    assert len(got.get_json()["b"]["result"]) == 1


def test_an_exact_name_is_the_one_match_with_score_100_and_its_type(client):
    results = results_of(client, {"query": "Donald Trump"})
    best = results[0]
    assert (best["id"], best["score"], best["match"]) == ("officials/donald-trump", 100, True)
    assert best["type"] == [{"id": "official", "name": "Official"}]
    assert best["description"]
    assert [r["match"] for r in results[1:]] == [False] * (len(results) - 1)
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("DONALD   trump", "officials/donald-trump"),
        ("Tōmoko Akané", "officials/tomoko-akane"),
        ("  nicolas GUILLOU ", "officials/nicolas-guillou"),
        ("Netanyahu", "officials/benjamin-netanyahu"),  # an alias the article uses
        ("icc", "organizations/icc"),  # an organisation's alias
    ],
)
def test_accent_case_and_whitespace_variants_and_aliases_match(client, query, expected):
    best = results_of(client, {"query": query})[0]
    assert (best["id"], best["score"], best["match"]) == (expected, 100, True)


def test_a_typo_finds_the_record_with_a_score_below_exact_and_no_match(client):
    results = results_of(client, {"query": "Benjamin Netanyahoo"})
    assert results[0]["id"] == "officials/benjamin-netanyahu"
    assert 70 <= results[0]["score"] < 100
    assert not any(r["match"] for r in results)


def cited_official(record_id: str = "test-official", **changes) -> dict:
    """new_official whose citation also supports the aliases and wikidata_id it is given."""
    record = new_official(record_id, **changes)
    record["citations"][0]["supports"] += [field for field in ("aliases", "wikidata_id") if field in changes]
    return record


def test_a_name_two_records_share_matches_neither(client, writer):
    namesake = cited_official("test-namesake", name="Test Namesake", aliases=["Netanyahu"])
    response = client.post("/v1/officials", data=json.dumps(namesake), headers={**writer, **JSON_HEADERS})
    assert response.status_code == 201, response.get_data(as_text=True)
    results = results_of(client, {"query": "netanyahu"})
    exact = [r["id"] for r in results if r["score"] == 100]
    assert sorted(exact) == ["officials/benjamin-netanyahu", "officials/test-namesake"]
    assert not any(r["match"] for r in results)


def test_match_needs_exactly_one_equal_name_among_the_allowed_candidates():
    def entity(record_id, names):
        return {"id": record_id, "type": "official", "name": names[0], "names": set(names), "properties": {}}

    both = [entity("a", ["jane doe"]), entity("b", ["jane doe", "j. doe"])]
    assert [c["match"] for c in candidates(both, {"query": "Jane Doe"}, 10)] == [False, False]
    assert [(c["id"], c["match"]) for c in candidates(both, {"query": "j. doe"}, 10)][0] == ("b", True)


@pytest.mark.parametrize(
    "query, properties, expected",
    [
        ("Rodrigo Duterte", [{"pid": "country", "v": "philippines"}], ["officials/rodrigo-duterte"]),
        ("Rodrigo Duterte", [{"pid": "country", "v": "Israel"}], []),
        ("Tomoko Akane", [{"pid": "role", "v": "PRESIDENT"}], ["officials/tomoko-akane"]),
        ("Tomoko Akane", [{"pid": "role", "v": ["judge", "representative"]}], []),
        (
            "Nicolas Guillou",
            [{"pid": "organization", "v": {"id": "organizations/icc"}}],
            ["officials/nicolas-guillou"],
        ),
        ("Israel", [{"pid": "kind", "v": "state"}], ["organizations/israel"]),
    ],
)
def test_properties_narrow_the_candidates(client, query, properties, expected):
    results = results_of(client, {"query": query, "properties": properties})
    assert [r["id"] for r in results if r["score"] == 100] == expected
    assert all(r["id"] in expected or r["score"] < 100 for r in results)


def test_properties_alone_list_every_record_having_them_without_a_match(client):
    results = results_of(client, {"properties": [{"pid": "nationality", "v": "France"}]})
    assert [(r["id"], r["match"]) for r in results] == [("officials/nicolas-guillou", False)]


def test_a_query_with_nothing_left_once_normalised_has_no_candidates(client):
    assert results_of(client, {"query": "\u0301\u0301"}) == []


def test_a_type_restricts_the_candidates_to_that_collection(client):
    results = results_of(client, {"query": "ICC", "type": "official"})
    assert all(r["id"].startswith("officials/") for r in results)


@pytest.mark.parametrize(
    "queries, field",
    [
        ("{not json", "queries"),
        ('["a list"]', "queries"),
        ('{"q0": "Trump"}', "queries.q0._schema"),
        ('{"q0": {"query": "Trump", "limit": 0}}', "queries.q0.limit"),
        (json.dumps({"k" * 101: {"query": "Trump"}}), f"queries.{'k' * 101}.key"),
        ('{"q0": {"query": "Trump", "extra": 1}}', "queries.q0.extra"),
        ('{"q0": {"query": "Trump", "type": "warrant"}}', "queries.q0.type.0"),
        ('{"q0": {"query": " "}}', "queries.q0.query"),
        (
            '{"q0": {"query": "T", "properties": [{"pid": "height", "v": "1"}]}}',
            "queries.q0.properties.0.pid",
        ),
        (
            '{"q0": {"query": "T", "properties": [{"pid": "role", "v": [[]]}]}}',
            "queries.q0.properties.0.v",
        ),
    ],
)
def test_a_bad_queries_parameter_is_problem_400_naming_the_field(client, queries, field):
    body = assert_problem(client.post("/v1/reconcile", data={"queries": queries}), 400)
    assert field in body["errors"], body["errors"]
    assert client.get("/v1/reconcile", query_string={"queries": queries}).status_code == 400


def test_a_batch_over_the_cap_is_problem_413(client):
    queries = {f"q{i}": {"query": "Trump"} for i in range(MAX_BATCH + 1)}
    body = assert_problem(client.post("/v1/reconcile", data={"queries": json.dumps(queries)}), 413)
    assert str(MAX_BATCH) in body["detail"]
    full = {f"q{i}": {"query": "Trump"} for i in range(MAX_BATCH)}
    assert len(reconcile(client, full)) == MAX_BATCH


def test_an_oversized_body_is_problem_413(client):
    padding = json.dumps({"q0": {"query": "Trump"}}) + " " * 300_000
    assert_problem(client.post("/v1/reconcile", data={"queries": padding}), 413)


def test_a_json_body_is_problem_415_and_unknown_form_fields_400(client):
    response = client.post("/v1/reconcile", data='{"q0": {"query": "x"}}', headers=JSON_HEADERS)
    assert_problem(response, 415)
    body = assert_problem(client.post("/v1/reconcile", data={"queries": "{}", "callback": "f"}), 400)
    assert body["errors"] == {"callback": "Unknown parameter."}


@pytest.mark.parametrize(
    "method, url, data",
    [
        ("get", "/v1/reconcile", None),
        ("post", "/v1/reconcile", {"queries": '{"q0": {"query": "Trump"}}'}),
        ("post", "/v1/reconcile", {"queries": "{bad"}),
        ("get", "/v1/reconcile/suggest/entity?prefix=tr", None),
        ("get", "/v1/reconcile/preview?id=officials/lina-selg", None),
        ("get", "/v1/reconcile/preview?id=officials/nobody", None),
    ],
)
def test_every_reconcile_response_allows_any_origin(client, method, url, data):
    response = getattr(client, method)(url, data=data, headers={"Origin": "https://openrefine.example"})
    assert response.headers.getlist("Access-Control-Allow-Origin") == ["*"]


@pytest.mark.parametrize("asked", ["GET", "POST"])
def test_a_reconcile_preflight_keeps_its_own_cors_headers_once(app, asked):
    client = FlaskClient(app)  # OPTIONS preflights are not operations in the spec
    response = client.options(
        "/v1/reconcile",
        headers={"Origin": "https://openrefine.example", "Access-Control-Request-Method": asked},
    )
    for name in (
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
    ):
        assert len(response.headers.getlist(name)) == 1, name
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST"


@pytest.mark.parametrize(
    "prefix, expected",
    [
        ("neta", "officials/benjamin-netanyahu"),
        ("AKANÉ", "officials/tomoko-akane"),  # a later word of the name, accent and case ignored
        ("officials/yoav-gallant", "officials/yoav-gallant"),  # an id returns its entity
        ("Gall", "officials/yoav-gallant"),
    ],
)
def test_suggest_finds_names_by_prefix_in_the_0_2_shape(client, prefix, expected):
    response = client.get("/v1/reconcile/suggest/entity", query_string={"prefix": prefix})
    assert response.status_code == 200
    body = response.get_json()
    assert_valid("suggest-entities-response.json", body)
    assert body["result"][0]["id"] == expected
    assert body["result"][0]["notable"] == [{"id": "official", "name": "Official"}]


def test_suggest_pages_with_cursor_and_needs_a_prefix(client):
    first = client.get("/v1/reconcile/suggest/entity?prefix=i").get_json()["result"]
    later = client.get("/v1/reconcile/suggest/entity?prefix=i&cursor=1").get_json()["result"]
    assert later == first[1:11]
    assert_problem(client.get("/v1/reconcile/suggest/entity"), 400)


def test_preview_is_a_small_escaped_html_card_without_scripts(client):
    response = client.get("/v1/reconcile/preview", query_string={"id": "organizations/icc"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "International Criminal Court" in html and "Also: ICC" in html
    assert "<script" not in html and "style" not in html
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_preview_of_an_unknown_id_is_problem_404(client):
    assert_problem(client.get("/v1/reconcile/preview?id=warrants/x"), 404)


@pytest.mark.parametrize(
    "text, normal",
    [
        ("Tōmoko  AKANE", "tomoko akane"),
        ("Ｎｉｃｏｌａｓ", "nicolas"),
        ("Straße", "strasse"),
        ("U.S.", "u.s."),
    ],
)
def test_normalise_folds_accents_case_width_and_whitespace_but_keeps_punctuation(text, normal):
    assert normalise(text) == normal


def test_officials_accept_aliases_and_a_wikidata_id_and_reject_a_malformed_one(client, writer):
    good = cited_official(aliases=["T. Official"], wikidata_id="Q42")
    response = client.post("/v1/officials", data=json.dumps(good), headers={**writer, **JSON_HEADERS})
    assert response.status_code == 201, response.get_data(as_text=True)
    record = client.get("/v1/officials/test-official").get_json()
    assert (record["aliases"], record["wikidata_id"]) == (["T. Official"], "Q42")
    bad = cited_official("test-official-2", wikidata_id="Q042")
    body = assert_problem(
        client.post("/v1/officials", data=json.dumps(bad), headers={**writer, **JSON_HEADERS}), 422
    )
    assert "wikidata_id" in json.dumps(body["errors"])


def test_seed_aliases_are_name_forms_the_cited_article_itself_uses(client):
    source = client.get(f"/v1/sources/{SOURCE_ID}").get_json()["text"]
    for official in client.get("/v1/officials?limit=100").get_json()["data"]:
        for alias in official["aliases"]:
            cited = [c for c in official["citations"] if "aliases" in c["supports"]]
            assert any(alias in c["quote"] for c in cited), (official["id"], alias)
            assert alias in source
        assert official["wikidata_id"] is None  # the article gives none


def test_a_real_server_answers_openrefine_style_requests_with_cors(db_path, tmp_path):
    with running_server(db_path, tmp_path / "server.log") as (base, _):
        with urllib.request.urlopen(f"{base}/v1/reconcile") as response:
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert_valid("manifest.json", json.load(response))
        form = urllib.parse.urlencode({"queries": json.dumps({"q0": {"query": "Yoav Gallant"}})}).encode()
        request = urllib.request.Request(f"{base}/v1/reconcile", data=form, headers={"Content-Type": FORM})
        with urllib.request.urlopen(request) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            body = json.load(response)
        assert_valid("reconciliation-result-batch.json", body)
        assert body["q0"]["result"][0] | {"description": ""} == {
            "id": "officials/yoav-gallant",
            "name": "Yoav Gallant",
            "score": 100,
            "match": True,
            "type": [{"id": "official", "name": "Official"}],
            "description": "",
        }
        preflight = urllib.request.Request(
            f"{base}/v1/reconcile",
            method="OPTIONS",
            headers={"Origin": "https://openrefine.example", "Access-Control-Request-Method": "POST"},
        )
        with urllib.request.urlopen(preflight) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_the_api_index_links_the_manifest_which_links_the_rest(client):
    links = client.get("/v1").get_json()["links"]
    assert links["reconcile"].endswith("/v1/reconcile")
    assert not any(name.startswith("reconcile/") for name in links)

"""Full-text search: ranked hits with snippets across collections, q= on lists, any string is safe."""

import shutil

import pytest
import sqlite_utils
import tantivy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.model.collections import COLLECTIONS
from api.model.rendering import stamped
from api.store.paging import encode_cursor
from tests.conftest import assert_problem
from tests.test_records import fetch_all


def test_search_finds_what_was_said_about_pressure_with_highlighted_snippets(client):
    response = client.get("/v1/search?q=pressure&collections=statements")
    assert response.status_code == 200
    hits = response.get_json()["data"]
    assert "statement-tomoko-akane-no-pressure" in [h["id"] for h in hits]
    for hit in hits:
        assert hit["collection"] == "statements"
        assert "<mark>pressure</mark>" in hit["snippet"].lower()
        assert hit["url"].endswith(f"/v1/statements/{hit['id']}")


def test_search_spans_collections_best_hits_first(client):
    hits = client.get("/v1/search?q=gallant").get_json()["data"]
    assert {"warrants", "officials", "events"} <= {h["collection"] for h in hits}
    ranks = [h["rank"] for h in hits]
    assert ranks == sorted(ranks)


def test_search_pages_through_every_hit_in_rank_order(client):
    everything = client.get("/v1/search?q=court&limit=100").get_json()
    assert everything["links"]["next"] is None
    assert len(everything["data"]) > 5
    assert fetch_all(client, "/v1/search?q=court&limit=2") == everything["data"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        encode_cursor("search", [-1.5, "statements"]),
        encode_cursor("search", [-1.5, "statements", True]),
        encode_cursor("timeline", [-1.5, "statements", "x"]),
        # json.dumps writes the non-finite floats as NaN and Infinity, which json.loads reads back.
        encode_cursor("search", [float("nan"), "statements", "x"]),
        encode_cursor("search", [float("inf"), "statements", "x"]),
    ],
    ids=["garbage", "short", "bool", "another kind", "nan", "infinity"],
)
def test_search_cursor_not_issued_by_search_is_400(client, cursor):
    body = assert_problem(client.get(f"/v1/search?q=court&cursor={cursor}"), 400)
    assert "cursor" in body["errors"]


def test_stemming_matches_other_forms_of_a_word(client):
    hits = client.get("/v1/search?q=pressures&collections=statements").get_json()["data"]
    assert "statement-tomoko-akane-no-pressure" in [h["id"] for h in hits]


def test_trailing_star_is_a_prefix_search(client):
    hits = client.get("/v1/search?q=gall*&collections=officials").get_json()["data"]
    assert [h["id"] for h in hits] == ["yoav-gallant"]


def test_q_on_a_list_keeps_only_matching_records(client):
    response = client.get("/v1/warrants?q=gallant")
    assert response.status_code == 200
    assert [w["id"] for w in response.get_json()["data"]] == ["warrant-yoav-gallant"]


@pytest.mark.parametrize(
    "q",
    ['"unbalanced', "NEAR(", "*", "AND OR NOT", "title:court", "a" * 2000, "court)", "^x", "-", "'", "\\"],
)
@pytest.mark.parametrize("path", ["/v1/search", "/v1/statements", "/v1/sources"])
def test_fts_syntax_in_q_is_taken_literally(client, path, q):
    assert client.get(path, query_string={"q": q}).status_code == 200


@pytest.mark.parametrize("q", ["", "   ", "a" * 2001])
def test_empty_or_overlong_q_is_problem_400(client, q):
    body = assert_problem(client.get("/v1/search", query_string={"q": q}), 400)
    assert "q" in body["errors"]


def test_search_without_q_is_problem_400(client):
    assert "q" in assert_problem(client.get("/v1/search"), 400)["errors"]


def test_unknown_collection_to_search_is_problem_400(client):
    body = assert_problem(client.get("/v1/search?q=court&collections=warrants,nope"), 400)
    assert "nope" in body["errors"]["collections"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(min_size=1, max_size=60))
def test_any_string_is_answered_200_or_400_never_500(client, q):
    for path in ("/v1/search", "/v1/warrants"):
        response = client.get(path, query_string={"q": q})
        assert response.status_code in (200, 400), (path, q, response.get_data(as_text=True))


def test_records_written_after_the_build_are_searchable(client, db_path):
    db = sqlite_utils.Database(db_path)
    row = dict(db["officials"].get("tomoko-akane"), id="zelda-quux", name="Zelda Quux")
    row = stamped(COLLECTIONS["officials"], row)
    db["officials"].insert(row)
    db["officials"].update("zelda-quux", {"description": "Spokesperson on xylophonic matters."})
    db.conn.close()
    hits = client.get("/v1/search?q=xylophonic").get_json()["data"]
    assert [(h["collection"], h["id"]) for h in hits] == [("officials", "zelda-quux")]


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_every_collection_has_a_search_index(client, name):
    assert client.get(f"/v1/{name}?q=court").status_code == 200


def test_a_match_in_a_name_ranks_above_mentions_elsewhere(client):
    hits = client.get("/v1/search?q=akane").get_json()["data"]
    assert (hits[0]["collection"], hits[0]["id"]) == ("officials", "tomoko-akane")


def test_records_written_through_the_api_are_found_and_deleted_ones_are_not(client, writer, admin):
    from tests.curation_data import JSON_HEADERS, new_organization

    body = new_organization("quokka-watch", name="Quokka Watch")
    created = client.post("/v1/organizations", json=body, headers={**writer, **JSON_HEADERS})
    assert created.status_code == 201
    hits = client.get("/v1/search?q=quokka").get_json()["data"]
    assert [(h["collection"], h["id"]) for h in hits] == [("organizations", "quokka-watch")]
    url = "/v1/organizations/quokka-watch"
    deleted = client.delete(url, headers={**admin, "If-Match": created.headers["ETag"]})
    assert deleted.status_code == 204
    assert client.get("/v1/search?q=quokka").get_json()["data"] == []


def test_a_database_built_before_search_is_indexed_at_start_up(db_path):
    from api.web.app import create_app

    db = sqlite_utils.Database(db_path)
    for name in COLLECTIONS:
        db[name].disable_fts()
    db.execute("DROP TABLE _sqlite_migrations")  # such a database predates the migration record too
    db.conn.close()
    client = create_app({"DATABASE": str(db_path)}).test_client()
    response = client.get("/v1/search?q=gallant&collections=warrants")
    assert response.status_code == 200
    assert [h["id"] for h in response.get_json()["data"]] == ["warrant-yoav-gallant"]


def all_pages(client, url: str) -> list[list[str]]:
    """The ids of every page of a list, following links.next."""
    pages = []
    while url:
        body = client.get(url).get_json()
        pages.append([record["id"] for record in body["data"]])
        url = body["links"].get("next")
    return pages


@pytest.mark.parametrize(
    "url",
    [
        "/v1/statements?q=court&limit=2",
        "/v1/statements?q=court&limit=2&sort=-said",
        "/v1/officials?q=the&limit=1",
    ],
)
def test_q_pages_are_the_same_whether_a_word_matches_few_records_or_many(client, monkeypatch, url):
    monkeypatch.setattr(
        "api.store.search.MANY_MATCHES", 10**9
    )  # always "few": matches fetched by rowid, sorted
    few = all_pages(client, url)
    monkeypatch.setattr(
        "api.store.search.MANY_MATCHES", 1
    )  # always "many": the sort index walked, rows checked
    many = all_pages(client, url)
    assert len(few) > 1 and all(few)
    assert many == few


@pytest.mark.parametrize("probed", [0, 3, 10**9])
@pytest.mark.parametrize(
    "url", ["/v1/statements?q=court&limit=2", "/v1/statements?q=the&limit=3&sort=-said&facet=kind"]
)
def test_q_pages_are_the_same_however_many_rows_are_looked_up_one_by_one(client, monkeypatch, url, probed):
    monkeypatch.setattr("api.store.search.MANY_MATCHES", 10**9)
    few = all_pages(client, url)
    # The sort index walked, its first `probed` rows looked up in the full-text index, the rest
    # checked against every matching rowid.
    monkeypatch.setattr("api.store.search.MANY_MATCHES", 1)
    monkeypatch.setattr("api.store.search.PROBED_ROWS", probed)
    assert all_pages(client, url) == few


def test_probe_rows_allows_each_statement_its_own_count_of_lookups(monkeypatch):
    from api.store.search import ProbeBudget

    monkeypatch.setattr("api.store.search.PROBED_ROWS", 2)
    probe = ProbeBudget()
    assert [probe("a") for _ in range(3)] == [True, True, False]
    assert [probe("b") for _ in range(3)] == [True, True, False]


def test_has_many_matches_counts_matching_records_up_to_the_threshold(seed_db_path, monkeypatch):
    from api.store.db import connect
    from api.store.search import has_many_matches

    db = connect(str(seed_db_path), readonly=True)
    statements = COLLECTIONS["statements"]
    (matching,) = db.execute(
        "SELECT count(*) FROM statements_fts WHERE statements_fts MATCH ?", ['"court"']
    ).fetchone()
    assert matching > 1
    monkeypatch.setattr("api.store.search.MANY_MATCHES", matching)
    assert has_many_matches(db, statements, "court")
    monkeypatch.setattr("api.store.search.MANY_MATCHES", matching + 1)
    assert not has_many_matches(db, statements, "court")


def fts5_matches(db: sqlite_utils.Database, q: str) -> set[tuple[str, str]]:
    """Every (collection, id) FTS5 matches q with, across collections."""
    from api.store.search import fts_table, match_expression

    found = set()
    for name, collection in COLLECTIONS.items():
        fts = fts_table(collection)
        sql = (
            f"SELECT r.id FROM [{fts}] JOIN [{collection.table}] AS r ON r.rowid = [{fts}].rowid "
            f"WHERE [{fts}] MATCH ?"
        )
        found |= {(name, row[0]) for row in db.execute(sql, [match_expression(q)])}
    return found


def every_page(db: sqlite_utils.Database, q: str, limit: int) -> list[dict]:
    from api.store.ranking import read_page

    hits, args = [], {"q": q, "limit": limit}
    while True:
        page, cursor = read_page(db, args)
        hits.extend(page)
        if cursor is None:
            return hits
        args["cursor"] = cursor


SEARCHES = ["court", "the", "pressures", "Sanctions", "gall*", "icc court", "high-profile", "!!! court"]


@pytest.mark.parametrize("q", SEARCHES)
def test_ranked_search_finds_exactly_the_records_fts5_matches(seed_db_path, q):
    from api.store.db import connect

    db = connect(str(seed_db_path), readonly=True)
    hits = every_page(db, q, 1000)
    assert hits
    assert {(h["collection"], h["id"]) for h in hits} == fts5_matches(db, q)


@pytest.mark.parametrize("limit", [1, 3, 20])
@pytest.mark.parametrize("q", SEARCHES)
def test_search_pages_are_one_ranking_cut_into_pages(seed_db_path, q, limit):
    from api.store.db import connect
    from api.store.ranking import search_all

    db = connect(str(seed_db_path), readonly=True)
    every = search_all(db, q, list(COLLECTIONS), 1000)
    assert search_all(db, q, list(COLLECTIONS), limit) == every[:limit]
    assert every_page(db, q, limit) == every
    ranks = [hit["rank"] for hit in every]
    assert ranks == sorted(ranks)
    assert len({(h["collection"], h["id"]) for h in every}) == len(every)
    assert not db.conn.in_transaction


def test_every_hit_has_its_label_and_a_snippet_marking_the_word(seed_db_path):
    from api.store.db import connect
    from api.store.ranking import search_all

    db = connect(str(seed_db_path), readonly=True)
    for hit in search_all(db, "court", list(COLLECTIONS), 1000):
        table = COLLECTIONS[hit["collection"]].table
        label = db.execute(
            f"SELECT [{COLLECTIONS[hit['collection']].label_field}] FROM [{table}] WHERE id = ?", [hit["id"]]
        ).fetchone()[0]
        assert hit["label"] == label
        assert "<mark>" in hit["snippet"].lower(), hit


def test_records_deleted_with_plain_sql_leave_the_ranking(client, db_path):
    assert client.get("/v1/search?q=gallant&collections=warrants").get_json()["data"]
    db = sqlite_utils.Database(db_path)
    db.execute("DELETE FROM warrants WHERE id = 'warrant-yoav-gallant'")
    db.conn.commit()
    db.conn.close()
    assert client.get("/v1/search?q=gallant&collections=warrants").get_json()["data"] == []


def test_a_database_rebuilt_in_place_is_ranked_again_from_its_own_records(client, db_path):
    from seed.loader import build_database

    db = sqlite_utils.Database(db_path)
    row = dict(db["officials"].get("tomoko-akane"), id="zelda-quux", name="Zelda Quux")
    db["officials"].insert(stamped(COLLECTIONS["officials"], row))
    db.conn.close()
    assert client.get("/v1/search?q=zelda").get_json()["data"]
    build_database(db_path)  # a new change log: the index made for the old one is not reused
    assert client.get("/v1/search?q=zelda").get_json()["data"] == []
    assert client.get("/v1/search?q=gallant").get_json()["data"]


def test_a_bulk_load_is_ranked_and_leaves_the_queue_empty(tmp_path):
    from api.store.db import connect
    from api.store.ranking import QUEUE, search_all
    from seed.synth import add_synthetic_records

    path = tmp_path / "synth.db"
    add_synthetic_records(path, 300, seed=7)
    db = connect(str(path))
    assert db.execute(f"SELECT count(*) FROM {QUEUE}").fetchone()[0] == 0
    synthetic = db.execute("SELECT id, summary FROM statements WHERE id LIKE 'synth7-%' LIMIT 1").fetchone()
    assert synthetic, "the synthetic statements have ids of their seed"
    word = max(synthetic[1].split(), key=len).strip(".,;:'\"")
    hits = search_all(db, word, list(COLLECTIONS), 1000)
    assert synthetic[0] in {hit["id"] for hit in hits}
    assert {(h["collection"], h["id"]) for h in hits} == fts5_matches(db, word)


@pytest.mark.parametrize("cursor", [encode_cursor("search", [0]), encode_cursor("search", [10**9])])
def test_search_cursor_out_of_range_is_400(client, cursor):
    body = assert_problem(client.get(f"/v1/search?q=court&cursor={cursor}"), 400)
    assert "cursor" in body["errors"]


@pytest.fixture(scope="module")
def many_statements(tmp_path_factory):
    """A database with enough synthetic statements that "the", in every one's label, scores there
    under api.store.ranking.NEGLIGIBLE_SCORE."""
    from seed.synth import add_synthetic_records

    path = tmp_path_factory.mktemp("many") / "synth.db"
    add_synthetic_records(path, 8000, seed=3)
    return path


def statements_searcher(db: sqlite_utils.Database):
    from api.store.ranking import engine

    current = engine(db)
    return current.searchers(current.current(db), ["statements"])["statements"]


def place(hit) -> tuple[int, int]:
    """Where a (score, address) hit is in the index."""
    return hit[1].segment_ord, hit[1].doc


def test_a_word_in_every_label_of_many_records_is_ranked_by_the_fields_that_tell_them_apart(
    many_statements,
):
    from api.store.db import connect
    from api.store.ranking import NEGLIGIBLE_SCORE, any_field, best_hits, common_fields, parse

    db = connect(str(many_statements), readonly=True)
    searcher = statements_searcher(db)
    other = [("text", 1.0), ("notes", 0.5)]
    assert common_fields(searcher, "the") == ([("label", 4.0)], other)
    everything = searcher.num_docs
    full = searcher.search(parse("the"), everything, count=False).hits
    split = best_hits(searcher, parse("the"), "the", everything)
    # The same records, best first, each rank short of full BM25's by less than the label's share.
    assert sorted(map(place, split)) == sorted(map(place, full))
    scores = [score for score, _ in split]
    assert scores == sorted(scores, reverse=True)
    full_scores = {place(hit): hit[0] for hit in full}
    assert all(0 <= full_scores[place(hit)] - hit[0] < NEGLIGIBLE_SCORE for hit in split)
    # Records with the word elsewhere come first; those with it only in the label follow.
    elsewhere = set(map(place, searcher.search(any_field("the", other), everything, count=False).hits))
    assert 0 < len(elsewhere) < everything
    assert set(map(place, split[: len(elsewhere)])) == elsewhere


def test_pages_of_a_word_in_every_label_are_one_ranking_across_both_steps(many_statements):
    from api.store.db import connect

    db = connect(str(many_statements), readonly=True)
    every = every_page(db, "the", 1000)
    assert {(h["collection"], h["id"]) for h in every} == fts5_matches(db, "the")
    assert every_page(db, "the", 333) == every


def test_a_word_in_every_label_of_a_small_collection_still_counts_there(seed_db_path):
    # In the seed's ten statements "the" is in every label and some texts, as in the benchmark's
    # million; here the label's share of a rank is large enough to tell records apart.
    from api.store.db import connect
    from api.store.ranking import common_fields

    searcher = statements_searcher(connect(str(seed_db_path), readonly=True))
    assert searcher.doc_freq("label", "the") == searcher.num_docs
    assert 0 < searcher.doc_freq("text", "the") < searcher.num_docs
    assert common_fields(searcher, "the") is None


def test_deleted_records_still_in_the_index_count_against_a_word_being_common(many_statements, tmp_path):
    # Tantivy's BM25 counts deleted documents until a merge drops them. Here every live label has
    # "the" but 400 deleted ones, still counted, did not: the label's share is no longer negligible.
    from api.store.db import connect
    from api.store.ranking import EVERY, EVERY_TERM, best_hits, common_fields, parse

    path = tmp_path / "edited.db"
    shutil.copy(many_statements, path)
    db = connect(str(path))
    columns = [c.name for c in db["statements"].columns]
    copied = ", ".join(
        "'gone-' || id" if c == "id" else "'Gone'" if c == "summary" else f"[{c}]" for c in columns
    )
    with db.conn:
        db.execute(f"INSERT INTO statements SELECT {copied} FROM statements LIMIT 400")
    statements_searcher(db)
    with db.conn:
        db.execute("DELETE FROM statements WHERE id LIKE 'gone-%'")
    searcher = statements_searcher(db)
    assert searcher.num_docs == searcher.doc_freq("label", "the")
    assert searcher.doc_freq(EVERY, EVERY_TERM) == searcher.num_docs + 400, "the deletes are not merged away"
    assert common_fields(searcher, "the") is None
    everything = searcher.num_docs
    full = searcher.search(parse("the"), everything, count=False).hits
    split = best_hits(searcher, parse("the"), "the", everything)
    assert [(hit[0], place(hit)) for hit in split] == [(hit[0], place(hit)) for hit in full]


def searcher_of(documents: list[dict[str, str]]) -> tantivy.Searcher:
    """A searcher over an index in memory of these documents, each a text by field."""
    from api.store.ranking import ANALYSIS, ANALYZER, EVERY, EVERY_TERM, KEY, SCHEMA

    index = tantivy.Index(SCHEMA)
    index.register_tokenizer(ANALYZER, ANALYSIS)
    writer = index.writer(15_000_000, 1)
    for number, fields_text in enumerate(documents):
        writer.add_document(tantivy.Document(**{KEY: str(number), EVERY: EVERY_TERM, **fields_text}))
    writer.commit()
    index.reload()
    return index.searcher()


def test_fields_left_out_of_a_rank_share_less_than_the_negligible_score_together():
    # In 5,000 records with "the" in every label and every text, each field alone would be under the
    # bound (label 8.8e-4, text 2.2e-4) but not both: only the smaller is left out.
    from api.store.ranking import common_fields

    documents = [{"label": "The case", "text": "the warrant"} for _ in range(5000)]
    searcher = searcher_of(documents + [{"label": "The case", "text": "the warrant", "notes": "the"}])
    common, other = common_fields(searcher, "the")
    assert common == [("text", 1.0)]
    assert sorted(other) == [("label", 4.0), ("notes", 0.5)]


def test_hits_of_the_second_step_rank_no_higher_than_the_last_of_the_first():
    from api.store.ranking import followed_by

    first, rest = [(0.5, "a"), (0.2, "b")], [(0.3, "c"), (0.1, "d")]
    assert followed_by(first, rest) == [(0.5, "a"), (0.2, "b"), (0.2, "c"), (0.1, "d")]
    assert followed_by([], rest) == rest

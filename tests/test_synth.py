"""Synthetic records for benchmarks: valid like the seed, deterministic, and served by the API."""

import shutil

import pytest
import sqlite_utils
from click.testing import CliRunner

from api.cli import cli
from api.model.collections import COLLECTIONS
from api.model.provenance import citation_problems, reference_problems
from api.model.rows import from_row, row_etag
from api.store.check import check_database
from api.store.db import connect
from api.store.webhooks import create_subscription
from api.web.app import create_app
from seed import synth
from seed.loader import LOAD_ORDER, SeedError, insert_prepared, prepared_records, write_records
from seed.synth import Synthesizer, add_synthetic_records, checked, chunk_counts, generated_chunks
from tests.conftest import ContractClient

RECORDS = 300


@pytest.fixture(scope="module")
def synth_db_path(seed_db_path, tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "synth.db"
    shutil.copy(seed_db_path, path)
    add_synthetic_records(path, RECORDS, seed=7)
    return path


@pytest.fixture
def synth_client(synth_db_path):
    app = create_app({"DATABASE": str(synth_db_path), "TESTING": True})
    app.test_client_class = ContractClient
    return app.test_client()


def stored_records(path) -> dict[str, list[dict]]:
    db = sqlite_utils.Database(path)
    return {name: [from_row(COLLECTIONS[name], row) for row in db[name].rows] for name in LOAD_ORDER}


def synthetic(records: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {name: [r for r in rs if r["id"].startswith("synth")] for name, rs in records.items()}


@pytest.mark.parametrize("size", [1, 2, 3, 4, 35, 999, 1000])
def test_a_chunk_holds_exactly_its_size_with_the_records_others_refer_to(size):
    counts = chunk_counts(size)
    assert sum(counts.values()) == size
    assert counts["sources"] == 1
    if size > 2:
        assert counts["organizations"] >= 1 and counts["officials"] >= 1


def test_synth_adds_the_requested_number_of_records_mostly_statements(synth_db_path):
    counts = {name: len(rs) for name, rs in synthetic(stored_records(synth_db_path)).items()}
    assert sum(counts.values()) == RECORDS
    assert counts["statements"] > RECORDS / 2
    assert all(counts[name] > 0 for name in LOAD_ORDER)


def test_every_synthetic_citation_is_its_source_text_and_every_reference_exists(synth_db_path):
    records = stored_records(synth_db_path)
    texts = {source["id"]: source["text"] for source in records["sources"]}
    ids = {name: {r["id"] for r in rs} for name, rs in records.items()}
    checked = 0
    for name, rs in synthetic(records).items():
        for record in rs:
            assert citation_problems(record, texts) == {}
            assert reference_problems(COLLECTIONS[name], record, lambda t, v: v in ids[t]) == {}
            checked += len(record.get("citations", []))
    assert checked == RECORDS - len(synthetic(records)["sources"])


def test_synthetic_rows_carry_timestamps_and_their_content_etag(synth_db_path):
    db = sqlite_utils.Database(synth_db_path)
    for row in db["statements"].rows_where("id LIKE 'synth%'"):
        assert row["created_at"] and row["updated_at"]
        assert row["etag"] == row_etag(row)


def synthetic_content(path) -> dict[str, list[dict]]:
    """The synthetic records stored at path, without the timestamps that differ from run to run."""
    drop = {"created_at", "updated_at"}
    records = synthetic(stored_records(path))
    return {name: [{k: v for k, v in r.items() if k not in drop} for r in rs] for name, rs in records.items()}


def test_the_same_seed_gives_the_same_records(tmp_path):
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    add_synthetic_records(first, 120, seed=3)
    add_synthetic_records(second, 120, seed=3)
    assert synthetic_content(first) == synthetic_content(second)


def test_workers_do_not_change_the_records(tmp_path):
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    add_synthetic_records(one, 2500, seed=3, workers=0)
    add_synthetic_records(two, 2500, seed=3, workers=2)
    assert synthetic_content(one) == synthetic_content(two)


def test_bulk_insert_stores_what_write_records_stores(seed_db_path, tmp_path):
    (_, raws), *_ = generated_chunks(Synthesizer(4), 200)
    texts = {raws["sources"][0]["id"]: raws["sources"][0]["text"]}
    stamp = "2026-01-02T03:04:05Z"
    tables = [*LOAD_ORDER, "changes", "webhook_outbox", "sqlite_sequence"]

    def written(path, write):
        shutil.copy(seed_db_path, path)
        db = connect(str(path))
        for id, collections in [("wh_a", []), ("wh_b", ["statements"])]:
            subscription = create_subscription(db, "http://127.0.0.1:9/", collections, ["created"])
            # Fixed ids: each change's messages are in subscription id order, and these are random.
            db.execute("UPDATE webhook_subscriptions SET id = ? WHERE id = ?", [id, subscription["id"]])
        with db.atomic():
            for name in LOAD_ORDER:
                write(db, COLLECTIONS[name], [checked(name, raw, texts)[0] for raw in raws[name]])
        return {table: list(db.query(f"SELECT * FROM [{table}] ORDER BY rowid")) for table in tables}

    reference = written(tmp_path / "a.db", lambda db, c, rs: write_records(db, c, rs, "(synth)", stamp))
    bulk = written(
        tmp_path / "b.db", lambda db, c, rs: insert_prepared(db, prepared_records(c, rs, "(synth)", stamp))
    )
    assert len(reference["webhook_outbox"]) > 200
    assert bulk == reference


def test_a_load_that_fails_part_way_keeps_its_indexes_and_what_it_committed(db_path, monkeypatch):
    def schema():
        db = sqlite_utils.Database(db_path)
        try:
            return sorted(db.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
        finally:
            db.conn.close()

    before, chunks, write_chunk = schema(), [], synth.write_chunk

    def fail_at_the_second_chunk(*args):
        if chunks:
            raise SeedError(db_path, "synth0-source-2", {"id": "Refused."})
        chunks.append(write_chunk(*args))

    monkeypatch.setattr(synth, "write_chunk", fail_at_the_second_chunk)
    with pytest.raises(SeedError):
        add_synthetic_records(db_path, 2500)
    assert schema() == before
    db = sqlite_utils.Database(db_path)
    assert db["sources"].count_where("id LIKE 'synth%'") == 1
    assert (
        db.execute("SELECT count(*) FROM sources_fts WHERE sources_fts MATCH 'synthetic'").fetchone()[0] == 1
    )
    assert check_database(db).findings == []


def test_a_record_a_worker_refuses_stops_the_load_with_its_problem(db_path, monkeypatch):
    monkeypatch.setattr(synth, "with_support", lambda name, raw: raw)  # citations without supports
    with pytest.raises(SeedError, match="record synth0-organization-1: citations.0.supports: Missing"):
        add_synthetic_records(db_path, 50, workers=1)


@pytest.mark.parametrize("records", [1, 2, 5, 1001])
def test_any_count_builds_a_valid_database(seed_db_path, tmp_path, records):
    path = tmp_path / "db.db"
    shutil.copy(seed_db_path, path)
    counts = add_synthetic_records(path, records)
    assert sum(counts.values()) == records


def test_the_same_seed_twice_on_one_database_is_refused(seed_db_path, tmp_path):
    path = tmp_path / "db.db"
    shutil.copy(seed_db_path, path)
    add_synthetic_records(path, 10, seed=5)
    with pytest.raises(SeedError, match="seed 5"):
        add_synthetic_records(path, 10, seed=5)
    add_synthetic_records(path, 10, seed=6)


def test_synth_command_builds_a_missing_database_and_reports_counts(tmp_path):
    path = tmp_path / "new.db"
    result = CliRunner().invoke(cli, ["synth", "--db", str(path), "--records", "50", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "statements" in result.output
    assert sqlite_utils.Database(path)["warrants"].count == 4 + chunk_counts(50)["warrants"]


@pytest.mark.parametrize("args", [["--records", "0"], ["--records", "x"], ["--seed", "-1", "--records", "5"]])
def test_synth_command_rejects_bad_options(tmp_path, args):
    result = CliRunner().invoke(cli, ["synth", "--db", str(tmp_path / "x.db"), *args])
    assert result.exit_code == 2
    assert not (tmp_path / "x.db").exists()


def test_the_api_serves_synthetic_records(synth_client):
    response = synth_client.get("/v1/statements/synth7-statement-1")
    assert response.status_code == 200
    statement = response.get_json()
    assert statement["citations"][0]["source_id"] == "synth7-source-1"
    speaker = statement["speaker_official_id"]
    response = synth_client.get(f"/v1/statements?speaker_official_id={speaker}&limit=500")
    assert response.status_code == 200
    assert "synth7-statement-1" in [s["id"] for s in response.get_json()["data"]]


def test_icc_events_check_finds_nothing_wrong_in_a_synthetic_database(synth_db_path):
    report = check_database(sqlite_utils.Database(synth_db_path))
    assert report.findings == []
    assert report.records >= RECORDS


def test_every_synthetic_record_has_its_created_entry_in_the_change_log(synth_db_path):
    db = sqlite_utils.Database(synth_db_path)
    logged = db.execute(
        "SELECT count(*) FROM changes WHERE actor = '(synth)' AND action = 'created'"
    ).fetchone()[0]
    assert logged == RECORDS

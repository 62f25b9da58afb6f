"""The curated data: every citation is the source's exact text, and bad seed files fail loudly."""

import hashlib
import shutil
from pathlib import Path

import pytest
import sqlite_utils
import yaml

from api.model.collections import COLLECTIONS
from api.model.rows import from_row
from seed.loader import SEED_DIR, SeedError, build_database, read_seed

SOURCE_FILE = SEED_DIR / "sources" / "000_507a25e1b3414e3f.txt"


def test_seed_source_is_the_article_with_its_recorded_sha256():
    digest = hashlib.sha256(SOURCE_FILE.read_bytes()).hexdigest()
    recorded = (SEED_DIR / "sources" / "SHA256SUMS").read_text().split()[0]
    assert digest == recorded == "bc55866d0856e9cca40407f998cbfc9a57fe29de86cc76e86005e73cf6a0d396"


def test_every_citation_in_the_database_is_the_source_text_at_its_offsets(seed_db_path):
    db = sqlite_utils.Database(seed_db_path)
    texts = {row["id"]: row["text"] for row in db["sources"].rows}
    checked = 0
    for name, collection in COLLECTIONS.items():
        if name == "sources":
            continue
        for row in db[collection.table].rows:
            record = from_row(collection, row)
            assert record["citations"], f"{name}/{record['id']} has no citation"
            for citation in record["citations"]:
                text = texts[citation["source_id"]]
                assert text[citation["start"] : citation["end"]] == citation["quote"]
                checked += 1
    assert checked > 100


def test_every_named_person_in_the_article_is_an_official():
    names = {r["name"] for r in read_seed()["officials"]}
    assert names >= {
        "Donald Trump",
        "Benjamin Netanyahu",
        "Yoav Gallant",
        "Tomoko Akane",
        "Nicolas Guillou",
        "Danya Chaikel",
        "Reed Rubinstein",
        "Rodrigo Duterte",
    }


def test_sanctions_keep_the_article_counts_of_each_target_group():
    counts = {r["target_description"]: r["target_count"] for r in read_seed()["sanctions"]}
    assert counts["three prosecutors"] == 3
    assert counts["six judges"] == 3 * 2
    assert counts["three Palestinian human rights organizations"] == 3
    assert counts["a UN special rapporteur"] == 1


@pytest.fixture
def seed_copy(tmp_path):
    copy = tmp_path / "seed"
    shutil.copytree(SEED_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return copy


def edit_first_record(seed_dir: Path, file: str, change) -> None:
    path = seed_dir / "data" / file
    records = yaml.safe_load(path.read_text())
    change(records[0])
    path.write_text(yaml.safe_dump(records, sort_keys=False))


def shift_quote(record):
    record["citations"][0]["start"] += 1
    record["citations"][0]["end"] += 1


def set_key(key, value):
    return lambda record: record.__setitem__(key, value)


BROKEN_SEEDS = [
    ("warrants.yaml", shift_quote, "citations.0.quote"),
    ("warrants.yaml", set_key("citations", []), "citations"),
    ("warrants.yaml", set_key("status", "pending"), "status"),
    ("warrants.yaml", set_key("subject_official_id", "nobody-at-all"), "subject_official_id"),
    ("warrants.yaml", set_key("invented_field", 1), "invented_field"),
    ("officials.yaml", set_key("id", "Not A Slug"), "id"),
    ("events.yaml", set_key("date", {"date": "2025-11", "precision": "day"}), "date.precision"),
    ("statements.yaml", lambda r: r.update(kind="reported", reported_by_id=None), "reported_by_id"),
    ("statements.yaml", lambda r: r.update(kind="quote", reported_by_id="huffpost"), "reported_by_id"),
]


@pytest.mark.parametrize(("file", "change", "field"), BROKEN_SEEDS)
def test_loading_fails_naming_file_record_and_field(seed_copy, tmp_path, file, change, field):
    edit_first_record(seed_copy, file, change)
    with pytest.raises(SeedError) as raised:
        build_database(tmp_path / "out.db", seed_copy)
    assert raised.value.file.name == file
    assert field in raised.value.problems
    assert file in str(raised.value) and field in str(raised.value)
    assert not (tmp_path / "out.db").exists()


def test_duplicate_ids_fail_loading(seed_copy, tmp_path):
    path = seed_copy / "data" / "events.yaml"
    records = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump([*records, records[0]], sort_keys=False))
    with pytest.raises(SeedError, match="Duplicate id"):
        build_database(tmp_path / "out.db", seed_copy)


def test_changed_source_text_fails_its_sha256_check(seed_copy, tmp_path):
    source = seed_copy / "sources" / SOURCE_FILE.name
    source.write_text(source.read_text().replace("125", "126"))
    with pytest.raises(SeedError, match="sha256"):
        build_database(tmp_path / "out.db", seed_copy)


def test_rebuilding_replaces_the_database_with_the_same_records(tmp_path):
    path = tmp_path / "icc-events.db"
    first = build_database(path)
    second = build_database(path)
    assert first == second
    db = sqlite_utils.Database(path)
    assert {name: db[name].count for name in first} == first
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

"""`icc-events check`: a sound database passes; each kind of damage is found, named and fails the run."""

import json
import shutil

import pytest
import sqlite_utils
from click.testing import CliRunner

from api.cli import cli
from api.model.collections import COLLECTIONS
from api.store.check import check_database
from api.store.db import connect

WARRANT = "warrant-benjamin-netanyahu"


def set_in_citations(path: str, value: str) -> str:
    return f"UPDATE warrants SET citations = json_set(citations, '{path}', {value}) WHERE id = '{WARRANT}'"


def damaged(db_path, *statements: str) -> list[str]:
    """Run the statements on the database, then check it; the findings as text."""
    db = sqlite_utils.Database(db_path)
    for statement in statements:
        db.execute(statement)
    db.conn.close()
    db = connect(str(db_path))
    try:
        return [str(finding) for finding in check_database(db).findings]
    finally:
        db.conn.close()


def test_seed_database_passes_every_check(db_path):
    result = CliRunner().invoke(cli, ["check", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "No problems found." in result.stdout
    assert "citations" in result.stdout


def test_check_reports_field_coverage_and_basis_per_collection(db_path):
    result = CliRunner().invoke(cli, ["check", "--db", str(db_path), "--json"])
    assert result.exit_code == 0, result.output
    coverage = json.loads(result.stdout)["coverage"]
    assert set(coverage) == set(COLLECTIONS) - {"sources"}
    for counts in coverage.values():
        assert counts["supported"] == counts["values"] > 0
        assert counts["stated"] + counts["attributed"] + counts["inferred"] == counts["supported"]
    assert coverage["statements"]["attributed"] > 0
    text = CliRunner().invoke(cli, ["check", "--db", str(db_path)]).stdout
    assert "warrants: " in text and " values cited (" in text


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (
            [set_in_citations("$[0].quote", "'Invented'")],
            f"[citation] warrants/{WARRANT}: citations.0.quote: Not the source text",
        ),
        (
            [set_in_citations("$[0].end", "10000000")],
            f"[citation] warrants/{WARRANT}: citations.0.end: Past the end of the source",
        ),
        (
            [set_in_citations("$[0].supports", "json_array('subject_official_id')")],
            f"[support] warrants/{WARRANT}: crimes: No citation supports this field",
        ),
        (
            [set_in_citations("$[0].supports", "json_array('nowhere')")],
            f"[support] warrants/{WARRANT}: citations.0.supports.0: 'nowhere' is not a field of warrants.",
        ),
        (
            [f"UPDATE warrants SET subject_official_id = 'nobody' WHERE id = '{WARRANT}'"],
            f"[reference] warrants/{WARRANT}: subject_official_id: No officials record with id 'nobody'.",
        ),
        (
            ["DELETE FROM officials WHERE id = 'benjamin-netanyahu'"],
            f"[reference] warrants/{WARRANT}: subject_official_id: No officials record",
        ),
        (
            [f"UPDATE warrants SET etag = 'stale' WHERE id = '{WARRANT}'"],
            f"[etag] warrants/{WARRANT}: The stored etag is not the digest of the row.",
        ),
        (
            ["UPDATE sources SET text = text || ' ' "],
            "[source] sources/trump-campaign-against-icc-faces-resistance: sha256 does not match the text.",
        ),
        (
            [f"UPDATE warrants SET citations = '[{{' WHERE id = '{WARRANT}'"],
            f"[row] warrants/{WARRANT}: Cannot be read:",
        ),
        (["DROP TABLE events"], "[schema] events: The table is missing."),
        # official_ids: a column no index or search trigger depends on, so SQLite lets it go.
        (["ALTER TABLE events DROP COLUMN official_ids"], "[schema] events: Missing columns: official_ids."),
    ],
    ids=[
        "quote-changed",
        "span-past-end",
        "field-no-longer-supported",
        "supports-unknown-field",
        "dangling-reference",
        "deleted-target",
        "stale-etag",
        "source-text-changed",
        "unreadable-json",
        "missing-table",
        "missing-column",
    ],
)
def test_damage_is_found_and_named(db_path, statements, expected):
    findings = damaged(db_path, *statements)
    assert any(finding.startswith(expected) for finding in findings), findings


def test_full_text_index_in_step_passes_and_out_of_step_is_found(db_path):
    db = sqlite_utils.Database(db_path)
    report = check_database(db)  # every collection is built with its full-text index
    assert report.ok and report.fts_tables == len(COLLECTIONS)
    db.execute("DROP TRIGGER warrants_au")  # later updates no longer reach the index
    db.conn.close()
    findings = damaged(db_path, f"UPDATE warrants SET notes = 'Edited' WHERE id = '{WARRANT}'")
    fts = [f for f in findings if f.startswith("[fts]")]
    assert len(fts) == 1 and fts[0].startswith("[fts] warrants_fts: The full-text index is out of step")


def test_damaged_file_fails_with_a_readable_report(db_path, tmp_path):
    broken = tmp_path / "broken.db"
    shutil.copy(db_path, broken)
    data = bytearray(broken.read_bytes())
    for page in range(2, 8):  # overwrite b-tree page headers
        data[page * 4096 : page * 4096 + 12] = b"\x0d\x00\x00\x00\xff\xff\xff\xff\xff\x00\x00\x00"
    broken.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["check", "--db", str(broken)])
    assert result.exit_code == 1
    assert "[integrity] database:" in result.stdout
    assert "problem(s) found" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100])
def test_file_that_is_not_a_database_fails_check(tmp_path, content):
    path = tmp_path / "junk.db"
    path.write_bytes(content)
    result = CliRunner().invoke(cli, ["check", "--db", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_missing_database_fails_check_without_creating_one(tmp_path):
    path = tmp_path / "missing.db"
    result = CliRunner().invoke(cli, ["check", "--db", str(path)])
    assert result.exit_code == 1
    assert "No database at" in result.stderr
    assert not path.exists()


def test_check_reports_every_problem_not_just_the_first(db_path):
    result = CliRunner().invoke(cli, ["check", "--db", str(db_path)])
    assert result.exit_code == 0
    damaged(db_path, f"UPDATE warrants SET etag = 'x' WHERE id = '{WARRANT}'", "UPDATE events SET etag = 'x'")
    result = CliRunner().invoke(cli, ["check", "--db", str(db_path)])
    assert result.exit_code == 1
    events = sqlite_utils.Database(db_path)["events"].count
    assert result.stdout.count("[etag]") == events + 1


def test_json_report_lists_each_finding_and_sets_the_exit_status(db_path):
    result = CliRunner().invoke(cli, ["check", "--db", str(db_path), "--json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["findings"] == [] and report["records"] > 0
    damaged(db_path, f"UPDATE warrants SET etag = 'x' WHERE id = '{WARRANT}'")
    result = CliRunner().invoke(cli, ["check", "--db", str(db_path), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    [finding] = report["findings"]
    assert finding == {
        "check": "etag",
        "where": f"warrants/{WARRANT}",
        "message": "The stored etag is not the digest of the row.",
    }

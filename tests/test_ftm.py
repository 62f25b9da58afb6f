"""The FollowTheMoney export: every entity valid for the followthemoney library, linked, stably named."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from followthemoney import model

from api.bulk import read_records, read_transaction
from api.cli import cli
from api.ftm import MAPPED, ftm_lines

SOURCE_ID = "trump-campaign-against-icc-faces-resistance"


def parse_ndjson(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def entities(client) -> dict[str, dict]:
    response = client.get("/v1/export/ftm")
    assert response.status_code == 200
    return {e["id"]: e for e in parse_ndjson(response.get_data(as_text=True))}


def test_ftm_export_is_an_ndjson_attachment(client):
    response = client.get("/v1/export/ftm")
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    assert response.headers["Content-Disposition"] == "attachment; filename=icc-events.ftm.json"


def test_every_entity_is_valid_for_its_followthemoney_schema(entities):
    for entity in entities.values():
        schema = model.get(entity["schema"])
        assert schema is not None and not schema.abstract, entity["id"]
        assert set(schema.required) <= set(entity["properties"]), entity["id"]
        assert schema.validate(entity) is None
        for name, values in entity["properties"].items():
            prop = schema.get(name)
            assert prop is not None, f"{entity['id']}: {entity['schema']} has no property {name}"
            # Already clean: the library would store exactly these values.
            assert [prop.type.clean(v) for v in values] == values, (entity["id"], name)
        assert model.get_proxy(entity).to_dict()["properties"].keys() == entity["properties"].keys()


def test_every_entity_reference_points_at_an_exported_entity_of_the_right_schema(entities):
    for entity in entities.values():
        schema = model.get(entity["schema"])
        for name, values in entity["properties"].items():
            prop = schema.get(name)
            if prop.type.name != "entity":
                continue
            for value in values:
                assert value in entities, f"{entity['id']}.{name} -> {value} is not exported"
                assert model.get(entities[value]["schema"]).is_a(prop.range), (entity["id"], name)


@pytest.mark.parametrize(
    ("entity_id", "schema"),
    [
        (f"icc-events-source-{SOURCE_ID}", "Article"),
        ("icc-events-organization-icc", "PublicBody"),
        ("icc-events-organization-us-government", "PublicBody"),
        ("icc-events-organization-international-federation-for-human-rights", "Organization"),
        ("icc-events-organization-amazon", "Company"),
        ("icc-events-official-tomoko-akane", "Person"),
        ("icc-events-occupancy-tomoko-akane", "Occupancy"),
        ("icc-events-position-icc-president", "Position"),
        ("icc-events-warrant-warrant-benjamin-netanyahu", "CourtCase"),
        ("icc-events-warrant-subject-warrant-benjamin-netanyahu", "CourtCaseParty"),
        ("icc-events-sanction-sanctions-us-six-icc-judges", "Sanction"),
        ("icc-events-sanction-target-sanctions-us-six-icc-judges", "LegalEntity"),
        ("icc-events-event-event-duterte-arrest", "Event"),
    ],
)
def test_entity_ids_are_derived_from_ours(entities, entity_id, schema):
    assert entities[entity_id]["schema"] == schema


def test_every_record_but_statements_becomes_an_entity(entities, client):
    for collection, kind in [
        ("sources", "source"),
        ("organizations", "organization"),
        ("officials", "official"),
        ("warrants", "warrant"),
        ("sanctions", "sanction"),
        ("events", "event"),
    ]:
        response = client.get(f"/v1/{collection}?limit=500")
        assert response.status_code == 200
        for record in response.get_json()["data"]:
            assert f"icc-events-{kind}-{record['id']}" in entities


def test_official_holds_a_position_through_an_occupancy(entities):
    occupancy = entities["icc-events-occupancy-yoav-gallant"]["properties"]
    assert occupancy["holder"] == ["icc-events-official-yoav-gallant"]
    assert occupancy["status"] == ["ended"]
    post = entities[occupancy["post"][0]]["properties"]
    assert post["name"] == ["Security Minister, Israel"]
    assert post["organization"] == ["icc-events-organization-israel"]


def test_warrant_is_a_court_case_with_its_named_subject_as_party(entities):
    case = entities["icc-events-warrant-warrant-benjamin-netanyahu"]["properties"]
    assert case["court"] == ["International Criminal Court"]
    assert case["fileDate"] == ["2024"]  # "late 2024": year precision, never an invented day
    assert {"war_crimes", "crimes_against_humanity"} <= set(case["keywords"])
    assert any(note.startswith("Withdrawal attempt: ") for note in case["notes"])
    party = entities["icc-events-warrant-subject-warrant-benjamin-netanyahu"]["properties"]
    assert party["case"] == ["icc-events-warrant-warrant-benjamin-netanyahu"]
    assert party["party"] == ["icc-events-official-benjamin-netanyahu"]
    assert "wanted" in entities["icc-events-official-benjamin-netanyahu"]["properties"]["topics"]


def test_warrant_with_a_described_subject_keeps_it_in_the_description(entities):
    case = entities["icc-events-warrant-warrant-taliban-leaders"]["properties"]
    assert "Subject: Taliban leaders in Afghanistan" in case["description"]
    assert "icc-events-warrant-subject-warrant-taliban-leaders" not in entities


def test_sanction_on_an_unnamed_group_targets_a_legal_entity_that_says_so(entities):
    sanction = entities["icc-events-sanction-sanctions-us-six-icc-judges"]["properties"]
    assert sanction["entity"] == ["icc-events-sanction-target-sanctions-us-six-icc-judges"]
    assert sanction["authority"] == ["US government (Trump administration)"]
    assert sanction["country"] == ["us"]
    assert sanction["provisions"] == ["Loss of bank access", "Ban on commercial services", "Travel ban"]
    target = entities[sanction["entity"][0]]["properties"]
    assert target["name"] == ["six judges"]
    assert "not an identified person or organization" in target["summary"][0]


def test_the_article_is_a_document_with_its_text_and_hashes(entities, client):
    source = client.get(f"/v1/sources/{SOURCE_ID}").get_json()
    article = entities[f"icc-events-source-{SOURCE_ID}"]["properties"]
    assert article["bodyText"] == [source["text"]]
    assert article["contentHash"] == [hashlib.sha1(source["text"].encode()).hexdigest()]
    assert f"SHA-256 of the text: {source['sha256']}" in article["notes"]


def test_every_cited_entity_offers_the_article_as_proof(entities):
    for entity_id in ["icc-events-official-donald-trump", "icc-events-sanction-sanctions-us-six-icc-judges"]:
        assert entities[entity_id]["properties"]["proof"] == [f"icc-events-source-{SOURCE_ID}"]


def test_cli_export_writes_what_the_endpoint_serves_and_ftm_validate_leaves_it_unchanged(
    client, db_path, tmp_path
):
    out = tmp_path / "icc-events.ftm.json"
    result = CliRunner().invoke(cli, ["export", "--format", "ftm", "--db", str(db_path), str(out)])
    assert result.exit_code == 0, result.output
    served = client.get("/v1/export/ftm").get_data(as_text=True)
    assert out.read_text(encoding="utf-8") == served
    # The followthemoney command line re-parses every entity: nothing of ours may change.
    ftm = Path(sys.executable).parent / "ftm"
    checked = tmp_path / "checked.json"
    subprocess.run([str(ftm), "validate", "-i", str(out), "-o", str(checked)], check=True)
    assert [fact_part(e) for e in parse_ndjson(checked.read_text(encoding="utf-8"))] == [
        fact_part(e) for e in parse_ndjson(served)
    ]


def fact_part(entity: dict) -> tuple:
    """What an entity asserts; ftm validate rewrites the bookkeeping keys (datasets, first_seen...)."""
    return entity["id"], entity["schema"], entity["properties"]


def test_export_reads_only_the_collections_the_mapping_uses(db_path):
    with read_transaction(db_path) as db:
        every = list(ftm_lines(read_records(db)))
        mapped = list(ftm_lines(read_records(db, MAPPED)))
    assert mapped == every  # statements, three in four records, are not held in memory for nothing
    assert "statements" not in MAPPED

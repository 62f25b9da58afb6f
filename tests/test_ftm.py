"""The FollowTheMoney export: every entity valid for the followthemoney library, linked, stably named."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from followthemoney import model

from api.cli import cli
from api.exports.bulk import read_records, read_transaction
from api.exports.ftm import MAPPED, ftm_lines
from api.model.collections import COLLECTIONS

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
        ("icc-events-sanction-sanctions-us-six-icc-judges", "Event"),
        ("icc-events-event-event-duterte-arrest", "Event"),
        ("icc-events-statement-statement-tomoko-akane-no-pressure", "Documentation"),
    ],
)
def test_entity_ids_are_derived_from_ours(entities, entity_id, schema):
    assert entities[entity_id]["schema"] == schema


# Collection -> the kind in its entity ids (icc-events-<kind>-<id>).
ENTITY_KINDS = {
    "sources": "source",
    "organizations": "organization",
    "officials": "official",
    "warrants": "warrant",
    "sanctions": "sanction",
    "events": "event",
    "statements": "statement",
}


def test_every_record_but_an_unnamed_group_becomes_an_entity(entities, client):
    for collection, kind in ENTITY_KINDS.items():
        response = client.get(f"/v1/{collection}?limit=500")
        assert response.status_code == 200
        for record in response.get_json()["data"]:
            unnamed = collection == "organizations" and record["kind"] == "group"
            assert (f"icc-events-{kind}-{record['id']}" in entities) != unnamed, record["id"]


def test_an_unnamed_group_is_text_on_the_records_that_mention_it(entities):
    assert "icc-events-organization-israeli-prosecutors" not in entities
    event = entities["icc-events-event-event-trump-supports-netanyahu-pardon-effort"]["properties"]
    assert "Also involved: Israeli prosecutors" in event["description"]
    assert "icc-events-official-benjamin-netanyahu" in event["involved"]


def seed_records() -> dict[str, list[dict]]:
    from seed.loader import read_seed

    return read_seed()


@pytest.mark.parametrize("statement", seed_records()["statements"], ids=lambda s: s["id"])
def test_every_statement_is_the_articles_documentation_of_its_speaker(entities, statement):
    documentation = entities[f"icc-events-statement-{statement['id']}"]
    assert documentation["schema"] == "Documentation"
    assert not model.get("Documentation").matchable
    properties = documentation["properties"]
    assert properties["document"] == [f"icc-events-source-{SOURCE_ID}"]
    speakers = [
        *(
            [f"icc-events-official-{statement['speaker_official_id']}"]
            if statement["speaker_official_id"]
            else []
        ),
        *(
            [f"icc-events-organization-{statement['speaker_organization_id']}"]
            if statement["speaker_organization_id"]
            else []
        ),
    ]
    speakers = [speaker for speaker in speakers if speaker in entities]  # an unnamed group has none
    assert properties["entity"][: len(speakers)] == speakers
    assert properties["summary"] == [statement["summary"]]
    assert properties.get("date") == ([statement["said"]["date"]] if statement["said"]["date"] else None)
    if statement["quote"]:
        assert properties["description"][0] == statement["quote"]
    assert properties["recordId"] == [statement["id"]]


def test_a_statement_links_what_it_is_about_and_who_reported_it(entities):
    properties = entities["icc-events-statement-statement-member-governments-wont-bow-to-us-pressure"][
        "properties"
    ]
    # The member states are a group (no matchable entity): the statement documents the assembly.
    assert properties["entity"] == ["icc-events-event-event-icc-member-states-annual-assembly"]
    assert properties["role"] == ["Reported statement by ICC member states, as reported by HuffPost"]
    assert properties["publisher"] == ["HuffPost"]


@pytest.mark.parametrize("collection", [c for c in ENTITY_KINDS if c != "sources"])
def test_every_citation_is_carried_with_its_support_and_basis_on_its_entity(entities, collection):
    for record in seed_records()[collection]:
        entity = entities.get(f"icc-events-{ENTITY_KINDS[collection]}-{record['id']}")
        if entity is None:  # an unnamed group: its record has no entity
            continue
        for citation in record["citations"]:
            passage = (
                f"Cited from {citation['source_id']}, characters {citation['start']}-{citation['end']}, "
                f"supporting {', '.join(citation['supports'])} ({citation['basis']}"
            )
            quote = f"\u201c{citation['quote']}\u201d"
            found = [d for d in entity["properties"]["description"] if d.startswith(passage)]
            assert any(d.endswith(quote) for d in found), (record["id"], citation["start"])


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


def test_sanction_on_an_unnamed_group_is_an_event_not_a_matchable_entity(entities):
    sanction = entities["icc-events-sanction-sanctions-us-six-icc-judges"]
    assert sanction["schema"] == "Event" and not model.get("Event").matchable
    properties = sanction["properties"]
    assert properties["name"] == ["US sanctions on six judges"]
    assert properties["involved"] == [
        "icc-events-organization-us-government",
        "icc-events-official-donald-trump",
    ]
    assert {"Loss of bank access", "Ban on commercial services", "Travel ban"} <= set(properties["keywords"])
    assert "Target: six judges (6), not an identified person or organization" in properties["description"]


def test_only_named_people_and_organizations_are_matchable(entities):
    matchable = {e["id"] for e in entities.values() if model.get(e["schema"]).matchable}
    assert matchable and all(
        i.startswith(("icc-events-official-", "icc-events-organization-", "icc-events-position-"))
        for i in matchable
    ), sorted(matchable)
    assert "LegalEntity" not in {e["schema"] for e in entities.values()}


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


def test_export_reads_every_collection(db_path):
    with read_transaction(db_path) as db:
        assert list(ftm_lines(read_records(db))) == list(ftm_lines(read_records(db, MAPPED)))
    assert set(MAPPED) == set(COLLECTIONS)

"""The FtM mapping on records the seed does not have: long roles, unknown countries, no organization."""

import copy

import pytest
from followthemoney import model

from api.exports.ftm import MAX_ID_LENGTH, country_code, entity_id, ftm_entities
from seed.loader import read_seed


@pytest.fixture(scope="module")
def seed_records():
    return read_seed()


def entities_of(records) -> dict[str, dict]:
    return {e["id"]: e for e in ftm_entities(records)}


def with_official(records, **changes) -> dict:
    edited = copy.deepcopy(records)
    edited["officials"][0].update(changes)
    return edited


@pytest.mark.parametrize(
    ("name", "code"),
    [("United States", "us"), ("Japan", "jp"), ("US", "us"), ("Narnia", None), ("", None), (None, None)],
)
def test_country_names_become_lowercase_iso_codes_or_nothing(name, code):
    assert country_code(name) == code


def test_an_id_that_would_be_too_long_is_hashed_stably():
    long_id = "x" * 300
    assert len(entity_id("position", long_id)) <= MAX_ID_LENGTH
    assert entity_id("position", long_id) == entity_id("position", long_id)
    assert entity_id("position", long_id) != entity_id("position", long_id + "y")


def test_a_long_role_still_gives_a_valid_position(seed_records):
    records = with_official(seed_records, role="Deputy " * 40 + "Minister")
    entities = entities_of(records)
    occupancy = entities[f"icc-events-occupancy-{records['officials'][0]['id']}"]
    post = entities[occupancy["properties"]["post"][0]]
    assert len(post["id"]) <= MAX_ID_LENGTH
    assert model.get("Position").validate(post) is None


def test_an_official_without_organization_or_known_country_holds_a_bare_position(seed_records):
    records = with_official(seed_records, organization_id=None, country="Narnia", role="Envoy")
    entities = entities_of(records)
    person = entities[f"icc-events-official-{records['officials'][0]['id']}"]["properties"]
    assert "country" not in person
    post = entities["icc-events-position-none-envoy"]["properties"]
    assert post == {"name": ["Envoy"], "proof": person["proof"]}


def test_officials_sharing_a_post_share_one_position(seed_records):
    records = copy.deepcopy(seed_records)
    second = copy.deepcopy(records["officials"][0])
    second.update(id="someone-else", name="Someone Else")
    records["officials"].append(second)
    exported = list(ftm_entities(records))
    ids = [e["id"] for e in exported]
    assert len(ids) == len(set(ids))
    posts = {e["properties"]["post"][0] for e in exported if e["schema"] == "Occupancy"}
    assert len(posts) == len(records["officials"]) - 1


def test_a_sanction_of_a_named_official_is_a_sanction_of_that_person(seed_records):
    records = copy.deepcopy(seed_records)
    sanction = records["sanctions"][0]
    sanction.update(target_kind="person", target_official_id=records["officials"][0]["id"], target_count=1)
    entity = entities_of(records)[f"icc-events-sanction-{sanction['id']}"]
    assert entity["schema"] == "Sanction"
    assert entity["properties"]["entity"] == [f"icc-events-official-{records['officials'][0]['id']}"]
    assert model.get("Sanction").validate(entity) is None


def test_a_statement_by_an_unnamed_group_documents_what_it_is_about(seed_records):
    records = copy.deepcopy(seed_records)
    statement = next(s for s in records["statements"] if s["event_id"])
    statement.update(speaker_official_id=None, speaker_organization_id="israeli-prosecutors")
    entity = entities_of(records)[f"icc-events-statement-{statement['id']}"]
    assert entity["properties"]["entity"] == [f"icc-events-event-{statement['event_id']}"]
    assert "by Israeli prosecutors" in entity["properties"]["role"][0]
    assert model.get("Documentation").validate(entity) is None

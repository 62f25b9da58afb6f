"""The records as FollowTheMoney entities, the data model Aleph and OpenSanctions load.

Written without the followthemoney library: it is heavy (SQLAlchemy, rdflib, networkx...) and
the mapping is plain dicts; the tests validate every entity with the library itself.
"""

import hashlib
import json
import re
from collections.abc import Iterator

import pycountry

from schemas.ftm import FtmEntitySchema

DATASET = "icc_events"
ID_PREFIX = "icc-events"
MAX_ID_LENGTH = 200  # followthemoney's ENTITY_ID_LEN

ORGANIZATION_SCHEMATA = {
    "court": "PublicBody",
    "state": "PublicBody",
    "government": "PublicBody",
    "government_agency": "PublicBody",
    "intergovernmental_organization": "PublicBody",
    "assembly": "PublicBody",
    "company": "Company",
}
ORGANIZATION_TOPICS = {
    "court": ["gov.judicial"],
    "state": ["gov.national"],
    "government": ["gov.national", "gov.executive"],
    "government_agency": ["gov.national"],
    "intergovernmental_organization": ["gov.igo"],
}
OCCUPANCY_STATUS = {"current": "current", "former": "ended", "unknown": "unknown"}
MEASURE_LABELS = {
    "bank_access": "Loss of bank access",
    "commercial_services": "Ban on commercial services",
    "travel_ban": "Travel ban",
    "asset_freeze": "Asset freeze",
    "other": "Other measures",
}
FTM_ENTITY = FtmEntitySchema()
# The collections the mapping reads; statements have no FtM schema, and are three in four records.
MAPPED = ("sources", "organizations", "officials", "warrants", "sanctions", "events")
WARRANT_CATEGORY = "Arrest warrant (Rome Statute, art. 58)"


def entity_id(kind: str, record_id: str) -> str:
    """A stable FtM id from ours: icc-events-<kind>-<id>, hashed only if it would be too long."""
    value = f"{ID_PREFIX}-{kind}-{record_id}"
    if len(value) > MAX_ID_LENGTH:
        value = f"{ID_PREFIX}-{kind}-{hashlib.sha1(record_id.encode()).hexdigest()}"
    return value


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def country_code(name: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code (lowercase, as FtM stores countries) for a country name, if known."""
    if not name:
        return None
    try:
        return pycountry.countries.lookup(name).alpha_2.lower()
    except LookupError:
        return None


def entity(schema: str, id: str, record: dict | None, **properties) -> dict:
    """One FtM entity; empty values are left out and every value is a string in a list."""
    props = {}
    for name, value in properties.items():
        values = value if isinstance(value, list | tuple) else [value]
        values = list(dict.fromkeys(str(v) for v in values if v not in (None, "")))
        if values:
            props[name] = values
    result = {"id": id, "schema": schema, "properties": props, "datasets": [DATASET]}
    if record and record.get("created_at"):
        result.update(
            first_seen=record["created_at"], last_seen=record["updated_at"], last_change=record["updated_at"]
        )
    return result


def proof(record: dict) -> list[str]:
    """The documents (our sources) a record's citations point into."""
    return [entity_id("source", c["source_id"]) for c in record.get("citations") or []]


def source_entities(source: dict) -> Iterator[dict]:
    data = source["text"].encode("utf-8")
    yield entity(
        "Article",
        entity_id("source", source["id"]),
        source,
        title=source["title"],
        name=source["title"],
        fileName=f"{source['id']}.txt",
        mimeType="text/plain",
        fileSize=len(data),
        contentHash=hashlib.sha1(data).hexdigest(),
        bodyText=source["text"],
        publisher=source.get("publisher"),
        publishedAt=source["published"]["date"],
        sourceUrl=source.get("url"),
        notes=[source.get("notes"), f"SHA-256 of the text: {hashlib.sha256(data).hexdigest()}"],
    )


def organization_entities(org: dict) -> Iterator[dict]:
    yield entity(
        ORGANIZATION_SCHEMATA.get(org["kind"], "Organization"),
        entity_id("organization", org["id"]),
        org,
        name=org["name"],
        alias=org["aliases"],
        country=country_code(org["country"]),
        parent=entity_id("organization", org["parent_id"]) if org["parent_id"] else None,
        classification=org["kind"],
        topics=ORGANIZATION_TOPICS.get(org["kind"], []),
        description=org["description"],
        notes=org["notes"],
        proof=proof(org),
    )


def official_entities(official: dict, organizations: dict, wanted: set[str]) -> Iterator[dict]:
    """The Person, and the Position they hold with its Occupancy."""
    person_id = entity_id("official", official["id"])
    yield entity(
        "Person",
        person_id,
        official,
        name=official["name"],
        position=official["role"],
        country=country_code(official["country"]),
        nationality=country_code(official["nationality"]),
        topics=["wanted"] if official["id"] in wanted else [],
        description=official["description"],
        notes=official["notes"],
        proof=proof(official),
    )
    org = organizations.get(official["organization_id"])
    post_key = f"{org['id'] if org else 'none'}-{slugify(official['role'])}"
    post_id = entity_id("position", post_key)
    yield entity(
        "Position",
        post_id,
        None,
        name=f"{official['role']}, {org['name']}" if org else official["role"],
        organization=entity_id("organization", org["id"]) if org else None,
        country=country_code(org["country"]) if org else None,
        proof=proof(official),
    )
    yield entity(
        "Occupancy",
        entity_id("occupancy", official["id"]),
        official,
        holder=person_id,
        post=post_id,
        status=OCCUPANCY_STATUS[official["status"]],
        proof=proof(official),
    )


def warrant_entities(warrant: dict, organizations: dict) -> Iterator[dict]:
    """A CourtCase for the warrant and a CourtCaseParty for a named suspect; the rest goes to notes."""
    case_id = entity_id("warrant", warrant["id"])
    court = organizations.get(warrant["court_id"])
    attempts = [a["description"] for a in warrant["withdrawal_attempts"]]
    yield entity(
        "CourtCase",
        case_id,
        warrant,
        name=warrant["title"],
        category=WARRANT_CATEGORY,
        court=court["name"] if court else None,
        fileDate=warrant["issued"]["date"],
        status=warrant["status"],
        keywords=[*warrant["crimes"], f"situation:{warrant['situation']}"],
        summary=warrant["crimes_text"],
        description=[
            f"Subject: {warrant['subject_description']}" if warrant["subject_description"] else None,
            f"Situation: {warrant['situation_text'] or warrant['situation']}",
            warrant["status_text"],
        ],
        notes=[warrant["notes"], *(f"Withdrawal attempt: {a}" for a in attempts)],
        proof=proof(warrant),
    )
    if warrant["subject_official_id"]:
        yield entity(
            "CourtCaseParty",
            entity_id("warrant-subject", warrant["id"]),
            warrant,
            case=case_id,
            party=entity_id("official", warrant["subject_official_id"]),
            role="Subject of the arrest warrant",
            startDate=warrant["issued"]["date"],
            proof=proof(warrant),
        )


def sanction_target(sanction: dict) -> tuple[str, dict | None]:
    """The id of the sanctioned entity, and a LegalEntity to stand for an unnamed target."""
    if sanction["target_official_id"]:
        return entity_id("official", sanction["target_official_id"]), None
    if sanction["target_organization_id"]:
        return entity_id("organization", sanction["target_organization_id"]), None
    # FtM requires a Sanction's entity; the source only describes these targets, never names them.
    target_id = entity_id("sanction-target", sanction["id"])
    count = f" ({sanction['target_count']})" if sanction["target_count"] else ""
    placeholder = entity(
        "LegalEntity",
        target_id,
        sanction,
        name=sanction["target_description"],
        summary=f"Unnamed target{count} of kind {sanction['target_kind']}, as the source describes "
        "it; not an identified person or organization.",
        proof=proof(sanction),
    )
    return target_id, placeholder


def sanction_entities(sanction: dict, organizations: dict) -> Iterator[dict]:
    target_id, placeholder = sanction_target(sanction)
    if placeholder:
        yield placeholder
    authority = organizations.get(sanction["authority_id"])
    companies = [organizations[c]["name"] for c in sanction["affected_company_ids"] if c in organizations]
    yield entity(
        "Sanction",
        entity_id("sanction", sanction["id"]),
        sanction,
        entity=target_id,
        authority=authority["name"] if authority else None,
        country=country_code(authority["country"]) if authority else None,
        provisions=[MEASURE_LABELS[m] for m in sanction["measures"]],
        status=sanction["status"],
        reason=sanction["reason"],
        startDate=sanction["imposed"]["date"],
        summary=sanction["title"],
        description=[
            f"Target: {sanction['target_description']}",
            sanction["measures_text"],
            f"Effects: {sanction['effects_text']}" if sanction["effects_text"] else None,
            f"Companies whose services are withdrawn: {', '.join(companies)}" if companies else None,
            sanction["notes"],
        ],
        proof=proof(sanction),
    )


def event_entities(event: dict) -> Iterator[dict]:
    yield entity(
        "Event",
        entity_id("event", event["id"]),
        event,
        name=event["title"],
        date=event["date"]["date"],
        summary=event["description"],
        location=event["location"],
        involved=[
            *(entity_id("official", i) for i in event["official_ids"]),
            *(entity_id("organization", i) for i in event["organization_ids"]),
        ],
        keywords=event["type"],
        notes=event["notes"],
        proof=proof(event),
    )


def ftm_entities(records: dict[str, list[dict]]) -> Iterator[dict]:
    """Every entity once, documents first; statements are left out: FtM has no schema for them."""
    seen = set()
    for item in all_entities(records):
        if item["id"] not in seen:  # officials sharing a post share its Position
            seen.add(item["id"])
            yield item


def all_entities(records: dict[str, list[dict]]) -> Iterator[dict]:
    organizations = {org["id"]: org for org in records["organizations"]}
    wanted = {
        w["subject_official_id"]
        for w in records["warrants"]
        if w["subject_official_id"] and w["status"] == "outstanding"
    }
    for source in records["sources"]:
        yield from source_entities(source)
    for org in records["organizations"]:
        yield from organization_entities(org)
    for official in records["officials"]:
        yield from official_entities(official, organizations, wanted)
    for warrant in records["warrants"]:
        yield from warrant_entities(warrant, organizations)
    for sanction in records["sanctions"]:
        yield from sanction_entities(sanction, organizations)
    for event in records["events"]:
        yield from event_entities(event)


def ftm_lines(records: dict[str, list[dict]]) -> Iterator[str]:
    """The entities as newline-delimited JSON, each dumped through FtmEntitySchema."""
    for item in ftm_entities(records):
        yield json.dumps(FTM_ENTITY.dump(item), ensure_ascii=False, separators=(",", ":")) + "\n"

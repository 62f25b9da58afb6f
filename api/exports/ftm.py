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
# The collections the mapping reads: all of them.
MAPPED = ("sources", "organizations", "officials", "warrants", "sanctions", "events", "statements")
WARRANT_CATEGORY = "Arrest warrant (Rome Statute, art. 58)"
# Organizations the source only describes ("Israeli prosecutors"): text, never a matchable entity.
UNNAMED_KINDS = {"group"}
STATEMENT_ROLES = {"quote": "Quoted", "paraphrase": "Paraphrased", "reported": "Reported"}


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


def cited_passages(record: dict) -> list[str]:
    """Each citation as text: the exact characters of the source the record rests on, where they are,
    which fields they support and on what basis."""
    return [
        f"Cited from {c['source_id']}, characters {c['start']}-{c['end']}, {citation_support(c)}: "
        f"\u201c{c['quote']}\u201d"
        for c in record.get("citations") or []
    ]


def citation_support(citation: dict) -> str:
    """'supporting status (inferred: <reasoning>)', or '(attributed to HuffPost)'."""
    basis = citation.get("basis") or "basis not recorded"
    if citation.get("attributed_to"):
        basis += f" to {citation['attributed_to']}"
    if citation.get("reasoning"):
        basis += f": {citation['reasoning']}"
    return f"supporting {', '.join(citation.get('supports') or []) or 'no field'} ({basis})"


def source_urls(record: dict, sources: dict) -> list[str]:
    """The web addresses of the articles a record is cited from."""
    return [
        sources[c["source_id"]]["url"] for c in record.get("citations") or [] if c["source_id"] in sources
    ]


def is_unnamed(org: dict | None) -> bool:
    return bool(org) and org["kind"] in UNNAMED_KINDS


def organization_ref(organizations: dict, org_id: str | None) -> str | None:
    """The entity id of an organization, or None when there is none or it is an unnamed group."""
    org = organizations.get(org_id)
    return entity_id("organization", org_id) if org and not is_unnamed(org) else None


def unnamed_names(organizations: dict, org_ids: list) -> list[str]:
    return [organizations[i]["name"] for i in org_ids if is_unnamed(organizations.get(i))]


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


def organization_entities(org: dict, organizations: dict, sources: dict) -> Iterator[dict]:
    """A PublicBody, Company or Organization; an unnamed group is none (the records citing it say it)."""
    if is_unnamed(org):
        return
    yield entity(
        ORGANIZATION_SCHEMATA.get(org["kind"], "Organization"),
        entity_id("organization", org["id"]),
        org,
        name=org["name"],
        alias=org["aliases"],
        country=country_code(org["country"]),
        parent=organization_ref(organizations, org["parent_id"]),
        classification=org["kind"],
        topics=ORGANIZATION_TOPICS.get(org["kind"], []),
        description=[org["description"], *cited_passages(org)],
        notes=org["notes"],
        sourceUrl=source_urls(org, sources),
        proof=proof(org),
    )


def official_entities(official: dict, organizations: dict, wanted: set[str], sources: dict) -> Iterator[dict]:
    """The Person, and the Position they hold with its Occupancy."""
    person_id = entity_id("official", official["id"])
    yield entity(
        "Person",
        person_id,
        official,
        name=official["name"],
        alias=official["aliases"],
        wikidataId=official["wikidata_id"],
        position=official["role"],
        country=country_code(official["country"]),
        nationality=country_code(official["nationality"]),
        topics=["wanted"] if official["id"] in wanted else [],
        description=[official["description"], *cited_passages(official)],
        notes=official["notes"],
        sourceUrl=source_urls(official, sources),
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
        organization=organization_ref(organizations, official["organization_id"]),
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


def warrant_entities(warrant: dict, organizations: dict, sources: dict) -> Iterator[dict]:
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
            *cited_passages(warrant),
        ],
        notes=[warrant["notes"], *(f"Withdrawal attempt: {a}" for a in attempts)],
        sourceUrl=source_urls(warrant, sources),
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


def sanction_target(sanction: dict, organizations: dict) -> str | None:
    """The entity id of the sanctioned person or organization; None when the source only describes it."""
    if sanction["target_official_id"]:
        return entity_id("official", sanction["target_official_id"])
    return organization_ref(organizations, sanction["target_organization_id"])


def sanction_entities(sanction: dict, organizations: dict, sources: dict) -> Iterator[dict]:
    """A Sanction of a named target; a sanction of an unnamed one ("six judges") is an Event.

    FtM's Sanction needs an entity, and any entity schema that can stand for people (LegalEntity,
    Organization...) is matchable: screening tools would match the description as a name. Event is
    not matchable (followthemoney/schema/Event.yaml), so the target stays text on what happened.
    """
    target_id = sanction_target(sanction, organizations)
    authority = organizations.get(sanction["authority_id"])
    companies = [organizations[c]["name"] for c in sanction["affected_company_ids"] if c in organizations]
    count = f" ({sanction['target_count']})" if (sanction["target_count"] or 0) > 1 else ""
    description = [
        f"Target: {sanction['target_description']}"
        + ("" if target_id else f"{count}, not an identified person or organization"),
        sanction["measures_text"],
        f"Reason: {sanction['reason']}" if sanction["reason"] and not target_id else None,
        f"Effects: {sanction['effects_text']}" if sanction["effects_text"] else None,
        f"Companies whose services are withdrawn: {', '.join(companies)}" if companies else None,
        sanction["notes"],
        *cited_passages(sanction),
    ]
    common = {
        "summary": sanction["title"],
        "description": description,
        "sourceUrl": source_urls(sanction, sources),
        "proof": proof(sanction),
    }
    if target_id is None:
        yield entity(
            "Event",
            entity_id("sanction", sanction["id"]),
            sanction,
            name=sanction["title"],
            date=sanction["imposed"]["date"],
            involved=[
                organization_ref(organizations, sanction["authority_id"]),
                entity_id("official", sanction["imposed_by_official_id"])
                if sanction["imposed_by_official_id"]
                else None,
            ],
            keywords=[
                "sanctions_imposed",
                f"status:{sanction['status']}",
                *(MEASURE_LABELS[m] for m in sanction["measures"]),
            ],
            **common,
        )
        return
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
        **common,
    )


def event_entities(event: dict, organizations: dict, sources: dict) -> Iterator[dict]:
    unnamed = unnamed_names(organizations, event["organization_ids"])
    yield entity(
        "Event",
        entity_id("event", event["id"]),
        event,
        name=event["title"],
        date=event["date"]["date"],
        summary=event["description"],
        description=[f"Also involved: {', '.join(unnamed)}" if unnamed else None, *cited_passages(event)],
        location=event["location"],
        involved=[
            *(entity_id("official", i) for i in event["official_ids"]),
            *(organization_ref(organizations, i) for i in event["organization_ids"]),
        ],
        keywords=event["type"],
        notes=event["notes"],
        sourceUrl=source_urls(event, sources),
        proof=proof(event),
    )


def statement_entities(statement: dict, records: dict[str, dict[str, dict]]) -> Iterator[dict]:
    """A Documentation: the article (document) records that the speaker (entity) said this, then.

    FtM has no statement schema; Documentation "links some entity to a document, which might provide
    further detail or evidence regarding the entity" (followthemoney/schema/Documentation.yaml), is
    not matchable, and carries a role, a date, a summary and a description: who, when, what, the words.
    """
    organizations, officials = records["organizations"], records["officials"]
    speakers = [
        officials.get(statement["speaker_official_id"]),
        organizations.get(statement["speaker_organization_id"]),
    ]
    speaker_names = [s["name"] for s in speakers if s]
    outlet = organizations.get(statement["reported_by_id"])
    role = f"{STATEMENT_ROLES[statement['kind']]} statement by {', '.join(speaker_names)}"
    about_things = [
        *(entity_id("warrant", i) for i in statement["warrant_ids"]),
        entity_id("event", statement["event_id"]) if statement["event_id"] else None,
    ]
    named_speakers = [
        entity_id("official", statement["speaker_official_id"]) if statement["speaker_official_id"] else None,
        organization_ref(organizations, statement["speaker_organization_id"]),
    ]
    # Documentation needs an entity: the speaker; else (an unnamed group spoke) what it is about; else
    # the article itself, which is then the only record of who spoke.
    documented = [i for i in named_speakers if i] or [i for i in about_things if i] or proof(statement)
    sanctions = [
        records["sanctions"][i]["title"] for i in statement["sanction_ids"] if i in records["sanctions"]
    ]
    yield entity(
        "Documentation",
        entity_id("statement", statement["id"]),
        statement,
        document=proof(statement),
        entity=[*documented, *(i for i in about_things if i)],
        role=role + (f", as reported by {outlet['name']}" if outlet else ""),
        date=statement["said"]["date"],
        summary=statement["summary"],
        description=[
            statement["quote"],
            f"About: {statement['about']}" if statement["about"] else None,
            f"Topics: {', '.join(statement['topics'])}" if statement["topics"] else None,
            *(f"About the sanction: {title}" for title in sanctions),
            f"When: {statement['said']['text']}" if statement["said"]["text"] else None,
            statement["notes"],
            *cited_passages(statement),
        ],
        publisher=outlet["name"] if outlet else None,
        recordId=statement["id"],
        sourceUrl=source_urls(statement, records["sources"]),
        proof=proof(statement),
    )


def ftm_entities(records: dict[str, list[dict]]) -> Iterator[dict]:
    """Every entity once, documents first."""
    seen = set()
    for item in all_entities(records):
        if item["id"] not in seen:  # officials sharing a post share its Position
            seen.add(item["id"])
            yield item


def all_entities(records: dict[str, list[dict]]) -> Iterator[dict]:
    by_id = {name: {r["id"]: r for r in listed} for name, listed in records.items()}
    organizations, sources = by_id["organizations"], by_id["sources"]
    wanted = {
        w["subject_official_id"]
        for w in records["warrants"]
        if w["subject_official_id"] and w["status"] == "outstanding"
    }
    for source in records["sources"]:
        yield from source_entities(source)
    for org in records["organizations"]:
        yield from organization_entities(org, organizations, sources)
    for official in records["officials"]:
        yield from official_entities(official, organizations, wanted, sources)
    for warrant in records["warrants"]:
        yield from warrant_entities(warrant, organizations, sources)
    for sanction in records["sanctions"]:
        yield from sanction_entities(sanction, organizations, sources)
    for event in records["events"]:
        yield from event_entities(event, organizations, sources)
    for statement in records["statements"]:
        yield from statement_entities(statement, by_id)


def ftm_lines(records: dict[str, list[dict]]) -> Iterator[str]:
    """The entities as newline-delimited JSON, each dumped through FtmEntitySchema."""
    for item in ftm_entities(records):
        yield json.dumps(FTM_ENTITY.dump(item), ensure_ascii=False, separators=(",", ":")) + "\n"

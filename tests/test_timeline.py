"""The timeline: every dated record of four collections, earliest first, precision stated."""

from tests.test_records import fetch_all


def test_timeline_lists_every_dated_record_in_order(client):
    entries = fetch_all(client, "/v1/timeline?limit=3")
    keys = [(e["date"]["earliest"], e["date"]["latest"], e["id"], e["collection"]) for e in entries]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    expected = set()
    for name, field in [
        ("events", "date"),
        ("warrants", "issued"),
        ("sanctions", "imposed"),
        ("statements", "said"),
    ]:
        for record in client.get(f"/v1/{name}?limit=500").get_json()["data"]:
            if record[field]["date"]:
                expected.add((name, record["id"]))
    assert {(e["collection"], e["id"]) for e in entries} == expected


def test_timeline_entries_state_their_precision_and_words(client):
    entries = client.get("/v1/timeline?collections=warrants").get_json()["data"]
    netanyahu = next(e for e in entries if e["id"] == "warrant-benjamin-netanyahu")
    assert netanyahu["date"]["precision"] == "year"
    assert netanyahu["date"]["text"] == "late 2024"
    assert netanyahu["url"].endswith("/v1/warrants/warrant-benjamin-netanyahu")


def test_timeline_date_range_overlaps_partial_dates(client):
    entries = client.get("/v1/timeline?date_from=2025-11&date_to=2025-11&limit=500").get_json()["data"]
    assert entries
    for entry in entries:
        assert entry["date"]["earliest"] <= "2025-11-30" and entry["date"]["latest"] >= "2025-11-01"

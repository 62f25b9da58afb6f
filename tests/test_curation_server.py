"""Curation against a real server: concurrent editors, kill -9, a second source, feed replay."""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlite_utils

from api.model.collections import COLLECTIONS
from api.store.changes import apply_change
from api.store.migrations import create_tables
from tests.conftest import make_token
from tests.curation_data import SOURCE_ID, new_official, new_organization
from tests.server_process import STOP_TIMEOUT, free_port, wait_until_up

SECOND_ARTICLE = (
    "The Hague, test wire. A test official, Jane Example, said on Monday that the court's work "
    'would continue. "We will not stop," Example told reporters.\n'
)


@contextmanager
def running_server(db_path, log_path, environment: dict | None = None):
    """A real server (2 workers) on a free loopback port, in its own process group."""
    port = free_port()
    command = [sys.executable, "-m", "api", "serve", "--db", str(db_path), "--port", str(port)]
    # Write bursts here test durability, not the rate limit (tests/test_ratelimit.py does).
    env = {**os.environ, "ICC_EVENTS_RATE_LIMIT_ENABLED": "0", **(environment or {})}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [*command, "--workers", "2"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", process, Path(log_path))
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=STOP_TIMEOUT)


def call(method: str, url: str, body=None, headers: dict | None = None, media_type="application/json"):
    """(status, headers, parsed JSON body or None) of one HTTP request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", media_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:  # closes the connection it holds
            status, head, raw = error.code, error.headers, error.read()
    return status, head, json.loads(raw) if raw else None


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def server(seed_db_path, tmp_path_factory):
    """One server for this module's tests, with a write and an admin token; ids never overlap."""
    directory = tmp_path_factory.mktemp("server")
    db_path, log_path = directory / "icc-events.db", directory / "server.log"
    shutil.copy(seed_db_path, db_path)
    tokens = {"write": make_token(db_path, "alice", "write"), "admin": make_token(db_path, "root", "admin")}
    with running_server(db_path, log_path) as (base, _):
        yield {"base": base, "db_path": db_path, "log_path": log_path, **tokens}


def test_two_concurrent_editors_one_gets_412(server):
    base, url = server["base"], f"{server['base']}/v1/organizations/icc"
    for round_number in range(5):
        _, headers, _ = call("GET", url)
        etag, barrier, statuses = headers["ETag"], threading.Barrier(2), {}

        def edit(editor: str, etag=etag, barrier=barrier, statuses=statuses, n=round_number):
            barrier.wait()
            patch = {"description": f"Edited by {editor} in round {n}."}
            headers = {**bearer(server["write"]), "If-Match": etag}
            statuses[editor] = call("PATCH", url, patch, headers, "application/merge-patch+json")[0]

        threads = [threading.Thread(target=edit, args=(name,)) for name in ("ana", "ben")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses.values()) == [200, 412], statuses
        winner = next(name for name, status in statuses.items() if status == 200)
        assert call("GET", url)[2]["description"] == f"Edited by {winner} in round {round_number}."
    history = call("GET", f"{base}/v1/organizations/icc/history")[2]["data"]
    assert [entry["action"] for entry in history].count("updated") >= 5


def test_second_source_is_added_and_cited_through_the_api_only(server):
    base, write = server["base"], bearer(server["write"])
    source = {
        "id": "test-wire-second-article",
        "title": "A second article (test fixture)",
        "text": SECOND_ARTICLE,
        "published": {"date": "2025-12", "precision": "month", "text": None, "basis": None},
    }
    status, headers, stored = call("POST", f"{base}/v1/sources", source, write)
    assert status == 201
    assert stored["length"] == len(SECOND_ARTICLE)
    start = SECOND_ARTICLE.index("Jane Example")
    name_citation = {
        "source_id": source["id"],
        "start": start,
        "end": start + 12,
        "quote": "Jane Example",
        "supports": ["name", "role", "organization_id", "status"],
        "basis": "stated",
    }
    official = new_official("jane-example", name="Jane Example", citations=[name_citation])
    assert call("POST", f"{base}/v1/officials", official, write)[0] == 201
    quote = "We will not stop"
    start = SECOND_ARTICLE.index(quote)
    statement = {
        "id": "statement-jane-example-will-not-stop",
        "speaker_official_id": "jane-example",
        "summary": "Said the court's work will continue.",
        "quote": quote,
        "kind": "quote",
        "said": {
            "date": "2025-12",
            "precision": "month",
            "text": "on Monday",
            "basis": "the article's month",
        },
        "citations": [
            {
                "source_id": source["id"],
                "start": start,
                "end": start + len(quote),
                "quote": quote,
                "supports": ["speaker_official_id", "summary", "quote", "kind", "said"],
                "basis": "stated",
            }
        ],
    }
    status, headers, created = call("POST", f"{base}/v1/statements", statement, write)
    assert status == 201, created
    status, _, served = call("GET", headers["Location"])
    assert status == 200
    citation = served["citations"][0]
    text = call("GET", f"{base}/v1/sources/{source['id']}")[2]["text"]
    assert text[citation["start"] : citation["end"]] == citation["quote"] == quote
    assert citation["url"] == f"/sources/{source['id']}#char={start},{start + len(quote)}"
    statements = call("GET", f"{base}/v1/statements?speaker_official_id=jane-example")[2]["data"]
    assert [s["id"] for s in statements] == [statement["id"]]
    misplaced = {**name_citation, "start": 0, "end": 12}
    status, _, problem = call(
        "POST", f"{base}/v1/officials", new_official("jane-2", citations=[misplaced]), write
    )
    assert status == 422
    assert "citations.0.quote" in problem["errors"]


def read_feed(base: str) -> list[dict]:
    entries, url = [], f"{base}/v1/changes?limit=37"
    while url:
        status, _, body = call("GET", url)
        assert status == 200
        entries.extend(body["data"])
        url = body["links"]["next"]
    return entries


def database_rows(db: sqlite_utils.Database) -> dict[str, list[dict]]:
    return {name: list(db.query(f"SELECT * FROM [{name}] ORDER BY id")) for name in COLLECTIONS}


def test_feed_replayed_into_an_empty_database_reproduces_the_server_database(server, tmp_path):
    base, write, admin = server["base"], bearer(server["write"]), bearer(server["admin"])
    assert call("POST", f"{base}/v1/organizations", new_organization("replayed"), write)[0] == 201
    assert call("POST", f"{base}/v1/organizations", new_organization("deleted-later"), write)[0] == 201
    etag = call("GET", f"{base}/v1/organizations/deleted-later")[1]["ETag"]
    assert (
        call("DELETE", f"{base}/v1/organizations/deleted-later", headers={**admin, "If-Match": etag})[0]
        == 204
    )
    mirror = sqlite_utils.Database(tmp_path / "mirror.db")
    create_tables(mirror)
    entries = read_feed(base)
    for entry in entries:
        apply_change(mirror, entry)
    assert entries[-1]["action"] == "deleted"
    assert database_rows(mirror) == database_rows(sqlite_utils.Database(server["db_path"]))


def test_tokens_never_reach_the_server_log(server):
    base = server["base"]
    assert (
        call("POST", f"{base}/v1/organizations", new_organization("logged"), bearer(server["write"]))[0]
        == 201
    )
    assert call("POST", f"{base}/v1/organizations", {}, bearer(server["write"] + "x"))[0] == 401
    log = server["log_path"].read_text()
    assert '"method":"POST","path":"/v1/organizations","status":201' in log  # the JSON access log
    for token in (server["write"], server["admin"]):
        # The secret is everything after icc_<key>_; it may itself contain '_' (token_urlsafe).
        assert token.split("_", 2)[2] not in log


def test_acknowledged_writes_survive_kill_9(seed_db_path, tmp_path):
    db_path = tmp_path / "icc-events.db"
    shutil.copy(seed_db_path, db_path)
    token = make_token(db_path, "burst", "write")
    acknowledged, unexpected, lock, enough = [], [], threading.Lock(), threading.Event()

    def writer(base: str, n: int):
        for i in range(10_000):
            record_id = f"burst-{n}-{i}"
            try:
                status = call("POST", f"{base}/v1/organizations", new_organization(record_id), bearer(token))[
                    0
                ]
            except (OSError, http.client.HTTPException):
                return  # the server is gone, perhaps halfway through its answer
            with lock:
                if status != 201:
                    unexpected.append((record_id, status))
                    return
                acknowledged.append(record_id)
                if len(acknowledged) >= 40:
                    enough.set()

    with running_server(db_path, tmp_path / "server.log") as (base, process):
        threads = [threading.Thread(target=writer, args=(base, n)) for n in range(4)]
        for thread in threads:
            thread.start()
        assert enough.wait(timeout=60), "the burst did not get going"
        os.killpg(process.pid, signal.SIGKILL)  # master and workers, mid-burst
        process.wait(timeout=10)
        for thread in threads:
            thread.join(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert unexpected == []

    with running_server(db_path, tmp_path / "server.log") as (base, _):
        for record_id in acknowledged:
            assert call("GET", f"{base}/v1/organizations/{record_id}")[0] == 200, record_id
    db = sqlite_utils.Database(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {row["id"] for row in db.query("SELECT id FROM organizations WHERE id LIKE 'burst-%'")}
    logged = {row["record_id"] for row in db.query("SELECT record_id FROM changes WHERE actor = 'burst'")}
    assert stored == logged >= set(acknowledged)
    assert SOURCE_ID in {row["id"] for row in db.query("SELECT id FROM sources")}


def test_chunked_body_over_the_limit_is_413_and_at_the_limit_is_read(seed_db_path, tmp_path):
    db_path = tmp_path / "icc-events.db"
    shutil.copy(seed_db_path, db_path)
    headers = {**bearer(make_token(db_path, "alice", "write")), "Content-Type": "application/json"}
    with running_server(db_path, tmp_path / "server.log", {"ICC_EVENTS_MAX_BODY_BYTES": "1000"}) as (base, _):
        for size, status in [(1000, 422), (1001, 413)]:
            body = b'{"notes": "' + b"y" * (size - 13) + b'"}'
            assert len(body) == size
            # An iterable body and no Content-Length: urllib sends it chunked.
            request = urllib.request.Request(f"{base}/v1/organizations", data=iter([body]), headers=headers)
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(request, timeout=30)
            with error.value as response:
                assert response.code == status
                assert response.headers["Content-Type"] == "application/problem+json"


def test_every_acknowledged_write_is_in_the_next_ranked_search_on_either_worker(server):
    """Writers and searchers at once, on two workers: each catches the ranking index up (one at a
    time, under its lock) before it searches, so a record written is found by the next search."""
    base, failures = server["base"], []
    words = ["zorblat", "quintrax", "vellumor", "krandish", "oplixen", "trebuzal"]

    def write_then_search(word: str) -> None:
        organization = new_organization(f"org-{word}", name=f"{word.title()} Observers")
        status, _, _ = call("POST", f"{base}/v1/organizations", organization, bearer(server["write"]))
        if status != 201:
            failures.append((word, "write", status))
            return
        for _ in range(3):  # three searches: the two workers answer them in turn
            status, _, body = call("GET", f"{base}/v1/search?q={word}")
            found = [(hit["collection"], hit["id"]) for hit in body["data"]] if status == 200 else status
            if found != [("organizations", f"org-{word}")]:
                failures.append((word, "search", found))

    threads = [threading.Thread(target=write_then_search, args=(word,)) for word in words]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

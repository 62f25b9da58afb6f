"""Keyset paging never skips or repeats a record, under any sort, even with writes between pages."""

import shutil
import uuid

import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.model.collections import COLLECTIONS
from api.model.rendering import stamped
from api.web.app import create_app
from tests.conftest import ContractClient

NAMES = sorted(COLLECTIONS)


@st.composite
def walks(draw):
    """A collection, a sort, a page size and the writes to make before each following page."""
    name = draw(st.sampled_from(NAMES))
    sorts = COLLECTIONS[name].sorts
    fields = draw(st.lists(st.sampled_from(sorts), min_size=1, max_size=2, unique=True))
    sort = ",".join(("-" if draw(st.booleans()) else "") + f for f in fields)
    limit = draw(st.integers(1, 5))
    write = st.tuples(
        st.sampled_from(["insert", "touch"]), st.integers(0, 1000), st.sampled_from(["a", "m", "z"])
    )
    writes = draw(st.lists(st.lists(write, max_size=3), max_size=20))
    return name, sort, limit, writes


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(walk=walks())
def test_paging_neither_skips_nor_repeats_with_writes_between_pages(seed_db_path, tmp_path, walk):
    name, sort, limit, writes = walk
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    shutil.copy(seed_db_path, path)
    app = create_app({"DATABASE": str(path)})
    app.test_client_class = ContractClient
    client = app.test_client()
    db = sqlite_utils.Database(path)
    table = db[COLLECTIONS[name].table]
    original = [row["id"] for row in table.rows]

    seen, url, page = [], f"/v1/{name}?sort={sort}&limit={limit}", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_json()
        seen.extend(r["id"] for r in body["data"])
        url = body["links"]["next"]
        for kind, pick, prefix in writes[page] if page < len(writes) else []:
            row = dict(table.get(original[pick % len(original)]))
            if kind == "insert":  # same sort values as an existing row: only the id breaks the tie
                row["id"] = f"{prefix}-new-{uuid.uuid4().hex[:8]}"
                table.insert(stamped(COLLECTIONS[name], row))
            else:  # a change that leaves every sort value as it was
                row["notes"] = f"touched {uuid.uuid4().hex}"
                table.update(row["id"], stamped(COLLECTIONS[name], row))
        page += 1
    db.conn.close()

    assert len(seen) == len(set(seen)), "a record was served twice"
    assert set(original) <= set(seen), "a record that existed throughout was skipped"

"""Which files and functions of api/ and schemas/ one request passes through, traced in process.

One list request with full-text search and an include, and one PATCH, on a scratch seed database
(after a first request, so one-time work is not counted). Prints a JSON line per request: distinct
files, distinct functions, switches from one file to another along the calls, and how many times a
row's ETag was computed.

    python bench/call_path.py
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def trace(client, method, url, **kwargs):
    calls, files, switches, last, etags = set(), set(), 0, None, 0

    def profiler(frame, event, arg):
        nonlocal switches, last, etags
        if event != "call":
            return
        path = frame.f_code.co_filename
        if frame.f_code.co_name == "row_etag":
            etags += 1
        if not path.startswith(str(ROOT)) or any(
            part in path for part in ("/.venv/", "/tests/", "/seed/", "/bench/")
        ):
            return
        rel = str(Path(path).relative_to(ROOT))
        calls.add((rel, frame.f_code.co_qualname))
        files.add(rel)
        if last is not None and rel != last:
            switches += 1
        last = rel

    sys.setprofile(profiler)
    try:
        response = client.open(url, method=method, **kwargs)
    finally:
        sys.setprofile(None)
    return response.status_code, len(files), len(calls), switches, etags


def main():
    import sqlite_utils

    from api.store.tokens import create_token
    from api.web.app import create_app
    from seed.loader import build_database

    tmp = Path(tempfile.mkdtemp())
    db = tmp / "icc-events.db"
    build_database(db)
    conn = sqlite_utils.Database(db)
    if True:
        token = create_token(conn, "trace", "write")
    app = create_app({"DATABASE": str(db), "RATE_LIMIT_ENABLED": False})
    client = app.test_client()
    client.get("/v1/statements?limit=1")  # first-request work (spec, indexes) is not the path
    list_url = "/v1/statements?q=pressure&include=speaker&limit=5"
    first = client.get("/v1/warrants?limit=1").get_json()["data"][0]
    item = client.get(f"/v1/warrants/{first['id']}")
    rows = [("GET " + list_url, *trace(client, "GET", list_url))]
    patch = {"status_text": "traced"}
    rows.append(
        (
            f"PATCH /v1/warrants/{first['id']}",
            *trace(
                client,
                "PATCH",
                f"/v1/warrants/{first['id']}",
                json=patch,
                headers={
                    "Authorization": f"Bearer {token}",
                    "If-Match": item.headers["ETag"],
                    "Content-Type": "application/merge-patch+json",
                },
            ),
        )
    )
    for name, status, files, calls, switches, etags in rows:
        print(
            json.dumps(
                {
                    "request": name,
                    "status": status,
                    "files": files,
                    "functions": calls,
                    "switches_between_files": switches,
                    "row_etag_calls": etags,
                }
            )
        )
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()

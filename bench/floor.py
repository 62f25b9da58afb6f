"""The floor: the least a Python server can do to answer the benchmark's queries.

Flask and the sqlite3 module, one read-only connection per worker, rows dumped as they come:
no validation, no links, no schema. It runs on the same server (Granian), with the same workers, as the API.

Like the API it writes one access line per request, the cheapest way: a line of text on stderr from
an after_request hook. Granian's own access log (--access-log), which earlier runs used until
2026-12-07, goes through Python's logging from the server's threads: on random records at 100k, 2 workers, the
floor answered 3,870 requests/s with it and 6,587 with this line (bench/results/item-gap/).
"""

import csv
import io
import json
import os
import sqlite3
import sys
import time

from flask import Flask, Response, abort, g, request

DB_PATH = os.environ["FLOOR_DB"]
app = Flask(__name__)
connection = sqlite3.connect(f"file:{DB_PATH}?mode=ro", uri=True, check_same_thread=False)
connection.row_factory = sqlite3.Row
# Tables and columns come from the database itself and are the only names put into SQL.
TABLES = {
    name: {row[1] for row in connection.execute(f"PRAGMA table_info([{name}])")}
    for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
}
# The raw row: every column but the representations icc-events stores beside it (served_json,
# served_csv), which are our rendering, not the data the floor serves.
SELECT = {
    name: ", ".join(f"[{name}].[{c}]" for c in sorted(columns) if not c.startswith("served_"))
    for name, columns in TABLES.items()
}
FTS_TABLES = {
    name: content
    for name, content in connection.execute("SELECT name, sql FROM sqlite_master WHERE sql LIKE '%fts5%'")
}


@app.before_request
def start():
    g.started = time.perf_counter()


@app.after_request
def access_line(response):
    took = (time.perf_counter() - g.started) * 1000
    sys.stderr.write(f"{request.method} {request.path} {response.status_code} {took:.3f}ms\n")
    return response


def columns_of(table: str) -> set[str]:
    if table not in TABLES:
        abort(404)
    return TABLES[table]


@app.get("/items/<table>/<record_id>")
def item(table, record_id):
    columns_of(table)
    row = connection.execute(f"SELECT {SELECT[table]} FROM [{table}] WHERE id = ?", [record_id]).fetchone()
    if row is None:
        abort(404)
    if "etag" in row.keys() and request.headers.get("If-None-Match") == f'"{row["etag"]}"':
        return Response(status=304)
    response = app.json.response(dict(row))
    if "etag" in row.keys():
        response.set_etag(row["etag"])
    return response


@app.get("/lists/<table>")
def page(table):
    """?order=column&desc=1&after=[value,id]&limit=n&<column>=value: keyset paging by (order, id).

    q=words: only rows the table's FTS5 index matches (the raw MATCH, in the same order as the rest).
    format=csv: the same rows as CSV, the table's columns as they are stored.
    """
    columns = columns_of(table)
    order = request.args.get("order", "id")
    if order == "rank" and "q" in request.args:
        return ranked(table)
    if order not in columns:
        abort(400)
    direction = "DESC" if request.args.get("desc") else "ASC"
    where, params = [], []
    for name, value in request.args.items():
        if name in columns:
            where.append(f"[{name}] = ?")
            params.append(value)
    if "q" in request.args:
        fts = next((name for name in FTS_TABLES if name.startswith(f"{table}_fts")), None)
        if fts is None:
            abort(404)
        where.append(f"rowid IN (SELECT rowid FROM [{fts}] WHERE [{fts}] MATCH ?)")
        params.append(request.args["q"])
    if "after" in request.args:
        value, last_id = json.loads(request.args["after"])
        op = "<" if direction == "DESC" else ">"
        # A row-value comparison: SQLite seeks the (order, id) index to it instead of scanning.
        where.append(f"([{order}], id) {op} (?, ?)")
        params += [value, last_id]
    sql = f"SELECT {SELECT[table]} FROM [{table}]" + (" WHERE " + " AND ".join(where) if where else "")
    sql += f" ORDER BY [{order}] {direction}, id {direction} LIMIT ?"
    rows = connection.execute(sql, [*params, int(request.args.get("limit", 50))]).fetchall()
    if request.args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(rows[0].keys() if rows else [])
        writer.writerows(tuple(row) for row in rows)
        return Response(out.getvalue(), mimetype="text/csv")
    return {"data": [dict(row) for row in rows]}


def ranked(table):
    """q=words, best first by FTS5's rank (bm25 with equal column weights), no cursor."""
    fts = next((name for name in FTS_TABLES if name.startswith(f"{table}_fts")), None)
    if fts is None:
        abort(404)
    sql = (
        f"SELECT {SELECT[table]} FROM [{fts}] JOIN [{table}] ON [{table}].rowid = [{fts}].rowid "
        f"WHERE [{fts}] MATCH ? ORDER BY [{fts}].rank LIMIT ?"
    )
    rows = connection.execute(sql, [request.args["q"], int(request.args.get("limit", 50))]).fetchall()
    return {"data": [dict(row) for row in rows]}


@app.get("/dumps/<table>")
def dump(table):
    """Every row as NDJSON, streamed."""
    columns_of(table)
    dump_connection = sqlite3.connect(f"file:{DB_PATH}?mode=ro", uri=True, check_same_thread=False)
    dump_connection.row_factory = sqlite3.Row

    def lines():
        try:
            cursor = dump_connection.execute(f"SELECT {SELECT[table]} FROM [{table}] ORDER BY id")
            # Hundreds of lines per write: one socket write per row is what makes streams slow.
            while rows := cursor.fetchmany(500):
                yield "".join(json.dumps(dict(row)) + "\n" for row in rows)
        finally:
            dump_connection.close()

    return Response(lines(), mimetype="application/x-ndjson")

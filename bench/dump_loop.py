"""The reference for whole-collection dumps: a bare sqlite3 loop that reads every statement in the API's
order and encodes it, written to a file; no server, no HTTP, no validation, no links.

python bench/dump_loop.py --db bench/.data/icc100000.db --format ndjson --out /dev/null
"""

import csv
import json
import sqlite3

import click


@click.command()
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["ndjson", "csv"]), required=True)
@click.option("--out", default="/dev/null", show_default=True, type=click.Path(dir_okay=False))
def main(db_path, fmt, out):
    """Every row of statements as NDJSON (json.dumps of the row) or CSV (the row's columns)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    # The row's data columns: not the representations icc-events stores beside them.
    columns = [r[1] for r in db.execute("PRAGMA table_info(statements)") if not r[1].startswith("served_")]
    select = ", ".join(f"[{c}]" for c in columns)
    cursor = db.execute(f"SELECT {select} FROM statements ORDER BY said_sort, id")
    names = [d[0] for d in cursor.description]
    with open(out, "w", encoding="utf-8", newline="") as sink:
        if fmt == "ndjson":
            for row in cursor:
                sink.write(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(sink)
            writer.writerow(names)
            writer.writerows(cursor)
    db.close()


if __name__ == "__main__":
    main()

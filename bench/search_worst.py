"""q= at its worst: a word in just enough statements for the sort-index plan, all at the list's end;
and /v1/search on a common word.

python bench/search_worst.py --db bench/.data/icc1000000.db

Works on a copy of the database (beside it, removed afterwards), so the benchmark's file is unchanged.
"""

import logging
import os
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import click

BENCH_DIR = Path(__file__).parent
sys.path.insert(0, str(BENCH_DIR.parent))

from api.store.search import MANY_MATCHES  # noqa: E402
from api.web.app import create_app  # noqa: E402

WORST, BELOW = "zyxwvu", "qwertz"  # made-up words no synthetic text contains


def add_word(db_path: Path, word: str, count: int) -> None:
    """Append word to the summary of the count statements last in the default list order."""
    db = sqlite3.connect(db_path)
    last = db.execute("SELECT rowid FROM statements ORDER BY said_sort DESC, id DESC LIMIT ?", [count])
    db.executemany(f"UPDATE statements SET summary = summary || ' {word}' WHERE rowid = ?", list(last))
    db.commit()
    db.close()


@click.command()
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--repeat", default=5, show_default=True)
def main(db_path, repeat):
    """Median in-process time of q= first pages for words of different spreads, and of /v1/search."""
    copy = db_path.with_name(f"{db_path.stem}-search-worst.db")
    shutil.copyfile(db_path, copy)
    try:
        add_word(copy, WORST, MANY_MATCHES)
        add_word(copy, BELOW, MANY_MATCHES - 1)
        os.environ["ICC_EVENTS_RATE_LIMIT_ENABLED"] = "false"
        client = create_app({"DATABASE": str(copy)}).test_client()
        logging.disable(logging.INFO)  # no access line per request
        cases = {
            f"{WORST}: {MANY_MATCHES} matches, all last (sort-index plan)": f"q={WORST}",
            f"{BELOW}: {MANY_MATCHES - 1} matches, all last (fetch-and-sort plan)": f"q={BELOW}",
            f"{WORST}, sorted -said (its matches come first)": f"q={WORST}&sort=-said",
            "sanctions: a common word, spread through the list": "q=sanctions",
        }
        paths = {label: f"/v1/statements?{query}&limit=50" for label, query in cases.items()}
        # /v1/search ranks every match of every collection by bm25 before it keeps the best 20.
        paths["/v1/search?q=sanctions (bm25 over every match)"] = "/v1/search?q=sanctions"
        paths[f"/v1/search?q={WORST} ({MANY_MATCHES} matches)"] = f"/v1/search?q={WORST}"
        for label, path in paths.items():
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200 and len(response.json["data"]) >= 20, path
            click.echo(f"{statistics.median(times) * 1000:8.1f} ms  {label}")
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()

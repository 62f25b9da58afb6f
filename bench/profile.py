"""Where our server's time goes: pyinstrument over many requests to one endpoint, in process.

python bench/profile.py --db bench/.data/icc100000.db --requests 2000
"""

import sqlite3
import sys
from pathlib import Path

import click
from pyinstrument import Profiler

BENCH_DIR = Path(__file__).parent
sys.path.insert(0, str(BENCH_DIR.parent))

from api.web.app import create_app  # noqa: E402


def endpoints(db_path: Path) -> dict[str, str]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    (statement_id,) = db.execute("SELECT id FROM statements ORDER BY rowid DESC LIMIT 1").fetchone()
    db.close()
    return {"item": f"/v1/statements/{statement_id}", "first_page": "/v1/statements?limit=50"}


@click.command()
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--requests", default=2000, show_default=True)
@click.option("--out", default=str(BENCH_DIR / "results"), show_default=True, type=click.Path(path_type=Path))
def main(db_path, requests, out):
    """Profile the item and first-page endpoints; write one text report per endpoint.

    Records are served as stored when written, with no cache: the same URL again costs what a new one does.
    """
    client = create_app({"DATABASE": str(db_path)}).test_client()
    out.mkdir(parents=True, exist_ok=True)
    for name, path in endpoints(db_path).items():
        assert client.get(path).status_code == 200, path
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(requests):
                client.get(path)
        report = profiler.output_text(unicode=True, color=False, show_all=False)
        (out / f"profile-{name}.txt").write_text(report)
        per_request = profiler.last_session.duration / requests * 1000
        click.echo(f"{name}: {per_request:.2f} ms per request", err=True)


if __name__ == "__main__":
    main()

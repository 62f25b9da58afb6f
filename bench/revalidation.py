"""304 against the full response on our server alone: item and first page, with the ETag each answers.

python bench/revalidation.py --sizes 100000,1000000 > bench/results/revalidation.jsonl
"""

import json
import sys
from pathlib import Path

import click

BENCH_DIR = Path(__file__).parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR)]

from run import fetch, fixtures, run_wrk  # noqa: E402
from servers import running  # noqa: E402


@click.command()
@click.option("--sizes", default="100000,1000000", show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option("--duration", default=5, show_default=True)
@click.option("--data-dir", default=str(BENCH_DIR / ".data"), show_default=True, type=click.Path())
def main(sizes, workers, duration, data_dir):
    """One JSON line per size and endpoint: full and 304 req/s and p50, and their ratio."""
    for size in [int(s) for s in sizes.split(",")]:
        db_path = Path(data_dir) / f"icc{size}.db"
        fix = fixtures(db_path)
        paths = {"item": f"/v1/statements/{fix['statement_id']}", "first_page": "/v1/statements?limit=50"}
        with running("ours", db_path, workers, "/healthz") as (base, _):
            for name, path in paths.items():
                status, _, etag = fetch(base + path, {})
                full = run_wrk(base + path, {}, duration, 1, 8)
                revalidated, _, _ = fetch(base + path, {"If-None-Match": etag})
                fresh = run_wrk(base + path, {"If-None-Match": etag}, duration, 1, 8)
                line = {
                    "records": size,
                    "endpoint": name,
                    "status": status,
                    "status_with_etag": revalidated,
                    "full_rps": full["rps"],
                    "full_p50_ms": full["p50_ms"],
                    "304_rps": fresh["rps"],
                    "304_p50_ms": fresh["p50_ms"],
                    "ratio": round(fresh["rps"] / full["rps"], 2),
                }
                click.echo(json.dumps(line))


if __name__ == "__main__":
    main()

"""p50 and p99 of one-word searches over HTTP: /v1/search and /v1/statements?q= for each word given.

python bench/search_speed.py --db bench/.data/icc1000000.db --words sanctions,court,novak
python bench/search_speed.py --url http://127.0.0.1:8791 --words sanctions

With --db it serves the database itself (2 workers, rate limits off; run `icc-events migrate` on it
first, as the server must be up within 60 s) and stops the server afterwards;
with --url it measures a server already running. Each round asks for every word's first page and the
page its next link names, one request at a time, then --concurrency at once.
"""

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import httpx

BENCH_DIR = Path(__file__).parent
sys.path.insert(0, str(BENCH_DIR.parent))

from bench.servers import running  # noqa: E402


def paths(client: httpx.Client, words: list[str]) -> dict[str, list[str]]:
    """Endpoint label -> the URLs to time: each word's first page and the page after it."""
    found = {}
    for label, template in (("search", "/v1/search?q={}"), ("list q=", "/v1/statements?q={}&limit=20")):
        urls = []
        for word in words:
            first = template.format(word)
            urls.append(first)
            following = client.get(first).json()["links"].get("next")
            if following:
                urls.append(following)
        found[label] = urls
    return found


def timed(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def percentiles(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    p50 = statistics.median(ordered)
    return f"p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  ({len(ordered)} requests)"


def measure(base_url: str, words: list[str], rounds: int, concurrency: int) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for label, urls in paths(client, words).items():
            timed(client, urls[0])  # warm the worker
            sequential = [timed(client, url) for _ in range(rounds) for url in urls]
            click.echo(f"{label:8} sequential   {percentiles(sequential)}")
            with ThreadPoolExecutor(concurrency) as pool:
                clients = [httpx.Client(base_url=base_url, timeout=60) for _ in range(concurrency)]
                jobs = [(clients[i % concurrency], url) for i, url in enumerate(urls * rounds)]
                concurrent = list(pool.map(lambda job: timed(*job), jobs))
                for each in clients:
                    each.close()
            click.echo(f"{label:8} {concurrency} at once    {percentiles(concurrent)}")


@click.command()
@click.option("--db", "db_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", "base_url", help="A server already running, instead of --db.")
@click.option("--words", default="sanctions,court,novak", show_default=True, help="Comma-separated.")
@click.option("--rounds", default=20, show_default=True)
@click.option("--concurrency", default=4, show_default=True)
def main(db_path, base_url, words, rounds, concurrency):
    """Time one-word searches over HTTP, p50 and p99, sequential and concurrent."""
    if (db_path is None) == (base_url is None):
        raise click.UsageError("Give one of --db and --url.")
    words = [w for w in words.split(",") if w]
    if base_url:
        measure(base_url, words, rounds, concurrency)
        return
    with running("ours", db_path, 2, "/healthz") as (base, _):
        measure(base, words, rounds, concurrency)


if __name__ == "__main__":
    main()

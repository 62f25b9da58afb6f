"""Headless Chromium against a real server: the docs work offline, the viewer leads to records.

Skips where Chromium or Playwright is missing locally; with CI=true it fails instead, so CI cannot
pass without running it.
"""

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.contract import load_spec
from tests.server_process import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SOURCE_ID = "trump-campaign-against-icc-faces-resistance"
# Set to a folder to keep screenshots of the pages (the README's come from here).
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


def require_browser(chromium: str = CHROMIUM):
    missing = None
    if not Path(chromium).exists():
        missing = f"{chromium} is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install '.[test]')"
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run in CI: {missing}")
    if missing:
        pytest.skip(missing)


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)])
def test_missing_chromium_fails_under_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    if ci:
        monkeypatch.setenv("CI", ci)
    else:
        monkeypatch.delenv("CI", raising=False)
    with pytest.raises(outcome, match="not installed"):
        require_browser("/nonexistent/chromium")


@pytest.fixture(scope="module")
def server(seed_db_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    shutil.copy(seed_db_path, folder / "icc-events.db")
    with running_server(folder / "icc-events.db", folder / "server.log") as (base_url, _):
        yield base_url


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    """A page that may reach the server only: anything else is blocked and fails the test."""
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    outside, problems = [], []
    own = urlsplit(server).netloc

    def only_this_server(route):
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https") and url.netloc == own or url.scheme == "data":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
    )
    yield page
    context.close()
    assert outside == [], "requests left the server"
    assert problems == [], "the page reported errors (a CSP violation is one)"


def spec_operations() -> set[str]:
    """Swagger UI's element id for every operation in the spec: operations-<tag>-<operationId>."""
    return {
        f"operations-{operation['tags'][0]}-{operation['operationId']}"
        for item in load_spec()["paths"].values()
        for operation in item.values()
    }


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=False)


def test_docs_show_every_operation_and_try_it_out_calls_this_server(page, server):
    calls = []
    page.on("request", lambda r: calls.append(r.url) if "/v1/warrants" in r.url else None)
    page.goto("/docs")
    expected = spec_operations()
    # Locators, not page-side functions: the page's CSP forbids the eval those need.
    page.locator(".opblock").nth(len(expected) - 1).wait_for()
    shown = {block.get_attribute("id") for block in page.locator(".opblock").all()}
    assert shown == expected
    screenshot(page, "docs.png")

    operation = page.locator("#operations-warrants-list_warrants")
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    operation.locator("button.execute").click()
    live = operation.locator(".live-responses-table tbody .response-col_status").first
    live.wait_for()
    assert live.inner_text().strip() == "200"
    body = operation.locator(".live-responses-table tbody .response-col_description pre").first.inner_text()
    assert "warrant-benjamin-netanyahu" in body
    assert calls and all(url.startswith(f"{server}/v1/warrants") for url in calls)


def test_source_viewer_highlight_leads_to_the_record_citing_it(page, server):
    page.goto(f"/sources/{SOURCE_ID}")
    highlight = page.locator("a.hl").first
    span = highlight.get_attribute("href")
    highlight.click()
    assert page.url.endswith(span)
    entry = page.locator(f"li:target{span}")
    assert entry.is_visible()
    record = entry.locator("a.record").first
    record_path = record.get_attribute("href")
    record.click()
    page.wait_for_url(f"{server}{record_path}")
    served = json.loads(page.locator("body").inner_text())
    start, end = (int(n) for n in span.removeprefix("#span-").split("-"))
    assert {(c["start"], c["end"]) for c in served["citations"]} >= {(start, end)}


def test_citation_url_marks_its_span_in_the_viewer(page, server):
    page.goto("/v1/warrants/warrant-benjamin-netanyahu")
    citation = json.loads(page.locator("body").inner_text())["citations"][0]
    page.goto(citation["url"])
    marked = page.locator("a.hl.targeted")
    marked.first.wait_for()
    assert "".join(marked.all_inner_texts()) == citation["quote"]


def test_landing_page_links_to_the_docs(page, server):
    page.goto("/")
    page.get_by_role("link", name="interactive API docs").click()
    page.wait_for_url(f"{server}/docs", wait_until="commit")

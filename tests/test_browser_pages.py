"""The pages for people in headless Chromium against a real server, each checked with axe-core.

Like tests/test_browser.py (whose fixtures these are): skips where Chromium or Playwright is missing,
fails instead under CI=true.
"""

import json
import struct
import urllib.request

import pytest

from api.model.collections import COLLECTIONS
from tests.test_browser import browser, page, server  # noqa: F401

SOURCE_ID = "trump-campaign-against-icc-faces-resistance"
# axe-core's impact levels that fail a page; moderate and minor ones are reported by axe, not here.
FAILING_IMPACTS = {"serious", "critical"}
PAGES = [
    "/",
    "/warrants",
    "/statements?kind=paraphrase&sort=-said",
    "/warrants/warrant-benjamin-netanyahu",
    "/officials/tomoko-akane",
    "/search",
    "/search?q=court",
    "/timeline",
    f"/sources/{SOURCE_ID}",
]
PHONE_WIDTH = 375


def serious_violations(tab) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each, with where they are."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(tab).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]


def seed_record_pages(server) -> list[str]:  # noqa: F811
    """Every record's page, as its JSON's links.html names it (every collection but sources)."""
    urls = []
    for name in COLLECTIONS:
        with urllib.request.urlopen(f"{server}/v1/{name}?limit=500") as response:
            urls.extend(r["links"]["html"] for r in json.load(response)["data"])
    return urls


def png_width(png: bytes) -> int:
    """The width of a PNG image, from its IHDR chunk."""
    return struct.unpack(">I", png[16:20])[0]


@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_serious_accessibility_violation(page, path):  # noqa: F811
    response = page.goto(path)
    assert response.status == 200
    assert serious_violations(page) == []


def test_every_seed_record_page_loads_and_passes_axe(page, server):  # noqa: F811
    urls = seed_record_pages(server)
    assert len(urls) > 50
    failures = {}
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        assert page.locator("h1").count() == 1, url
        if found := serious_violations(page):
            failures[url] = found
    assert failures == {}


def test_journalist_searches_a_name_opens_the_record_follows_a_citation_and_a_related_record(
    page,  # noqa: F811
    server,  # noqa: F811
):
    page.goto("/")
    page.get_by_label("Search every record").fill("Akane")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"{server}/search?q=Akane")
    assert page.locator(".hits mark").first.inner_text().lower() == "akane"
    assert serious_violations(page) == []

    page.locator(".hits a.record", has_text="Tomoko Akane").click()
    page.wait_for_url(f"{server}/officials/tomoko-akane")
    assert page.locator("h1").inner_text() == "Tomoko Akane"
    assert serious_violations(page) == []

    citation = page.locator("#field-role li.citation a.span").first
    quote = citation.inner_text().strip('\u201c\u201d"')
    href = citation.get_attribute("href")
    citation.click()
    page.wait_for_url(href)
    assert "#char=" in page.url
    marked = page.locator("a.hl.targeted")
    marked.first.wait_for()
    assert "".join(marked.all_inner_texts()) == quote

    page.go_back()
    page.wait_for_url(f"{server}/officials/tomoko-akane")
    page.locator("#field-organization_id a.ref").click()
    page.wait_for_url(f"{server}/organizations/icc")
    assert page.locator("h1").inner_text() == "International Criminal Court"
    assert serious_violations(page) == []


@pytest.fixture
def phone_without_javascript(browser, server):  # noqa: F811
    """A 375 px wide page with JavaScript off."""
    context = browser.new_context(
        base_url=server, viewport={"width": PHONE_WIDTH, "height": 800}, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_a_375px_screen_with_javascript_off(phone_without_javascript, path):
    tab = phone_without_javascript
    assert tab.goto(path).status == 200
    # A full-page screenshot is as wide as the document: wider than the screen means sideways scrolling.
    assert png_width(tab.screenshot(full_page=True)) <= PHONE_WIDTH


def test_filter_form_and_facets_work_without_javascript(phone_without_javascript, server):  # noqa: F811
    tab = phone_without_javascript
    tab.goto("/warrants")
    tab.get_by_role("combobox", name="Status").select_option("outstanding")
    tab.get_by_role("button", name="Apply").click()
    # The unfilled fields are dropped by a redirect, so the URL is one the API takes.
    tab.wait_for_url(f"{server}/warrants?status=outstanding&sort=issued")
    assert tab.locator("ol.records > li").count() == 2
    tab.locator(".facet a", has_text="war crimes").click()
    tab.wait_for_url(f"{server}/warrants?status=outstanding&sort=issued&crime=war_crimes")
    assert tab.locator("ol.records > li").count() == 2


def test_search_works_without_javascript(phone_without_javascript, server):  # noqa: F811
    tab = phone_without_javascript
    tab.goto("/search")
    tab.get_by_label("Words to find").fill("judge")
    tab.get_by_role("button", name="Search").click()
    tab.wait_for_url(f"{server}/search?q=judge")
    assert tab.locator(".hits li").count() > 0


def test_source_viewer_span_numbers_are_not_clipped(page):  # noqa: F811
    page.goto(f"/sources/{SOURCE_ID}")
    spans = page.locator("ol.spans > li")
    assert spans.count() >= 10  # two-digit numbers, which the list's padding used to clip
    aside, item = page.locator("aside").bounding_box(), spans.last.bounding_box()
    font_size = float(page.locator("ol.spans").evaluate("el => getComputedStyle(el).fontSize")[:-2])
    # Room for "100." and the marker's gap (about 2.5 em of the list's font) inside the scrolling aside.
    assert item["x"] - aside["x"] >= 2.5 * font_size

"""/docs: Swagger UI from files this server serves, under a CSP that allows no inline code."""

import pytest
from flask.testing import FlaskClient

from tests.conftest import assert_problem
from tests.html_page import Page


def test_docs_page_loads_everything_from_this_server(client):
    response = client.get("/docs")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.inline_scripts == []
    urls = [a["src"] for a in page.all("script")] + [a["href"] for a in page.all("link")]
    assert "/docs/assets/swagger-ui-bundle.js" in urls
    assert "/static/docs.js" in urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        with client.get(url) as asset:
            assert asset.status_code == 200, url
    assert page.all("div", id="swagger-ui")[0]["data-spec-url"] == "/openapi.yaml"


def test_docs_page_policy_allows_only_scripts_from_this_server(client):
    policy = client.get("/docs").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe" not in policy


def test_vendored_swagger_ui_is_version_5():
    from api.web.docs import SWAGGER_UI_DIST

    assert (SWAGGER_UI_DIST / "VERSION").read_text().strip().startswith("v5.")


@pytest.mark.parametrize(
    "name",
    ["swagger-ui.js", "oauth2-redirect.html", "LICENSE", "..%2F..%2F__init__.py", "..%2Fflask_swagger_ui.py"],
)
def test_docs_assets_outside_the_allowlist_are_problem_404(client, name):
    assert_problem(client.get(f"/docs/assets/{name}"), 404)


def test_docs_assets_are_cacheable_and_not_sniffed(app):
    with FlaskClient(app).get("/docs/assets/swagger-ui-bundle.js") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "max-age=86400" in response.headers["Cache-Control"]

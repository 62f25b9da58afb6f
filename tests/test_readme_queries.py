"""Every question the README answers with curl gets a 200 (with data) from the seed."""

import re

import pytest

from tests.test_readme import ROOT

URL = re.compile(r"'?http://127\.0\.0\.1:8000(/[^' ]*)'?")


def readme_urls() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [m.group(1) for line in text.splitlines() if "curl" in line for m in URL.finditer(line)]


@pytest.mark.parametrize("url", readme_urls())
def test_readme_question_is_answered(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data()


def test_the_readme_asks_the_issue_s_questions():
    urls = readme_urls()
    assert "/v1/warrants?status=outstanding&fields=title,issued" in urls
    assert "/v1/search?q=pressure+court" in urls

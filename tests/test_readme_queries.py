"""Every read the README shows with curl gets a 200 (with data) from the seed."""

import re

import pytest

from tests.test_readme import ROOT

URL = re.compile(r"'?http://127\.0\.0\.1:8000(/[^' ]*)'?")


def readme_urls() -> list[str]:
    """URLs of the README's GET examples; writes (-X) and placeholders (<cursor>) are left out."""
    lines = (ROOT / "README.md").read_text().splitlines()
    reads = [line for line in lines if "curl" in line and " -X " not in line]
    return [m.group(1) for line in reads for m in URL.finditer(line) if "<" not in m.group(1)]


@pytest.mark.parametrize("url", readme_urls())
def test_readme_question_is_answered(client, url):
    # buffered: the test client then closes the response, as a server would (file downloads hold a file)
    response = client.get(url, buffered=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data()


def test_the_readme_asks_the_issue_s_questions():
    urls = readme_urls()
    assert "/v1/warrants?status=outstanding&fields=title,issued" in urls
    assert "/v1/search?q=pressure+court" in urls

"""Big downloads as files: built once per data version, served with byte ranges, resumable."""

import json
import threading
import zlib

import pytest
from flask.testing import FlaskClient

from api.config import settings_from_environment
from api.exports.download_files import KEEP_PER_FAMILY, family_files, open_download
from api.web.app import create_app
from tests.conftest import assert_problem
from tests.curation_data import JSON_HEADERS, new_organization

DOWNLOADS = [
    "/v1/export/ftm",
    "/v1/export/sqlite",
    "/v1/export/csv.zip",
    "/v1/statements?format=ndjson",
    "/v1/warrants?format=csv",
]


def whole(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.content_length == len(response.get_data()) > 100
    return response.get_data()


def add_organization(client, writer, record_id: str):
    response = client.post(
        "/v1/organizations",
        data=json.dumps(new_organization(record_id)),
        headers={**writer, **JSON_HEADERS},
    )
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize("url", DOWNLOADS)
def test_a_range_is_206_with_those_bytes_and_their_content_range(client, url):
    body = whole(client, url)
    response = client.get(url, headers={"Range": "bytes=10-99"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 10-99/{len(body)}"
    assert response.content_length == 90
    assert response.get_data() == body[10:100]
    assert response.headers["ETag"] == client.get(url).headers["ETag"]


@pytest.mark.parametrize("url", DOWNLOADS)
def test_a_suffix_range_is_the_last_bytes(client, url):
    body = whole(client, url)
    response = client.get(url, headers={"Range": "bytes=-20"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {len(body) - 20}-{len(body) - 1}/{len(body)}"
    assert response.get_data() == body[-20:]


@pytest.mark.parametrize("url", DOWNLOADS)
@pytest.mark.parametrize("asked", ["bytes={length}-", "bytes=abc", "bytes=9-3"])
def test_a_range_with_no_bytes_of_the_file_is_problem_416_with_its_length(client, url, asked):
    length = len(whole(client, url))
    response = client.get(url, headers={"Range": asked.format(length=length)})
    assert_problem(response, 416)
    assert response.headers["Content-Range"] == f"bytes */{length}"


@pytest.mark.parametrize("asked", ["bytes=0-1,5-6", "items=0-5"])
def test_several_ranges_or_another_unit_get_the_whole_file(client, asked):
    body = whole(client, "/v1/export/ftm")
    response = client.get("/v1/export/ftm", headers={"Range": asked})
    assert response.status_code == 200
    assert response.get_data() == body


@pytest.mark.parametrize("url", DOWNLOADS)
def test_if_range_with_the_current_etag_is_the_range_and_with_a_stale_one_the_whole_file(client, url):
    first = client.get(url)
    body, etag = first.get_data(), first.headers["ETag"]
    current = client.get(url, headers={"Range": "bytes=5-", "If-Range": etag})
    assert current.status_code == 206
    assert current.get_data() == body[5:]
    stale = client.get(url, headers={"Range": "bytes=5-", "If-Range": '"not-the-current-version"'})
    assert stale.status_code == 200
    assert stale.get_data() == body


@pytest.mark.parametrize("url", DOWNLOADS)
def test_head_of_a_download_has_its_length_and_validators_and_no_body(app, client, url):
    body = whole(client, url)
    client = FlaskClient(app)  # the spec describes GET; a HEAD is its headers
    response = client.head(url, buffered=True)
    assert response.status_code == 200
    assert response.content_length == len(body)
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.get_data() == b""
    ranged = client.head(url, headers={"Range": "bytes=0-9"}, buffered=True)
    assert ranged.status_code == 206
    assert ranged.headers["Content-Range"] == f"bytes 0-9/{len(body)}"


def test_a_stale_if_match_is_problem_412(client):
    assert_problem(client.get("/v1/export/ftm", headers={"If-Match": '"stale"'}), 412)


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
@pytest.mark.parametrize("collection", ["statements", "organizations", "warrants"])
def test_a_whole_collection_file_is_byte_for_byte_the_stream(app, client, collection, fmt):
    served = whole(client, f"/v1/{collection}?format={fmt}")
    # A filter every record matches keeps the request on the streaming path.
    streamed = client.get(f"/v1/{collection}?format={fmt}&changed_since=1970-01-01T00:00:00Z")
    assert streamed.status_code == 200 and "Accept-Ranges" not in streamed.headers
    assert served == streamed.get_data()
    assert client.get(f"/v1/{collection}?format={fmt}").content_type == streamed.content_type
    # Compressed on the fly as the stream was (flask-compress streams deflate, br or zstd, not gzip).
    compressed = FlaskClient(app).get(
        f"/v1/{collection}?format={fmt}", headers={"Accept-Encoding": "deflate"}, buffered=True
    )
    assert compressed.headers["Content-Encoding"] == "deflate"
    assert zlib.decompress(compressed.get_data()) == served


def test_a_build_is_logged_once_as_a_json_line_with_its_write_and_sync_times(client, capsys):
    capsys.readouterr()
    body = whole(client, "/v1/statements?format=ndjson")
    assert whole(client, "/v1/statements?format=ndjson") == body  # the second read builds nothing
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [built] = [line for line in lines if line["message"].startswith("Built the download")]
    assert built["message"] == "Built the download statements.ndjson"
    assert built["level"] == "info" and built["download"] == "statements.ndjson"
    assert built["bytes"] == len(body)
    assert built["write_s"] >= 0 and built["sync_s"] >= 0
    # It joins the access line of the request that built it.
    [first_access, _] = [line for line in lines if line["message"] == "request"]
    assert built["request_id"] == first_access["request_id"]


def test_a_range_is_never_compressed(client):
    body = whole(client, "/v1/statements?format=ndjson")
    response = client.get(
        "/v1/statements?format=ndjson", headers={"Range": "bytes=100-", "Accept-Encoding": "deflate"}
    )
    assert response.status_code == 206
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == body[100:]


@pytest.mark.parametrize(
    "url",
    [
        "/v1/statements?format=ndjson&kind=paraphrase",
        "/v1/statements?format=ndjson&sort=-said",
        "/v1/statements?format=csv&fields=summary",
        "/v1/statements?format=ndjson&limit=5",
    ],
)
def test_filtered_sorted_shaped_or_limited_lists_stream_as_before(client, url):
    response = client.get(url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 200
    assert "Accept-Ranges" not in response.headers


@pytest.mark.parametrize(
    ("url", "family"),
    [("/v1/export/ftm", "export-ftm"), ("/v1/organizations?format=ndjson", "organizations.ndjson")],
)
def test_a_write_makes_the_next_download_a_new_file_and_the_old_one_is_not_served(
    client, writer, db_path, url, family
):
    directory = db_path.parent / f"{db_path.name}.downloads"
    before = client.get(url)
    assert [p.name for p in family_files(directory, family)] == [f"{family}.{before.get_etag()[0]}"]
    add_organization(client, writer, "download-monitor")
    after = client.get(url)
    assert after.status_code == 200
    assert after.get_etag() != before.get_etag()
    assert b"download-monitor" in after.get_data() and b"download-monitor" not in before.get_data()
    assert f"{family}.{after.get_etag()[0]}" in [p.name for p in family_files(directory, family)]
    # Resuming the old copy gets the whole new file, never the old bytes.
    resumed = client.get(url, headers={"Range": "bytes=5-", "If-Range": before.headers["ETag"]})
    assert resumed.status_code == 200
    assert resumed.get_data() == after.get_data()


def test_only_the_newest_files_of_a_download_are_kept(client, writer, db_path):
    directory = db_path.parent / f"{db_path.name}.downloads"
    for number in range(KEEP_PER_FAMILY + 2):
        add_organization(client, writer, f"monitor-{number}")
        assert client.get("/v1/organizations?format=csv").status_code == 200
    assert len(family_files(directory, "organizations.csv")) == KEEP_PER_FAMILY


def test_files_land_in_the_configured_directory(db_path, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "downloads"
    app = create_app({"DATABASE": str(db_path), "RATE_LIMIT_ENABLED": False, "DOWNLOADS_DIR": str(elsewhere)})
    assert app.test_client().get("/v1/export/csv.zip", buffered=True).status_code == 200
    assert [p.name.split(".")[0] for p in elsewhere.iterdir() if not p.name.startswith(".")] == ["export-csv"]
    assert not (db_path.parent / f"{db_path.name}.downloads").exists()


def test_the_directory_comes_from_the_environment():
    assert settings_from_environment({"ICC_EVENTS_DOWNLOADS_DIR": "/srv/dl"}) == {"DOWNLOADS_DIR": "/srv/dl"}


def test_a_directory_that_cannot_be_made_is_problem_503(db_path, tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    under_a_file = str(tmp_path / "a-file" / "downloads")
    app = create_app({"DATABASE": str(db_path), "RATE_LIMIT_ENABLED": False, "DOWNLOADS_DIR": under_a_file})
    response = app.test_client().get("/v1/export/ftm", buffered=True)
    assert_problem(response, 503)
    assert response.headers["Retry-After"]


VERSION = "0123456789abcdef0123456789abcdef"


def test_a_build_writes_beside_the_final_name_which_appears_only_complete(tmp_path):
    final = tmp_path / f"things.{VERSION}"

    def write(path):
        assert path.parent == tmp_path and path != final
        path.write_bytes(b"half")
        assert not final.exists()  # nothing under the final name while the file is written
        with path.open("ab") as out:
            out.write(b" and the rest")
        return VERSION

    file, version = open_download(tmp_path, "things", VERSION, write)
    with file:
        assert (version, file.read()) == (VERSION, b"half and the rest")
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == [final.name]


def test_a_build_that_fails_leaves_nothing_and_the_next_one_builds(tmp_path):
    def fail(path):
        path.write_bytes(b"part")
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        open_download(tmp_path, "things", VERSION, fail)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []
    file, _ = open_download(tmp_path, "things", VERSION, lambda p: p.write_bytes(b"whole") and VERSION)
    with file:
        assert file.read() == b"whole"


def test_a_dead_builders_temporary_file_is_removed_by_the_next_build(tmp_path):
    orphan = tmp_path / ".things.deadbeef.tmp"
    orphan.write_bytes(b"left by a killed worker")
    file, _ = open_download(tmp_path, "things", VERSION, lambda p: p.write_bytes(b"x") and VERSION)
    file.close()
    assert not orphan.exists()


def test_racing_builders_build_once_and_read_the_same_file(tmp_path):
    builds, start, results = [], threading.Barrier(4), []

    def write(path):
        builds.append(path)
        path.write_bytes(b"one build")
        return VERSION

    def download():
        start.wait()
        file, _ = open_download(tmp_path, "things", VERSION, write)
        with file:
            results.append(file.read())

    threads = [threading.Thread(target=download) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert results == [b"one build"] * 4

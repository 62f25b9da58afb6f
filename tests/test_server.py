"""The real server process: JSON access logs on stderr, request ids, and a clean exit on SIGTERM."""

import json
import signal
import urllib.request

from tests.server_process import running_server


def test_server_logs_json_lines_and_exits_0_on_sigterm(seed_db_path, tmp_path):
    db_path, log_path = tmp_path / "icc-events.db", tmp_path / "server.log"
    db_path.write_bytes(seed_db_path.read_bytes())
    with running_server(db_path, log_path, workers=2) as (base_url, process):
        request = urllib.request.Request(f"{base_url}/v1/warrants", headers={"X-Request-ID": "sigterm-test"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 200
            assert response.headers["X-Request-ID"] == "sigterm-test"
        process.send_signal(signal.SIGTERM)
        # A bound, not a measurement: a server that ignores SIGTERM would hang here and fail.
        assert process.wait(timeout=15) == 0
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    entry = next(line for line in lines if line.get("request_id") == "sigterm-test")
    assert {k: entry[k] for k in ("method", "path", "status")} == {
        "method": "GET",
        "path": "/v1/warrants",
        "status": 200,
    }
    assert entry["duration_ms"] > 0
    assert "Shutting down" in log_path.read_text()

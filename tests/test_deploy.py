"""deploy/: the systemd unit and the nginx site agree with each other and with the app they run."""

import re
import shlex
from pathlib import Path

from api.cli import cli
from api.config import DEFAULTS, parse_networks
from api.server.process import GRACEFUL_TIMEOUT
from api.web.proxies import is_in, networks_of

DEPLOY = Path(__file__).parent.parent / "deploy"


def unit_settings() -> dict[str, list[str]]:
    """Each Key=Value of deploy/icc-events.service, every value of a key repeated."""
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / "icc-events.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def serve_options() -> dict:
    """The options ExecStart gives `icc-events serve`, as the CLI parses them."""
    [exec_start] = unit_settings()["ExecStart"]
    program, command, *arguments = shlex.split(exec_start)
    assert program.endswith("/icc-events") and command == "serve"
    return cli.commands["serve"].make_context("serve", arguments).params


def unit_environment() -> dict[str, str]:
    return dict(value.partition("=")[::2] for value in unit_settings()["Environment"])


def test_the_unit_serves_on_the_loopback_address_nginx_proxies_to():
    options = serve_options()
    upstream = re.search(
        r"upstream icc_events \{[^}]*server ([\d.]+):(\d+);", (DEPLOY / "nginx.conf").read_text()
    )
    assert (options["host"], options["port"]) == (upstream[1], int(upstream[2]))
    assert options["host"].startswith("127.")


def test_the_app_trusts_forwarded_addresses_from_nginx_alone():
    trusted = parse_networks(unit_environment()["ICC_EVENTS_TRUSTED_PROXIES"])
    assert is_in("127.0.0.1", networks_of(trusted))
    assert not is_in("192.0.2.1", networks_of(trusted))
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx


def test_stopping_waits_longer_than_the_apps_grace_period_and_reload_is_a_hup():
    settings = unit_settings()
    assert settings["KillSignal"] == ["SIGTERM"]
    assert int(settings["TimeoutStopSec"][0]) > GRACEFUL_TIMEOUT
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]


def test_nginx_refuses_bodies_the_app_would_refuse_and_buffers_within_a_bound():
    nginx = (DEPLOY / "nginx.conf").read_text()
    [megabytes] = re.findall(r"client_max_body_size (\d+)m;", nginx)
    assert int(megabytes) * 1024 * 1024 == DEFAULTS["MAX_BODY_BYTES"]
    [temp_file] = re.findall(r"proxy_max_temp_file_size (\d+)m;", nginx)
    assert 0 < int(temp_file) <= 1024

"""Settings: defaults, ICC_EVENTS_* variables parsed in one place, bad values named."""

import pytest
from click.testing import CliRunner

from api.cli import cli
from api.config import DEFAULTS, SettingError, settings_from_environment
from api.web.app import create_app


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, {}),
        ({"ICC_EVENTS_DB": "/data/icc.db"}, {"DATABASE": "/data/icc.db"}),
        ({"ICC_EVENTS_ACCESS_LOG": "Off"}, {"ACCESS_LOG": False}),
        ({"ICC_EVENTS_ACCESS_LOG": "1"}, {"ACCESS_LOG": True}),
        ({"ICC_EVENTS_LOG_LEVEL": "warning"}, {"LOG_LEVEL": "WARNING"}),
        ({"ICC_EVENTS_PORT": "8080", "ICC_EVENTS_WORKERS": "4"}, {"PORT": 8080, "WORKERS": 4}),
        ({"ICC_EVENTS_HEADER_READ_TIMEOUT": "30"}, {"HEADER_READ_TIMEOUT": 30}),
        ({"ICC_EVENTS_HOST": "0.0.0.0", "OTHER": "x"}, {"HOST": "0.0.0.0"}),
        ({"ICC_EVENTS_BASE_URL": "https://icc-events.example/"}, {"BASE_URL": "https://icc-events.example"}),
    ],
)
def test_environment_overrides_are_parsed(environ, expected):
    assert settings_from_environment(environ) == expected


@pytest.mark.parametrize(
    "environ",
    [
        {"ICC_EVENTS_ACCESS_LOG": "maybe"},
        {"ICC_EVENTS_LOG_LEVEL": "LOUD"},
        {"ICC_EVENTS_PORT": "0"},
        {"ICC_EVENTS_PORT": "http"},
        {"ICC_EVENTS_WORKERS": "65"},
        {"ICC_EVENTS_HEADER_READ_TIMEOUT": "61"},
        {"ICC_EVENTS_BASE_URL": "icc-events.example"},
        {"ICC_EVENTS_BASE_URL": "https://icc-events.example/#top"},
    ],
)
def test_bad_environment_value_is_an_error_naming_the_variable(environ):
    [(variable, value)] = environ.items()
    with pytest.raises(SettingError, match=f"^{variable}='{value}': expected"):
        settings_from_environment(environ)


def test_bad_environment_value_stops_the_cli_with_a_usage_error(monkeypatch):
    monkeypatch.setenv("ICC_EVENTS_WORKERS", "lots")
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 2
    assert "ICC_EVENTS_WORKERS='lots'" in result.stderr
    assert "Traceback" not in result.output


def test_environment_sits_between_defaults_and_explicit_config(monkeypatch, db_path):
    monkeypatch.setenv("ICC_EVENTS_ACCESS_LOG", "false")
    monkeypatch.setenv("ICC_EVENTS_LOG_LEVEL", "error")
    app = create_app({"DATABASE": str(db_path), "LOG_LEVEL": "DEBUG"})
    assert app.config["ACCESS_LOG"] is False
    assert app.config["LOG_LEVEL"] == "DEBUG"
    assert app.config["WORKERS"] == DEFAULTS["WORKERS"]


def test_cli_defaults_come_from_the_environment(monkeypatch, tmp_path):
    path = tmp_path / "from-env.db"
    monkeypatch.setenv("ICC_EVENTS_DB", str(path))
    result = CliRunner().invoke(cli, ["seed"])
    assert result.exit_code == 0, result.output
    assert path.exists()
    assert "Loading collections" in result.stderr
    assert result.stdout.startswith(f"Built {path}:")

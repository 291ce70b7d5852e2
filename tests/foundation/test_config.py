"""spear.yaml validation: every problem names the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import Config, TlsMode, load_config, resolve_secrets
from engine.errors import ConfigError
from engine.shipped import STARTER_CONFIG

MAILBOX = """\
mailboxes:
  - name: alex
    address: alex@example-sender.com
    smtp:
      host: 127.0.0.1
      port: {port}
      tls: none
      user: alex
      password: {password}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spear.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_password_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALEX_PW", "s3cret")
    config = load_config(write(tmp_path, MAILBOX.format(port=2525, password="${ALEX_PW}")))
    password = config.mailbox("alex").smtp.password
    assert password is not None and password.value == "s3cret"
    assert "s3cret" not in repr(config)


def test_password_from_a_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "alex.secret").write_text("from-file\n")
    config = load_config(write(tmp_path, MAILBOX.format(port=2525, password="{file: alex.secret}")))
    password = config.mailbox("alex").smtp.password
    assert password is not None and password.value == "from-file"


def test_missing_password_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_PW", raising=False)
    path = write(tmp_path, MAILBOX.format(port=2525, password="${NOPE_PW}"))
    config = load_config(path)  # read only by what connects
    with pytest.raises(ConfigError) as error:
        resolve_secrets(config)
    assert str(error.value) == (
        f"{path}:9: mailboxes.0.smtp.password: environment variable NOPE_PW is not set"
    )


def test_inline_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="never written inline"):
        load_config(write(tmp_path, MAILBOX.format(port=2525, password="hunter2")))


def test_unknown_key(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: UTC\npoll_intervall: 5\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}:2: poll_intervall: unknown key"


def test_bad_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALEX_PW", "x")
    path = write(tmp_path, MAILBOX.format(port=70000, password="${ALEX_PW}"))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.location.line == 6
    assert error.value.location.field == "mailboxes.0.smtp.port"
    assert "less than or equal to 65535" in error.value.reason


def test_plain_smtp_only_on_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALEX_PW", "x")
    text = MAILBOX.format(port=25, password="${ALEX_PW}").replace("127.0.0.1", "mail.example.com")
    with pytest.raises(ConfigError, match="only allowed on loopback"):
        load_config(write(tmp_path, text))


def test_unknown_time_zone(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: Mars/Olympus\n")
    with pytest.raises(ConfigError, match=r":1: timezone: .*unknown IANA time zone"):
        load_config(path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: UTC\nmailboxes: [\n  - oops: {\n")
    with pytest.raises(ConfigError, match=r"spear.yaml:\d+: invalid YAML"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "database: sqlite:///state/spear.db\n"))
    assert config.database_url == f"sqlite:///{tmp_path.resolve() / 'state' / 'spear.db'}"
    assert config.cadences_path == tmp_path.resolve() / "cadences"


def test_starter_config_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEAR_ALEX_PASSWORD", "x")
    config = load_config(STARTER_CONFIG)
    assert isinstance(config, Config)
    assert config.mailbox("alex").smtp.tls is TlsMode.STARTTLS
    assert "executives" in config.segments

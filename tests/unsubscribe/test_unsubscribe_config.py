"""The unsubscribe section of spear.yaml: a mailto Spear reads, one-click settings, the starter."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import config_secrets, load_config, resolve_secrets
from engine.errors import ConfigError
from engine.shipped import STARTER_CONFIG

MAILBOX = """\
  - name: {name}
    address: {name}@example-sender.com
    smtp: {{host: 127.0.0.1, port: 2525, tls: none}}
"""
IMAP = "    imap: {host: 127.0.0.1, port: 1143, tls: none}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spear.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def mailboxes(*polled: str, unpolled: tuple[str, ...] = ()) -> str:
    entries = [MAILBOX.format(name=n) + IMAP for n in polled]
    entries += [MAILBOX.format(name=n) for n in unpolled]
    return "mailboxes:\n" + "".join(entries)


def test_the_starter_config_passes_its_check_with_the_new_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPEAR_ALEX_PASSWORD", "x")
    config = load_config(STARTER_CONFIG)
    # The mailto is each sending mailbox itself, which Spear polls.
    assert config.unsubscribe.mailto is None
    assert [m.name for m in config.sending_mailboxes] == ["alex"]
    assert config.mailbox("alex").imap is not None


def test_the_starters_commented_one_click_block_works_when_uncommented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPEAR_ALEX_PASSWORD", "x")
    monkeypatch.setenv("SPEAR_UNSUBSCRIBE_SECRET", "0123456789abcdef-secret")
    text = STARTER_CONFIG.read_text(encoding="utf-8")
    lines = text.splitlines()
    start = lines.index("# unsubscribe:")
    block = [lines[start][2:]]
    for line in lines[start + 1 :]:
        if not line.startswith("#   "):
            break
        if "mailto:" not in line:  # the example address is not a mailbox of the starter
            block.append(line[2:])
    config = load_config(write(tmp_path, text + "\n" + "\n".join(block) + "\n"))
    one_click = config.unsubscribe.one_click
    assert one_click is not None
    assert one_click.public_url == "https://unsubscribe.example-sender.com"
    assert (one_click.host, one_click.port) == ("127.0.0.1", 8058)
    assert one_click.secret in config_secrets(config).values()  # masked in every log line


def test_a_separate_unsubscribe_address_must_be_a_polled_mailbox(tmp_path: Path) -> None:
    ok = load_config(
        write(
            tmp_path,
            mailboxes("alex", "optout") + "unsubscribe:\n  mailto: OptOut@example-sender.com\n",
        )
    )
    assert ok.unsubscribe_mailbox is not None and ok.unsubscribe_mailbox.name == "optout"
    # The unsubscribe mailbox receives requests; outreach goes out from the others.
    assert [m.name for m in ok.sending_mailboxes] == ["alex"]

    for text in (
        mailboxes("alex") + "unsubscribe:\n  mailto: unsubscribe@example-sender.com\n",
        mailboxes("alex", unpolled=("optout",))
        + "unsubscribe:\n  mailto: optout@example-sender.com\n",
    ):
        with pytest.raises(ConfigError) as error:
            load_config(write(tmp_path, text))
        message = str(error.value)
        assert "\n" not in message
        assert "spear.yaml:" in message and "unsubscribe.mailto" in message
        assert "is not the address of a mailbox Spear polls" in message


def test_the_only_mailbox_cannot_be_set_aside_for_unsubscribes(tmp_path: Path) -> None:
    text = mailboxes("alex") + "unsubscribe:\n  mailto: alex@example-sender.com\n"
    with pytest.raises(ConfigError, match="is the only mailbox"):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("one_click", "expected"),
    [
        ("{public_url: 'http://u.example.com', secret: '${S}'}", "must be an https:// base URL"),
        ("{public_url: 'https://u.example.com/?a=1', secret: '${S}'}", "without query"),
        (
            "{public_url: 'https://u.example.com', secret: 'inline-secret-value'}",
            "never written inline",
        ),
        ("{public_url: 'https://u.example.com', secret: '${SHORT}'}", "at least 16 characters"),
        (
            "{public_url: 'https://u.example.com', secret: '${S}', port: 0}",
            "greater than or equal to 1",
        ),
    ],
)
def test_one_click_settings_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_click: str, expected: str
) -> None:
    monkeypatch.setenv("S", "a-secret-long-enough")
    monkeypatch.setenv("SHORT", "short")
    with pytest.raises(ConfigError, match=r"unsubscribe\.one_click") as error:
        # A secret is read (and its length checked) by what uses it: resolve_secrets says so.
        resolve_secrets(load_config(write(tmp_path, f"unsubscribe:\n  one_click: {one_click}\n")))
    assert expected in str(error.value)


def test_one_click_base_url_loses_its_trailing_slash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "unsubscribe.secret").write_text("from-a-file-0123456789\n")
    config = load_config(
        write(
            tmp_path,
            "unsubscribe:\n  one_click:\n    public_url: https://u.example.com/spear/\n"
            "    secret: {file: unsubscribe.secret}\n",
        )
    )
    assert config.unsubscribe.one_click is not None
    assert config.unsubscribe.one_click.public_url == "https://u.example.com/spear"
    assert config.unsubscribe.one_click.secret.value == "from-a-file-0123456789"

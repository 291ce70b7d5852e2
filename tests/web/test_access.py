"""Who may reach the web inbox, and how a session is kept: over real HTTP on loopback."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner
from review.conftest import Workspace
from sqlmodel import Session, select

from engine.cli import main
from engine.config import Web, load_config
from engine.errors import ConfigError
from engine.harness.ports import free_port
from engine.store.models import ReviewDecision
from engine.web.access import AccessError, check_exposure, hash_password, verify_password
from engine.web.app import Inbox
from engine.web.server import serving_in_background

from .conftest import Client, Serve, pending_replies


def test_with_a_password_nothing_is_shown_before_signing_in(
    serve: Serve, workspace: Workspace
) -> None:
    [item, *_] = pending_replies(workspace)
    client = Client(serve(Web(password_hash=hash_password("correct horse"))))

    status, headers, _ = client.request("GET", "/queue")
    assert (status, headers["location"]) == (303, "/signin")
    assert client.request("GET", f"/reply/{item}/raw")[0] == 303
    token = client.csrf("/signin")
    assert client.request("POST", "/signin", {"name": "kim", "password": "x"})[0] == 403
    status, _, page = client.request(
        "POST", "/signin", {"csrf": token, "name": "kim", "password": "wrong"}
    )
    assert status == 200 and "Wrong name or password" in page
    status, headers, _ = client.request(
        "POST", "/signin", {"csrf": token, "name": "kim", "password": "correct horse"}
    )
    assert (status, headers["location"]) == (303, "/queue")
    flags = [flag.strip().lower() for flag in client.set_cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "secure" not in flags
    status, _, page = client.request("GET", "/queue")
    assert status == 200 and "kim" in page and "correct horse" not in page


def test_every_post_needs_the_session_token(serve: Serve, workspace: Workspace) -> None:
    [item, *_] = pending_replies(workspace)
    client = Client(serve(Web()))
    token = client.csrf(f"/reply/{item}")
    forged = {"move": "accept", "seen": "0.0"}
    assert client.request("POST", f"/reply/{item}/decide", forged)[0] == 403
    assert client.request("POST", f"/reply/{item}/decide", {**forged, "csrf": "guess"})[0] == 403
    assert client.request("POST", "/undo", {})[0] == 403
    with Session(workspace.engine) as session:
        assert session.exec(select(ReviewDecision)).all() == []
    status, headers, _ = client.request("POST", f"/reply/{item}/decide", {**forged, "csrf": token})
    assert status == 303 and headers["location"].startswith("/queue/next?")
    with Session(workspace.engine) as session:
        assert [d.inbound_id for d in session.exec(select(ReviewDecision))] == [item]


def test_cookies_are_secure_behind_tls_and_pages_carry_a_strict_policy(serve: Serve) -> None:
    client = Client(serve(Web(behind_tls=True)))
    status, headers, _ = client.request("GET", "/queue")
    assert status == 200
    assert "secure" in [flag.strip().lower() for flag in client.set_cookie.split(";")]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_a_decision_on_a_reply_decided_meanwhile_is_refused(
    serve: Serve, workspace: Workspace
) -> None:
    [item, *_] = pending_replies(workspace)
    url = serve(Web())
    client = Client(url)
    token = client.csrf(f"/reply/{item}")
    page = client.request("GET", f"/reply/{item}")[2]
    seen = re.search(r'name="seen" value="([^"]+)"', page)
    assert seen
    # The terminal decides it first (its lease is not the browser's business).
    runner = CliRunner()
    config = str(workspace.config_file)
    result = runner.invoke(main, ["--config", config, "review", str(item), "--accept"])
    assert result.exit_code == 0, result.output
    status, headers, _ = client.request(
        "POST", f"/reply/{item}/decide", {"csrf": token, "move": "accept", "seen": seen.group(1)}
    )
    assert (status, headers["location"]) == (303, f"/reply/{item}?")
    assert "decided this reply meanwhile" in client.request("GET", f"/reply/{item}")[2]
    with Session(workspace.engine) as session:
        assert len(session.exec(select(ReviewDecision)).all()) == 1


# --- refusing to listen beyond loopback without a password --------------------------------------


def test_a_non_loopback_listen_without_a_password_is_refused_with_one_line(
    workspace: Workspace,
) -> None:
    config = str(workspace.config_file)
    result = CliRunner().invoke(main, ["--config", config, "web", "--listen", "0.0.0.0:8025"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "refusing to serve the web inbox on 0.0.0.0" in result.output


def test_spear_run_refuses_a_non_loopback_web_listen_without_a_password(
    workspace: Workspace,
) -> None:
    with workspace.config_file.open("a") as config:
        config.write("web:\n  listen: 192.0.2.10:8025\n")
    result = CliRunner().invoke(main, ["--config", str(workspace.config_file), "run", "--once"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "refusing to serve the web inbox on 192.0.2.10" in result.output


def test_exposure_rule() -> None:
    check_exposure("127.0.0.1", None)
    check_exposure("::1", Web())
    check_exposure("0.0.0.0", Web(password_hash=hash_password("pw")))
    with pytest.raises(AccessError):
        check_exposure("0.0.0.0", Web())
    with pytest.raises(AccessError):
        check_exposure("example.com", None)


def test_passwords_hashed_or_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = hash_password("s3cret")
    assert "s3cret" not in stored
    assert verify_password(Web(password_hash=stored), "s3cret")
    assert not verify_password(Web(password_hash=stored), "s3cret ")
    assert not verify_password(Web(), "")
    monkeypatch.setenv("SPEAR_WEB_PASSWORD", "from-env")
    (tmp_path / "spear.yaml").write_text("web:\n  password: ${SPEAR_WEB_PASSWORD}\n")
    settings = load_config(tmp_path / "spear.yaml").web
    assert settings is not None and verify_password(settings, "from-env")
    assert "from-env" not in repr(settings)
    (tmp_path / "spear.yaml").write_text("web:\n  password_hash: hunter2\n")
    with pytest.raises(ConfigError, match=r"spear.yaml:2: web.password_hash"):
        load_config(tmp_path / "spear.yaml")


def test_beside_the_daemon_the_inbox_serves_until_the_daemon_stops(inbox: Inbox) -> None:
    port = free_port()
    inbox.config = inbox.config.model_copy(update={"web": Web(listen=f"127.0.0.1:{port}")})
    with serving_in_background(inbox) as server:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert Client(f"http://127.0.0.1:{port}").request("GET", "/queue")[0] == 200
    with pytest.raises(ConnectionRefusedError):
        Client(f"http://127.0.0.1:{port}").request("GET", "/queue")


def test_served_over_tls_the_session_cookie_is_secure(serve: Serve, tmp_path: Path) -> None:
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1")
    certificate.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    certificate.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    url = serve(Web(tls_cert=tmp_path / "cert.pem", tls_key=tmp_path / "key.pem"))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    connection = http.client.HTTPSConnection(
        "127.0.0.1", int(url.rsplit(":", 1)[1]), context=context
    )
    connection.request("GET", "/queue")
    response = connection.getresponse()
    flags = [f.strip().lower() for f in (response.getheader("set-cookie") or "").split(";")]
    connection.close()
    assert response.status == 200
    assert {"secure", "httponly", "samesite=strict"} <= set(flags)


def test_hash_password_prints_a_hash_the_config_accepts(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["web", "hash-password"], input="open sesame\nopen sesame\n")
    assert result.exit_code == 0, result.output
    stored = result.output.strip().splitlines()[-1]
    (tmp_path / "spear.yaml").write_text(
        f"web:\n  listen: 0.0.0.0:8025\n  password_hash: '{stored}'\n"
    )
    settings = load_config(tmp_path / "spear.yaml").web
    assert settings is not None and verify_password(settings, "open sesame")
    check_exposure(settings.host, settings)


def test_a_port_in_use_is_one_line(workspace: Workspace) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main, ["--config", str(workspace.config_file), "web", "--listen", f"127.0.0.1:{port}"]
        )
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert f"cannot serve the web inbox on 127.0.0.1:{port}" in result.output

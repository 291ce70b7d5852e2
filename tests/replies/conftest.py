"""Fixtures for reply tests: a small world in the database, replies written by hand, and a
throwaway Dovecot IMAP server when Debian's `dovecot-imapd` is installed."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from engine.cadences import Cadence, parse_cadence
from engine.clock import FixedClock, SystemClock
from engine.config import HandOff, ImapSettings, Replies, Secret, TlsMode
from engine.harness import Harness
from engine.harness.ports import free_port
from engine.replies import ReplySettings
from engine.replies.imap import ImapSyncer
from engine.replies.intake import FetchedMessage, Intake, process, store_raw
from engine.store.db import session_scope
from engine.store.models import (
    Event,
    InboundMessage,
)

from .acme import START, seed_acme

SENDER = "alex@example-sender.com"

# Shaped like the shipped `referral-ask` and `referral-followup`: one contact per account (the
# default), a referral enrols the person named in `referral-followup`.
OUTREACH_YAML = """\
name: outreach
steps:
  - id: ask
    subject: Quick question
    template: ask
  - id: bump
    wait: 3 days
    template: ask
on_reply:
  referral: enrol referral-followup
  not-now: enrol nurture at resume date
"""
REFERRED_YAML = OUTREACH_YAML.replace("name: outreach", "name: referral-followup")
# The replier's own re-enrolment still meets one-per-account; Sam stays in `outreach` here.
NURTURE_YAML = OUTREACH_YAML.replace("name: outreach", "name: nurture").replace(
    "steps:", "audience:\n  one_per_account: false\nsteps:"
)
TEMPLATES = {"ask": "Hi {{ prospect.first_name }}, who looks after sales tooling?\n\nAlex\n"}


def make_cadence(text: str) -> Cadence:
    return parse_cadence(text, "cadences/test.yaml", TEMPLATES.get, check_rendering=False)


@dataclass
class World:
    """An account with two contacts, each enrolled in `outreach`, and one email sent to Dana."""

    engine: Engine
    clock: FixedClock
    settings: ReplySettings
    ids: dict[str, int] = field(default_factory=dict)
    uid: int = 0

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def get(self, model: type[Any], key: Any) -> Any:
        with self.session() as session:
            return session.get(model, key)

    def events(self, inbound_id: int | None = None, *, live: bool = True) -> list[Event]:
        with self.session() as session:
            query = select(Event).order_by(Event.id)  # type: ignore[arg-type]
            if inbound_id is not None:
                query = query.where(Event.inbound_id == inbound_id)
            rows = list(session.exec(query).all())
        return [e for e in rows if not live or e.undone_at is None]

    def receive(self, raw: bytes) -> InboundMessage:
        """Store and process one message as intake does; returns the processed row."""
        self.uid += 1
        fetched = FetchedMessage("alex", "INBOX", 1, self.uid, raw)
        with session_scope(self.engine) as session:
            inbound = store_raw(session, fetched, now=self.clock.now())
            assert inbound is not None and inbound.id is not None
            process(session, inbound.id, self.settings, now=self.clock.now())
            return inbound

    # -- messages ----------------------------------------------------------------------------

    def reply(
        self,
        body: str,
        *,
        sender: str = "Dana Boss <dana@acme.example>",
        subject: str = "Re: Quick question",
        in_reply_to: str | None = "<o1@example-sender.com>",
        headers: str = "",
        message_id: str | None = None,
    ) -> bytes:
        self.uid_counter = getattr(self, "uid_counter", 0) + 1
        thread = (
            f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
        )
        mid = message_id or f"<reply-{self.uid_counter}-{id(body)}@acme.example>"
        return (
            f"From: {sender}\r\nTo: {SENDER}\r\nSubject: {subject}\r\n"
            f"Date: Tue, 02 Jun 2026 10:00:00 +0000\r\nMessage-ID: {mid}\r\n{thread}{headers}"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n"
        ).encode()

    def bounce(self, *, status: str = "5.1.1", diagnostic: str = "User unknown") -> bytes:
        self.uid_counter = getattr(self, "uid_counter", 0) + 1
        return f"""From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>\r
To: {SENDER}\r
Subject: Undelivered Mail Returned to Sender\r
Date: Tue, 02 Jun 2026 10:00:00 +0000\r
Message-ID: <bounce-{self.uid_counter}@mx.acme.example>\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\r
\r
--BB\r
Content-Type: text/plain\r
\r
Your message could not be delivered to dana@acme.example.\r
--BB\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.acme.example\r
\r
Final-Recipient: rfc822; dana@acme.example\r
Action: failed\r
Status: {status}\r
Diagnostic-Code: smtp; 550 {status} <dana@acme.example>: {diagnostic}\r
--BB--\r
""".encode()


def build_world(engine: Engine, clock: FixedClock, settings: ReplySettings) -> World:
    world = World(engine, clock, settings)
    world.ids = seed_acme(engine, settings.cadences["outreach"].version)
    return world


def reply_settings(**overrides: Any) -> ReplySettings:
    cadences = {c.name: c for c in map(make_cadence, (OUTREACH_YAML, REFERRED_YAML, NURTURE_YAML))}
    values: dict[str, Any] = {
        "replies": Replies(soft_bounce_limit=2, soft_bounce_window_days=30),
        "hand_off": HandOff(account_executive="ae@example-sender.com"),
        "cadences": cadences,
    }
    values.update(overrides)
    return ReplySettings(**values)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def world(db_engine: Engine, clock: FixedClock) -> World:
    return build_world(db_engine, clock, reply_settings())


# --- Dovecot ------------------------------------------------------------------------------------


@dataclass
class Dovecot:
    """A throwaway Dovecot serving Maildirs in a temporary folder, on a loopback port."""

    config: Path
    port: int
    user: str
    password: str
    maildir: Path
    imaps_port: int | None = None  # implicit TLS; `port` then offers STARTTLS (and requires it)
    ca_pem: bytes | None = None  # the throwaway CA that signed the server's certificate

    def client_ssl(self) -> ssl.SSLContext:
        """A client context trusting this server's CA, as a user with a private CA builds."""
        assert self.ca_pem is not None, "a plain Dovecot has no CA"
        context = ssl.create_default_context()
        context.load_verify_locations(cadata=self.ca_pem.decode("ascii"))
        return context

    def deliver(self, raw: bytes, name: str) -> None:
        """Drop a message into INBOX's Maildir, as a delivery agent would."""
        for sub in ("tmp", "new", "cur"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        (self.maildir / "tmp" / name).write_bytes(raw)
        os.replace(self.maildir / "tmp" / name, self.maildir / "new" / name)

    def reset_uidvalidity(self) -> None:
        """Forget the folder's UID list: Dovecot gives it a new UIDVALIDITY on next access."""
        for path in self.maildir.glob("dovecot-uidlist*"):
            path.unlink()
        for path in self.maildir.glob("dovecot.index*"):
            path.unlink()


def _service_users() -> tuple[str, str]:
    """(internal user, login user): Dovecot refuses to run its processes as root."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me
    internal = "dovecot" if _user_exists("dovecot") else "nobody"
    login = "dovenull" if _user_exists("dovenull") else "nobody"
    return internal, login


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A plain-text Dovecot (`ssl = no`) on one loopback port."""
    yield from _run_dovecot(tls=False)


@pytest.fixture
def dovecot_tls() -> Iterator[Dovecot]:
    """A Dovecot with `ssl = required`: STARTTLS on `port`, implicit TLS on `imaps_port`, a
    certificate for 127.0.0.1 and localhost from a throwaway `trustme` CA (`client_ssl()`)."""
    yield from _run_dovecot(tls=True)


def _run_dovecot(*, tls: bool) -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        pytest.skip("Dovecot is not installed (.ci/run installs Debian's dovecot-imapd)")
    # Not under pytest's tmp_path: as root that is private (0700), and Dovecot's own processes
    # run as unprivileged users that must reach the passwd file and the Maildir.
    root = Path(tempfile.mkdtemp(prefix="spear-dovecot-"))
    root.chmod(0o755)
    internal, login = _service_users()
    me = pwd.getpwuid(os.geteuid())
    mail_owner = me if os.geteuid() != 0 else pwd.getpwnam(internal)
    port = free_port()
    imaps_port = free_port() if tls else None
    password = "dovecot-test-password"
    user = "dana-mailbox"
    home = root / "home"
    maildir = home / "Maildir"
    maildir.mkdir(parents=True)
    (root / "run").mkdir()
    (root / "passwd").write_text(
        f"{user}:{{PLAIN}}{password}:{mail_owner.pw_uid}:{mail_owner.pw_gid}::{home}::\n"
    )
    ca_pem: bytes | None = None
    if tls:
        trustme = pytest.importorskip("trustme", reason="TLS tests need trustme (the test extra)")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_and_cert_chain_pem.write_to_path(str(root / "server.pem"))
        cert.private_key_pem.write_to_path(str(root / "server.key"))
        (root / "server.key").chmod(0o600)  # read by Dovecot's config process, as root
        ca_pem = ca.cert_pem.bytes()
        # `required`: no LOGIN before TLS, so a passing STARTTLS test proves the upgrade.
        ssl_settings = f"""ssl = required
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
"""
        imaps = f"""address = 127.0.0.1
    port = {imaps_port}"""
    else:
        ssl_settings = "ssl = no\n"
        imaps = "port = 0"
    config = root / "dovecot.conf"
    config.write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{ssl_settings}
disable_plaintext_auth = {"yes" if tls else "no"}
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:~/Maildir
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    {imaps}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
    )
    (root / "state").mkdir()
    if os.geteuid() == 0:  # the mail processes run as the mail owner, not as root
        for path in (home, maildir):
            os.chown(path, mail_owner.pw_uid, mail_owner.pw_gid)
    # In the foreground (-F): the process is ours to stop, and no daemon outlives the test.
    with (root / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr
        )
    server = Dovecot(config, port, user, password, maildir, imaps_port, ca_pem)
    try:
        _wait_for_port(port, process, root)
        if imaps_port is not None:
            _wait_for_port(imaps_port, process, root)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_port(
    port: int, process: subprocess.Popen[bytes], root: Path, timeout: float = 10.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "stderr.log").read_text(errors="replace")
                pytest.fail(f"dovecot did not start: {log}")
            time.sleep(0.05)


@pytest.fixture
def inbound_rows(db_engine: Engine) -> Any:
    def rows() -> list[InboundMessage]:
        with Session(db_engine) as session:
            return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)).all())  # type: ignore[arg-type]

    return rows


# Helpers the IMAP tests share.

USER = "alex@example-sender.com"


def same_mail(a: bytes, b: bytes) -> bool:
    """Equal up to line endings (pymap hands Maildir files back with bare LF)."""
    return a.replace(b"\r\n", b"\n") == b.replace(b"\r\n", b"\n")


def message(number: int, body: str = "Thanks, not interested.") -> bytes:
    return (
        f"From: Person {number} <person{number}@acme.example>\r\nTo: {USER}\r\n"
        f"Subject: Re: Quick question {number}\r\nMessage-ID: <m{number}@acme.example>\r\n"
        f"Date: Tue, 02 Jun 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
    ).encode()


def imap_settings(port: int, user: str, password: str, **extra: Any) -> ImapSettings:
    return ImapSettings(
        host="127.0.0.1",
        port=port,
        tls=TlsMode.NONE,
        user=user,
        password=Secret(password),
        timeout=5,
        **extra,
    )


def harness_settings(harness: Harness, **extra: Any) -> ImapSettings:
    return imap_settings(harness.imap_port, USER, harness.users[USER], **extra)


def syncer_for(
    settings: ImapSettings, engine: Engine, handler: Callable[[FetchedMessage], Awaitable[None]]
) -> ImapSyncer:
    return ImapSyncer("alex", settings, engine, handler, clock=SystemClock(), poll_interval=0.5)


def intake(engine: Engine) -> Intake:
    return Intake(engine, reply_settings(), SystemClock())


def stored(engine: Engine) -> list[InboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)).all())  # type: ignore[arg-type]

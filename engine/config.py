"""`spear.yaml`: the one configuration file, validated at start-up.

Errors name the file, the line and the key. Secrets never live in the file: a password is either
`${ENV_VAR}` (resolved from the environment) or `{file: PATH}` (read from a file), and the resolved
value is kept in a `Secret` whose repr hides it, so it cannot leak into a log line.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engine.basics.outcomes import Outcome, parse_outcome_key
from engine.basics.segments import SegmentFilter
from engine.basics.stages import win_rates
from engine.errors import ConfigError, Location
from engine.store.events import WebhookEvent
from engine.store.models import AccountGrade, AccountStage
from engine.yamlfile import dotted, line_of, load_yaml, validate

DEFAULT_CONFIG_FILE = "spear.yaml"
CONFIG_ENV = "SPEAR_CONFIG"
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_URL_EXAMPLE = "https://unsubscribe.example.com"
MIN_SECRET_LENGTH = 16
_PASSWORD_HASH = re.compile(r"^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$")


class Secret:
    """A password: usable through `.value`, invisible in repr and str.

    A reference (`${VAR}`, `{file: PATH}`) is resolved on first use, by what connects: commands
    that only read the database work without the password in the environment. `where` names the
    key in the file, so a variable that is not set is still one line with file, line and key.
    """

    __slots__ = ("_reference", "_resolve", "_value", "where")

    def __init__(self, value: str | None = None, *, reference: PasswordReference | None = None):
        if (value is None) == (reference is None):
            raise TypeError("a Secret is either a value or a reference")
        self._value = value
        self._reference = reference
        self.where: Location | None = None

    @property
    def value(self) -> str:
        if self._value is None:
            assert self._reference is not None
            try:
                self._value = self._reference.resolve()
            except ValueError as exc:
                raise ConfigError(self.where or Location("configuration"), str(exc)) from None
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return False
        if self._reference is not None or other._reference is not None:
            return self._reference == other._reference
        return other._value == self._value

    def __hash__(self) -> int:
        return hash(self._reference if self._reference is not None else self._value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class TlsMode(StrEnum):
    IMPLICIT = "implicit"
    STARTTLS = "starttls"
    NONE = "none"


class PasswordFile(_Strict):
    file: Path


@dataclass(frozen=True)
class PasswordReference:
    """Where a password is: an environment variable or a file (absolute, or beside the config)."""

    variable: str | None = None
    file: Path | None = None
    min_length: int = 0  # for secrets that sign something (one-click tokens)

    def resolve(self) -> str:
        value = self._read()
        if len(value) < self.min_length:
            raise ValueError(f"the secret must be at least {self.min_length} characters long")
        return value

    def _read(self) -> str:
        if self.variable is not None:
            if self.variable not in os.environ:
                raise ValueError(f"environment variable {self.variable} is not set")
            return os.environ[self.variable]
        assert self.file is not None
        try:
            return self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read password file {self.file}: {exc.strerror}") from None


def password_reference(raw: object, config_dir: Path, *, min_length: int = 0) -> Secret:
    """`${VAR}` or `{file: PATH}`, checked for shape now and read when first used."""
    if isinstance(raw, str):
        match = _ENV_REF.match(raw.strip())
        if not match:
            raise ValueError(
                "a password must be ${ENV_VAR} or {file: PATH}; it is never written inline"
            )
        return Secret(reference=PasswordReference(match.group(1), min_length=min_length))
    if isinstance(raw, dict):
        path = PasswordFile.model_validate(raw).file
        path = path if path.is_absolute() else config_dir / path
        return Secret(reference=PasswordReference(file=path, min_length=min_length))
    raise ValueError("a password must be ${ENV_VAR} or {file: PATH}")


def _optional_secret(raw: object, info: ValidationInfo) -> Secret | None:
    if raw is None or isinstance(raw, Secret):
        return raw
    return password_reference(raw, (info.context or {}).get("config_dir", Path.cwd()))


# A webhook's secret and the like: `${ENV_VAR}` or `{file: PATH}`, or nothing.
OptionalSecret = Annotated[Secret | None, BeforeValidator(_optional_secret)]


def beside_config(value: Path | None, info: ValidationInfo) -> Path | None:
    """A relative path in the config file, taken from the file's folder."""
    if value is None or value.is_absolute():
        return value
    return Path((info.context or {}).get("config_dir", Path.cwd())) / value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


MAX_DAILY_CAP = 10_000  # emails a mailbox may send in a day: far past any sane reputation


class ServerSettings(_Strict):
    host: str
    port: Annotated[int, Field(ge=1, le=65535)]
    tls: TlsMode = TlsMode.STARTTLS
    user: str | None = None
    password: OptionalSecret = None
    timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0
    ca_file: Path | None = None  # PEM file of a private CA to trust for this server

    @field_validator("ca_file")
    @classmethod
    def _ca_beside_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return beside_config(value, info)

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> Self:
        # Credentials and prospects' mail must never cross a network in clear text.
        if self.tls is TlsMode.NONE and not is_loopback(self.host):
            raise ValueError(f"tls: none is only allowed on loopback, not on {self.host}")
        return self


class ImapSettings(ServerSettings):
    folders: list[str] = Field(default_factory=lambda: ["INBOX"])
    mark_seen: bool = False  # reps read this inbox too: leave their flags alone unless asked


class Warmup(_Strict):
    start: Annotated[int, Field(ge=1, le=MAX_DAILY_CAP)] = 10
    step: Annotated[int, Field(ge=0, le=MAX_DAILY_CAP)] = 5


class MailboxConfig(_Strict):
    name: str
    address: str
    display_name: str = ""
    reply_to: str | None = None
    smtp: ServerSettings
    imap: ImapSettings | None = None
    daily_cap: Annotated[int, Field(ge=1, le=MAX_DAILY_CAP)] = 50
    hourly_cap: Annotated[int, Field(ge=1, le=MAX_DAILY_CAP)] = 20
    # Finite and at most a day: `.inf` or a huge gap overflows the slot arithmetic.
    min_gap_seconds: Annotated[float, Field(ge=0, le=86_400)] = 60.0
    jitter_seconds: Annotated[float, Field(ge=0, le=86_400)] = 30.0
    warmup: Warmup | None = None
    owner: str | None = None  # the rep this mailbox belongs to: their tasks, their pipeline

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[-1].lower()


class RedFlags(_Strict):
    competitor_domains: list[str] = Field(default_factory=list)
    excluded_countries: list[str] = Field(default_factory=list)
    customer_domains: list[str] = Field(default_factory=list)


class Routing(StrEnum):
    ROUND_ROBIN = "round-robin"  # each hand-off to the next executive in turn
    BY_SEGMENT = "by-segment"  # to the executive whose segments the prospect is in


class AccountExecutive(_Strict):
    address: str
    name: str = ""  # how the pipeline names the owner; the address when empty
    segments: list[str] = Field(default_factory=list)  # for routing: by-segment

    @model_validator(mode="before")
    @classmethod
    def _from_address(cls, raw: object) -> object:
        return {"address": raw} if isinstance(raw, str) else raw

    @property
    def owner(self) -> str:
        return self.name or self.address


class HandOff(_Strict):
    account_executive: str | None = None  # one executive; or several in account_executives
    account_executives: list[AccountExecutive] = Field(default_factory=list)
    routing: Routing = Routing.ROUND_ROBIN
    from_mailbox: str | None = None

    @property
    def executives(self) -> list[AccountExecutive]:
        single = (
            [AccountExecutive(address=self.account_executive)] if self.account_executive else []
        )
        return [*self.account_executives, *single]


class Tasks(_Strict):
    """Call, LinkedIn and other task steps: what the team calls each outcome, and defaults."""

    outcome_names: dict[Annotated[Outcome, BeforeValidator(parse_outcome_key)], str] = Field(
        default_factory=dict
    )
    call_back_days: Annotated[int, Field(ge=1)] = 14  # "call back later" without a date


class Pipeline(_Strict):
    """The weighted pipeline: each stage's win rate, deal sizes by grade, speed to lead."""

    win_rates: dict[AccountStage, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: win_rates({})
    )
    deal_sizes: dict[AccountGrade, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    speed_to_lead_hours: Annotated[float, Field(gt=0)] = 24.0
    # Signs `POST /acknowledge` on the metrics endpoint (${ENV_VAR} or {file: PATH}).
    acknowledge_secret: OptionalSecret = None

    @field_validator("win_rates")
    @classmethod
    def _with_defaults(cls, value: dict[AccountStage, float]) -> dict[AccountStage, float]:
        return win_rates(value)


class Webhook(_Strict):
    url: str
    events: list[WebhookEvent] = Field(default_factory=lambda: list(WebhookEvent))
    secret: OptionalSecret = None


class Replies(_Strict):
    soft_bounce_limit: Annotated[int, Field(ge=1, le=1000)] = 3
    soft_bounce_window_days: Annotated[int, Field(ge=1, le=3650)] = 30
    auto_reply_delay_days: Annotated[int, Field(ge=0, le=366)] = 7
    block_alarm_rate: Annotated[float, Field(gt=0, le=1)] = 0.05
    block_alarm_min_count: Annotated[int, Field(ge=1, le=1000)] = 3
    # A bounce or a From-matched reply is ours when its mailbox wrote to the address this lately.
    sent_window_days: Annotated[int, Field(ge=1, le=3650)] = 90


class OneClick(_Strict):
    """RFC 8058 one-click unsubscribe, served by Spear (`spear run`, `spear unsubscribe serve`).

    `public_url` is what recipients reach (usually a reverse proxy terminating TLS); Spear listens
    on `host`:`port` behind it. `secret` signs the per-recipient tokens in the URLs.
    """

    public_url: str
    secret: Secret
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8058

    @field_validator("public_url")
    @classmethod
    def _https_base(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        # Mail providers only offer one-click for https; a query or fragment would break /u/TOKEN.
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"must be an https:// base URL without query, like {_URL_EXAMPLE}")
        return value.strip().rstrip("/")

    @field_validator("secret", mode="before")
    @classmethod
    def _resolve(cls, raw: object, info: ValidationInfo) -> Secret:
        if isinstance(raw, Secret):
            return raw
        config_dir = (info.context or {}).get("config_dir", Path.cwd())
        return password_reference(raw, config_dir, min_length=MIN_SECRET_LENGTH)


class Unsubscribe(_Strict):
    # None: each message's own sending mailbox. Else one of the polled mailboxes (checked).
    mailto: str | None = None
    one_click: OneClick | None = None


class Metrics(_Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 0  # 0: no HTTP endpoint


class Web(_Strict):
    """`spear web`: where it listens and who may sign in (see `engine.web.access`)."""

    listen: str = "127.0.0.1:8025"  # host:port; [::1]:8025 for IPv6
    password_hash: str | None = None  # from `spear web hash-password`
    password: OptionalSecret = None  # ${ENV_VAR} or {file: PATH}
    tls_cert: Path | None = None  # serve HTTPS itself (cookies are then Secure)
    tls_key: Path | None = None
    behind_tls: bool = False  # a proxy in front terminates TLS: cookies are Secure

    @field_validator("tls_cert", "tls_key")
    @classmethod
    def _beside_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return beside_config(value, info)

    @field_validator("password_hash")
    @classmethod
    def _a_hash(cls, value: str | None) -> str | None:
        if value is not None and not _PASSWORD_HASH.match(value):
            raise ValueError("not a hash from `spear web hash-password`")
        return value

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        split_listen(value)
        return value

    @model_validator(mode="after")
    def _cert_with_key(self) -> Self:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]


def split_listen(value: str) -> tuple[str, int]:
    """`127.0.0.1:8025` -> ("127.0.0.1", 8025); `[::1]:8025` -> ("::1", 8025)."""
    host, _, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"listen must be HOST:PORT, not {value!r}")
    return host, int(port)


class LogFormat(StrEnum):
    PLAIN = "plain"
    JSON = "json"


class Config(_Strict):
    database: str = "sqlite:///spear.db"
    timezone: str = "UTC"
    poll_interval_seconds: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    review_threshold: Annotated[float, Field(ge=0, le=1)] = 0.6
    cadences_dir: Path = Path("cadences")
    templates_dir: Path = Path("templates")
    mailboxes: list[MailboxConfig] = Field(default_factory=list)
    segments: dict[str, SegmentFilter] = Field(default_factory=dict)
    red_flags: RedFlags = RedFlags()
    hand_off: HandOff = HandOff()
    webhooks: list[Webhook] = Field(default_factory=list)
    replies: Replies = Replies()
    unsubscribe: Unsubscribe = Unsubscribe()
    metrics: Metrics = Metrics()
    web: Web | None = None  # set: `spear run` serves the web inbox too
    log_format: LogFormat = LogFormat.PLAIN
    deal_size: Annotated[float, Field(ge=0, le=1e12)] = 50_000.0
    tasks: Tasks = Tasks()
    pipeline: Pipeline = Pipeline()
    # Where the file was read from; relative paths in it are taken from there.
    base_dir: Path = Path(".")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _unique_mailboxes(self) -> Self:
        names = [m.name for m in self.mailboxes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"mailbox names must be unique: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _known_segments(self) -> Self:
        for executive in self.hand_off.account_executives:
            unknown = [s for s in executive.segments if s not in self.segments]
            if unknown:
                raise ValueError(
                    f"hand_off.account_executives: {executive.address} names segments that are "
                    f"not configured: {', '.join(unknown)}"
                )
        return self

    def deal_size_for(self, grade: AccountGrade | None) -> float:
        """A deal's size when the account has none of its own: by grade, else `deal_size`."""
        return self.pipeline.deal_sizes.get(grade, self.deal_size) if grade else self.deal_size

    def mailbox(self, name: str) -> MailboxConfig:
        for mailbox in self.mailboxes:
            if mailbox.name == name:
                return mailbox
        raise KeyError(name)

    @property
    def unsubscribe_mailbox(self) -> MailboxConfig | None:
        """The polled mailbox `unsubscribe.mailto` names (None when unset or not one of them)."""
        target = (self.unsubscribe.mailto or "").strip().lower()
        for mailbox in self.mailboxes:
            if mailbox.imap is not None and mailbox.address.strip().lower() == target:
                return mailbox
        return None

    @property
    def sending_mailboxes(self) -> list[MailboxConfig]:
        """The mailboxes outreach goes out from: all but a separate unsubscribe mailbox, since
        everything that arrives there (outside our threads) is read as an unsubscribe."""
        reserved = self.unsubscribe_mailbox
        return [m for m in self.mailboxes if m is not reserved]

    def path(self, relative: Path) -> Path:
        return relative if relative.is_absolute() else self.base_dir / relative

    @property
    def cadences_path(self) -> Path:
        return self.path(self.cadences_dir)

    @property
    def templates_path(self) -> Path:
        return self.path(self.templates_dir)

    @property
    def database_url(self) -> str:
        """The URL with a relative SQLite file taken from the config's folder."""
        prefix = "sqlite:///"
        if self.database.startswith(prefix) and not self.database.startswith(prefix + "/"):
            rest = self.database[len(prefix) :]
            if rest and rest != ":memory:":
                return prefix + str((self.base_dir / rest).resolve())
        return self.database


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


def parse_clock_time(value: str) -> time:
    """`07:30` -> time(7, 30); used for windows in cadences and config."""
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a time of day (HH:MM): {value!r}") from None


def config_path(explicit: str | Path | None) -> Path:
    """The file to read: `--config`, else `$SPEAR_CONFIG`, else `./spear.yaml`."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE)


def load_config(path: Path) -> Config:
    """Read and validate `path`; every problem is a `ConfigError` naming file, line and key."""
    document = load_yaml(path, ConfigError)
    return config_from_document(document, path)


def config_from_document(document: Any, path: Path | str) -> Config:
    if document is None:
        raise ConfigError(
            Location(path, 1), "the configuration is empty; `spear init` writes a starter"
        )
    if not isinstance(document, dict):
        raise ConfigError(Location(path, 1), "the configuration must be a mapping of keys")
    base_dir = Path(path).resolve().parent
    data = dict(document or {})
    if "base_dir" in data:
        raise ConfigError(
            Location(path, line_of(document, ["base_dir"]), "base_dir"), "unknown key"
        )
    data["base_dir"] = base_dir
    try:
        config = validate(Config, data, path, ConfigError, context={"config_dir": base_dir})
    except ConfigError as exc:
        # `validate` looked lines up in the copy; look again in the document the user wrote.
        field = exc.location.field or ""
        parts: list[str | int] = [int(p) if p.isdigit() else p for p in field.split(".") if p]
        raise ConfigError(
            Location(path, line_of(document, parts), dotted(parts) or None), exc.reason
        ) from None
    _check_unsubscribe_target(config, document, path)
    for key, secret in config_secrets(config).items():
        parts = [int(p) if p.isdigit() else p for p in key.split(".")]
        secret.where = Location(path, line_of(document, parts), key)
    return config


def _check_unsubscribe_target(config: Config, document: Any, path: Path | str) -> None:
    """A separate unsubscribe address must be a polled mailbox of its own, or requests are lost."""
    target = config.unsubscribe.mailto
    if target is None:
        return
    problem = None
    if config.unsubscribe_mailbox is None:
        problem = "is not the address of a mailbox Spear polls (one with imap settings)"
    elif not config.sending_mailboxes:
        problem = "is the only mailbox, and a separate unsubscribe mailbox sends no outreach"
    if problem:
        key: list[str | int] = ["unsubscribe", "mailto"]
        raise ConfigError(
            Location(path, line_of(document, key), dotted(key)),
            f"{target} {problem}; leave mailto out to use each message's sending mailbox",
        )


def config_secrets(config: Config) -> dict[str, Secret]:
    """Every password and webhook secret of the configuration, by its key in the file."""
    secrets: dict[str, Secret | None] = {}
    for i, mailbox in enumerate(config.mailboxes):
        secrets[f"mailboxes.{i}.smtp.password"] = mailbox.smtp.password
        secrets[f"mailboxes.{i}.imap.password"] = mailbox.imap.password if mailbox.imap else None
    for i, webhook in enumerate(config.webhooks):
        secrets[f"webhooks.{i}.secret"] = webhook.secret
    one_click = config.unsubscribe.one_click
    secrets["unsubscribe.one_click.secret"] = one_click.secret if one_click else None
    secrets["pipeline.acknowledge_secret"] = config.pipeline.acknowledge_secret
    secrets["web.password"] = config.web.password if config.web else None
    return {key: secret for key, secret in secrets.items() if secret is not None}


def resolve_secrets(config: Config) -> None:
    """Read every password now, for what is about to connect: a missing one is a ConfigError."""
    for secret in config_secrets(config).values():
        _ = secret.value

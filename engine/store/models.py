"""Spear's tables.

All times are stored as UTC and read back timezone-aware, on SQLite as on PostgreSQL
(`UtcDateTime`), so no reader repairs a naive datetime.
Statuses are `StrEnum`s stored as their string values, so the database stays readable by hand.
Schema changes go through Alembic (`engine/store/migrations`); a test checks that the migrations
and these classes agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from engine.store.events import EventKind

# Keep names of constraints stable across SQLite and PostgreSQL so migrations can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def _status(enum: type[StrEnum], default: StrEnum, *, index: bool = False) -> Any:
    # VARCHAR holding the enum's value (not its name, not a native PostgreSQL enum type), so
    # adding a status later is a code change, not a schema migration.
    column_type = sa.Enum(enum, native_enum=False, length=32, values_callable=_values)
    return Field(default=default, sa_column=Column(column_type, nullable=False, index=index))


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An instant: stored as UTC, always read back timezone-aware.

    SQLite has no time zone type and hands back what it stored, naive; this type gives every
    reader the same aware UTC value PostgreSQL returns. A naive datetime is refused on the way
    in: its zone is unknown, and guessing is how off-by-hours bugs are born.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _Code(sa.types.TypeDecorator[StrEnum]):
    """A plain VARCHAR column read back as a `StrEnum` member.

    For a column that holds codes but was created as a plain string (`Event.kind`): the schema
    and the stored values stay as they are.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def _cause(enum: type[StrEnum]) -> Any:
    column_type = sa.Enum(enum, native_enum=False, length=32, values_callable=_values)
    return Field(default=None, sa_column=Column(column_type, nullable=True))


def _utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable, index=index))


class AccountStatus(StrEnum):
    PROSPECTING = "prospecting"
    ENGAGED = "engaged"
    HANDED_OFF = "handed-off"
    CUSTOMER = "customer"
    NOT_FIT = "not-fit"
    DUPLICATE = "duplicate"
    DEAD = "dead"


# Accounts in these statuses are never enrolled.
NEVER_ENROLL = frozenset(
    {AccountStatus.CUSTOMER, AccountStatus.NOT_FIT, AccountStatus.DUPLICATE, AccountStatus.DEAD}
)


class EmailStatus(StrEnum):
    UNKNOWN = "unknown"
    VALID = "valid"
    INVALID = "invalid"  # hard-bounced or refused with 5xx: pruned


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"


# An open enrollment may still lead to mail: it can be stopped, and it counts as "in a cadence".
OPEN_ENROLLMENT = (EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED)


class StopCause(StrEnum):
    """Why an enrollment stopped or waits: the code behaviour keys on.

    `Enrollment.stop_reason` beside it is the detail shown to people, never parsed back.
    """

    REPLIED = "replied"  # the person answered (any human reply)
    AUTO_REPLY = "auto-reply"  # an auto-reply, where the cadence's on_reply says stop
    COLLEAGUE_REPLIED = "colleague-replied"  # someone else at the account answered (rule: stop)
    ACCOUNT_PAUSED = "account-paused"  # waits while its account is paused (a reply or by hand)
    ACCOUNT_RULED_OUT = "account-ruled-out"  # the account was set to a never-enrol status
    BOUNCED = "bounced"  # the address was pruned as invalid
    UNSUBSCRIBED = "unsubscribed"  # the person asked to hear no more
    SUPPRESSED = "suppressed"  # the address is on the suppression list
    CONTACT_STATE = "contact-state"  # the contact state says no (`why_not_mail`)
    SEND_REFUSED = "send-refused"  # the SMTP server refused the message for good
    UNDELIVERABLE = "undeliverable"  # a step could not be delivered, even after a second try
    PLAN_FAILED = "plan-failed"  # the planner could not render a step: parked for a person
    TASK_OUTCOME = "task-outcome"  # a call or task outcome a person recorded ended it
    UNDONE = "undone"  # made by an action since undone, and kept because rows refer to it


class PauseCause(StrEnum):
    """Why a sender mailbox is paused; `MailboxState.paused_reason` is the detail for people."""

    BY_HAND = "by-hand"  # `spear mailbox pause`
    SMTP_REFUSED = "smtp-refused"  # the SMTP server refused the credentials or the TLS
    IMAP_REFUSED = "imap-refused"  # the IMAP server did: polling waits too
    BLOCK_RATE = "block-rate"  # too many of its messages came back blocked


class CancelCause(StrEnum):
    """Why a waiting message was cancelled; `OutboundMessage.error` beside it is for people.

    Resuming an account brings back exactly the messages its pause cancelled (the two pauses).
    """

    ENROLLMENT_GONE = "enrollment-gone"
    ENROLLMENT_PAUSED = "enrollment-paused"
    ENROLLMENT_ENDED = "enrollment-ended"  # stopped or completed
    ADDRESS_INVALID = "address-invalid"
    SUPPRESSED = "suppressed"
    ACCOUNT_PAUSED = "account-paused"
    ACCOUNT_RULED_OUT = "account-ruled-out"  # set by hand to a status never mailed
    REPLIED = "replied"  # the prospect replied or bounced since the message was planned


# The cancellations a pause made, undone when it ends.
PAUSE_CANCELLATIONS = frozenset({CancelCause.ENROLLMENT_PAUSED, CancelCause.ACCOUNT_PAUSED})


class Cancellation(NamedTuple):
    """Why a waiting message must not go: the code, and the words for people."""

    cause: CancelCause
    reason: str


class OutboundStatus(StrEnum):
    PLANNED = "planned"  # rendered, waiting for its send time
    SENDING = "sending"  # claimed by a dispatcher; an SMTP transaction may be under way
    SENT = "sent"
    RETRY = "retry"  # a temporary failure; tried again at next_attempt_at
    FAILED = "failed"  # gave up: permanent refusal or retry deadline passed
    CANCELLED = "cancelled"  # a last-moment check said no
    UNCERTAIN = "uncertain"  # the process died mid-transaction: never re-sent blindly


# Outbox rows a dispatcher may claim once their time comes.
DUE = (OutboundStatus.PLANNED, OutboundStatus.RETRY)


class InboundStatus(StrEnum):
    NEW = "new"  # stored raw, not yet classified
    APPLIED = "applied"  # classified and acted on automatically
    REVIEW = "review"  # waiting for a person
    REVIEWED = "reviewed"  # a person decided
    IGNORED = "ignored"


class SuppressionKind(StrEnum):
    ADDRESS = "address"
    DOMAIN = "domain"
    HASH = "hash"  # a forgotten person: only the hash of the address is kept


class SuppressionSource(StrEnum):
    """Which channel put an entry on the list (`spear suppress list` shows it)."""

    REPLY = "reply"  # a reply the classifier read as an unsubscribe (or a cadence's suppress rule)
    MAILTO = "mailto"  # a message to the List-Unsubscribe mailto, whatever its body says
    ONE_CLICK = "one-click"  # an RFC 8058 POST to Spear's unsubscribe endpoint
    PROVIDER_REQUEST = "provider-request"  # a mailbox provider's generated request (Gmail...)
    COMPLAINT = "complaint"  # an ARF feedback report: the recipient marked us as spam
    BOUNCE = "bounce"  # the address is gone (hard bounce, or too many soft ones)
    MANUAL = "manual"  # `spear suppress add`
    IMPORT = "import"  # `spear suppress import`
    FORGET = "forget"  # `spear forget`: only the hash is kept
    TASK = "task"  # a call's recorded outcome (B/L, hostile: `spear task done`)


class AccountStage(StrEnum):
    """How far the sale has gone; each stage has a win rate (`engine.basics.stages`)."""

    OPPORTUNITY = "opportunity"
    TARGET_IDENTIFIED = "target-identified"
    DEMO = "demo"  # demo and support
    KEY_PEOPLE = "key-people"  # key people engaged
    NEGOTIATION = "negotiation"
    WON = "won"
    PAID = "paid"
    LOST = "lost"


class AccountGrade(StrEnum):
    """How far the sale has gone with the economic, user and technical buyers (A is closest)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class BuyerRole(StrEnum):
    """The three key people of a B2B decision."""

    ECONOMIC = "eb"
    USER = "ub"
    TECHNICAL = "tb"


class TaskStatus(StrEnum):
    OPEN = "open"  # waiting for a person to do it and record the outcome
    DONE = "done"


# A reason or error kept on a row (a stop reason, a pause reason, an outbox error) is one line a
# person reads, never a whole SMTP transcript or bounce: longer text is cut here.
REASON_LENGTH = 500


def stored_reason(text: str) -> str:
    """A reason as kept beside its code: bounded, since it may quote a server or a person."""
    return text[:REASON_LENGTH]


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    domain: str = Field(unique=True, index=True)
    name: str = ""
    industry: str | None = None
    employees: int | None = None
    revenue: float | None = None
    country: str | None = None
    region: str | None = None
    business_model: str | None = None
    status: AccountStatus = _status(AccountStatus, AccountStatus.PROSPECTING, index=True)
    status_reason: str | None = None
    paused: bool = False  # someone there replied (or a person paused it): other contacts wait
    # Server defaults: the importer inserts accounts and prospects in bulk, naming its columns.
    stage: AccountStage = Field(
        default=AccountStage.OPPORTUNITY,
        sa_column=Column(
            sa.Enum(AccountStage, native_enum=False, length=32, values_callable=_values),
            nullable=False,
            index=True,
            server_default=AccountStage.OPPORTUNITY.value,
        ),
    )
    grade: AccountGrade | None = Field(
        default=None,
        sa_column=Column(
            sa.Enum(AccountGrade, native_enum=False, length=32, values_callable=_values),
            nullable=True,
        ),
    )
    owner: str | None = None  # the account executive working it since the hand-off
    deal_size: float | None = None  # None: the configured deal size
    created_at: datetime | None = _utc_column()
    updated_at: datetime | None = _utc_column()


class Prospect(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)  # normalised by email-validator
    first_name: str = ""
    last_name: str = ""
    title: str | None = None
    seniority: str | None = None
    phone: str | None = None
    phone_invalid: bool = Field(  # a call ended "wrong number": not dialled again
        default=False, sa_column=Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    buyer_role: BuyerRole | None = Field(
        default=None,
        sa_column=Column(
            sa.Enum(BuyerRole, native_enum=False, length=32, values_callable=_values),
            nullable=True,
        ),
    )
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    country: str | None = None
    region: str | None = None
    timezone: str | None = None  # IANA name; falls back to the account's country, then config
    last_interaction: date | None = None
    owner: str | None = None
    custom: dict[str, Any] = _json()
    role_address: bool = False
    disposable: bool = False
    email_status: EmailStatus = _status(EmailStatus, EmailStatus.UNKNOWN)
    soft_bounces: int = 0
    referred_by_id: int | None = Field(default=None, foreign_key="prospect.id")
    created_at: datetime | None = _utc_column()
    updated_at: datetime | None = _utc_column()


class CadenceVersion(SQLModel, table=True):
    """A cadence as it was when someone was enrolled in it, so edits never rewrite history."""

    __tablename__ = "cadence_version"
    __table_args__ = (sa.UniqueConstraint("name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    version: str  # content hash of the file and its templates
    definition: dict[str, Any] = _json()
    created_at: datetime | None = _utc_column()


class Enrollment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    prospect_id: int = Field(foreign_key="prospect.id", index=True)
    cadence: str = Field(index=True)
    cadence_version: str
    status: EnrollmentStatus = _status(EnrollmentStatus, EnrollmentStatus.ACTIVE)
    stop_cause: StopCause | None = _cause(StopCause)
    stop_reason: str | None = None  # the detail for people: never parsed
    next_step: str | None = None  # id of the next step to plan; None when none is left
    # When the next step may be planned: the planner's index is (status, next_due_at).
    next_due_at: datetime | None = _utc_column()
    mailbox: str | None = None  # fixed at the first send: one sender for the whole thread
    # Unsigned 32-bit (see `engine.prospects.enrollment`): wider than PostgreSQL's INTEGER.
    variant_seed: int = Field(default=0, sa_column=Column(sa.BigInteger, nullable=False))
    thread_message_id: str | None = None  # Message-ID of the first email, for threading
    thread_subject: str | None = None
    referrer_id: int | None = Field(default=None, foreign_key="prospect.id")
    steps_sent: int = 0
    started_at: datetime | None = _utc_column()
    updated_at: datetime | None = _utc_column()

    __table_args__ = (sa.Index("ix_enrollment_due", "status", "next_due_at"),)


class OutboundMessage(SQLModel, table=True):
    """The outbox. One row per (enrollment, step): the unique key is the at-most-once guarantee."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        sa.UniqueConstraint("enrollment_id", "step_id"),
        sa.Index("ix_outbound_message_due", "status", "scheduled_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", index=True)
    prospect_id: int = Field(foreign_key="prospect.id", index=True)
    step_id: str
    variant: str | None = None
    mailbox: str = Field(index=True)
    message_id: str = Field(unique=True)  # fixed at planning time, on the sender's domain
    to_address: str
    subject: str
    raw: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))
    status: OutboundStatus = _status(OutboundStatus, OutboundStatus.PLANNED)
    scheduled_at: datetime | None = _utc_column(nullable=False)
    # The end of the send window `scheduled_at` lies in: not sent at or after it, but re-slotted.
    send_before: datetime | None = _utc_column()
    attempts: int = 0
    next_attempt_at: datetime | None = _utc_column()
    claimed_by: str | None = None
    claimed_at: datetime | None = _utc_column()
    sent_at: datetime | None = _utc_column(index=True)
    smtp_response: str | None = None
    error: str | None = None
    cancel_cause: CancelCause | None = _cause(CancelCause)
    created_at: datetime | None = _utc_column()


class InboundMessage(SQLModel, table=True):
    """Every fetched message, stored raw before anything else happens to it."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        sa.UniqueConstraint("mailbox", "folder", "uidvalidity", "uid"),
        # The review queue in its order, so a page of it is read without sorting the queue.
        sa.Index("ix_inbound_message_queue", "status", "received_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(index=True)
    folder: str = "INBOX"
    uidvalidity: int = 0
    uid: int = 0
    message_id: str | None = Field(default=None, index=True)
    raw: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))
    from_address: str | None = None
    subject: str | None = None
    received_at: datetime | None = _utc_column(index=True)
    prospect_id: int | None = Field(default=None, foreign_key="prospect.id", index=True)
    outbound_id: int | None = Field(default=None, foreign_key="outbound_message.id")
    label: str | None = Field(default=None, index=True)
    confidence: float | None = None
    classification: dict[str, Any] = _json()
    status: InboundStatus = _status(InboundStatus, InboundStatus.NEW, index=True)
    review_reason: str | None = None
    error: str | None = None


class Suppression(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: SuppressionKind = _status(SuppressionKind, SuppressionKind.ADDRESS)
    value: str = Field(unique=True, index=True)  # address, domain or sha256 hex
    reason: str = ""
    source: SuppressionSource = _status(SuppressionSource, SuppressionSource.MANUAL)
    created_at: datetime | None = _utc_column()


class MailboxState(SQLModel, table=True):
    """What the daemon learns about a sender mailbox while it runs."""

    __tablename__ = "mailbox_state"

    name: str = Field(primary_key=True)
    paused: bool = False
    pause_cause: PauseCause | None = _cause(PauseCause)
    paused_reason: str | None = None  # the detail for people: never parsed
    alarm: str | None = None
    first_send_on: date | None = None  # the warm-up ramp counts days from here
    last_send_at: datetime | None = _utc_column()
    updated_at: datetime | None = _utc_column()


class ImapFolderState(SQLModel, table=True):
    __tablename__ = "imap_folder_state"

    mailbox: str = Field(primary_key=True)
    folder: str = Field(primary_key=True)
    uidvalidity: int = 0
    last_uid: int = 0
    last_poll_at: datetime | None = _utc_column()


class Event(SQLModel, table=True):
    """The event log: what happened and which action did it, so actions can be undone."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = _utc_column(index=True)
    kind: EventKind = Field(sa_column=Column(_Code(EventKind), nullable=False, index=True))
    actor: str = "spear"
    prospect_id: int | None = Field(default=None, index=True)
    enrollment_id: int | None = None
    outbound_id: int | None = None
    inbound_id: int | None = Field(default=None, index=True)
    data: dict[str, Any] = _json()
    undone_at: datetime | None = _utc_column()


class ReviewDecision(SQLModel, table=True):
    __tablename__ = "review_decision"

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inbound_message.id", index=True)
    at: datetime | None = _utc_column()
    reviewer: str
    old_label: str | None = None
    new_label: str
    data: dict[str, Any] = _json()
    undone_at: datetime | None = _utc_column()


class Task(SQLModel, table=True):
    """A call, LinkedIn or other step a person does: one row per (enrollment, step), like the
    outbox, and closed with the outcome the person records."""

    __table_args__ = (
        sa.UniqueConstraint("enrollment_id", "step_id"),
        sa.Index("ix_task_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", index=True)
    prospect_id: int = Field(foreign_key="prospect.id", index=True)
    step_id: str
    kind: str  # the step's type: call, linkedin or task
    owner: str | None = Field(default=None, index=True)  # the rep who does it
    instructions: str = ""
    due_at: datetime | None = _utc_column(nullable=False)  # the start of a window of the prospect's
    due_before: datetime | None = _utc_column()  # the end of that window
    status: TaskStatus = _status(TaskStatus, TaskStatus.OPEN)
    outcome: str | None = None  # an `engine.basics.outcomes.Outcome` value
    note: str | None = None
    resume_on: date | None = None
    done_at: datetime | None = _utc_column()
    done_by: str | None = None
    created_at: datetime | None = _utc_column()


class ReviewClaim(SQLModel, table=True):
    """A reviewer's lease on a queued reply, so two people never decide the same one twice."""

    __tablename__ = "review_claim"

    inbound_id: int = Field(primary_key=True, foreign_key="inbound_message.id")
    reviewer: str
    claimed_at: datetime | None = _utc_column(nullable=False)
    expires_at: datetime | None = _utc_column(nullable=False, index=True)

"""What a cadence file says, as validated types.

`CadenceSpec` is the schema of `cadences/*.yaml`: pydantic checks every key, and `yamlfile.validate`
turns its first complaint into file, line and field. `Cadence` is a spec plus what the loader adds:
the YAML text, the sources of the templates it uses and a content hash of both (its version), so a
cadence is a self-contained value that can be stored, rebuilt and rendered without the disk.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from engine.basics.outcomes import (
    DEFAULT_ON_OUTCOME,
    Outcome,
    OutcomeAction,
    parse_outcome_key,
)
from engine.basics.segments import SegmentFilter
from engine.basics.windows import (
    PLAY_WEEKDAYS,
    PLAY_WINDOWS,
    ScheduleError,
    SendRules,
    SendWindow,
    Wait,
    WaitUnit,
    next_slot,
)
from engine.classify.result import ReplyLabel
from engine.config import check_timezone, parse_clock_time

# The play: 4 to 8 touches per prospect (fewer gives up too early, more is pestering).
PLAY_TOUCHES = (4, 8)
PROSPECT_TIMEZONE = "prospect"  # evaluate windows in each recipient's own time zone

MIDNIGHT = time(0)  # as a window's end: the end of the day
_NAME = r"^[a-z0-9][a-z0-9_-]*$"
MAX_WAIT_DAYS = 366
_WAIT = re.compile(r"^\s*(\d+)\s+(business[ -]days?|days?|weeks?|hours?)\s*$", re.IGNORECASE)
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- small values written as strings -----------------------------------------------------------


def parse_wait(raw: object) -> Wait:
    """`3 business days`, `2 days`, `1 week`, `4 hours` (or a bare number of days)."""
    if isinstance(raw, Wait):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return _bounded(Wait(raw, WaitUnit.DAYS))
    match = _WAIT.match(raw) if isinstance(raw, str) else None
    if not match:
        raise ValueError(
            f"a wait is 'N days', 'N business days', 'N weeks' or 'N hours', not {raw!r}"
        )
    amount, unit = int(match.group(1)), match.group(2).lower()
    if unit.startswith("business"):
        wait = Wait(amount, WaitUnit.BUSINESS_DAYS)
    elif unit.startswith("week"):
        wait = Wait(amount * 7, WaitUnit.DAYS)
    elif unit.startswith("hour"):
        wait = Wait(amount, WaitUnit.HOURS)
    else:
        wait = Wait(amount, WaitUnit.DAYS)
    return _bounded(wait)


def _bounded(wait: Wait) -> Wait:
    """A wait of at most a year: longer is a typo, and a huge one overflows date arithmetic."""
    limit = {WaitUnit.HOURS: MAX_WAIT_DAYS * 24}.get(wait.unit, MAX_WAIT_DAYS)
    if wait.amount > limit:
        raise ValueError(f"a wait of at most {limit} {wait.unit}, not {wait.amount}")
    return wait


def parse_window(raw: object) -> SendWindow:
    """`07:00-09:00`, or a mapping `{start: "07:00", end: "09:00"}`."""
    if isinstance(raw, SendWindow):
        return raw
    if isinstance(raw, str) and raw.count("-") == 1:
        start, end = (part.strip() for part in raw.split("-"))
    elif isinstance(raw, dict) and set(raw) == {"start", "end"}:
        start, end = str(raw["start"]), str(raw["end"])
    else:
        raise ValueError(f"a send window is 'HH:MM-HH:MM', not {raw!r}")
    window = SendWindow(parse_clock_time(start), parse_clock_time(end))
    if window.end <= window.start and window.end != MIDNIGHT:
        raise ValueError(f"window {start}-{end} never opens: its end must come after its start")
    return window


def parse_weekday(raw: object) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 6:
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _WEEKDAYS:
        return _WEEKDAYS[raw.strip().lower()]
    raise ValueError(f"a weekday is one of {', '.join(WEEKDAY_NAMES)}, not {raw!r}")


# --- schedule, audience, stop rules, reply actions ---------------------------------------------


class Schedule(_Strict):
    """When steps may go out: windows and weekdays in the time zone named by `timezone`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    timezone_source: str = Field(default=PROSPECT_TIMEZONE, alias="timezone")
    windows: tuple[Annotated[SendWindow, BeforeValidator(parse_window)], ...] = PLAY_WINDOWS
    weekdays: tuple[Annotated[int, BeforeValidator(parse_weekday)], ...] = tuple(
        sorted(PLAY_WEEKDAYS)
    )
    holidays: str | None = None  # ISO 3166 country whose public holidays are skipped

    @field_validator("timezone_source")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return value if value == PROSPECT_TIMEZONE else check_timezone(value)

    @field_validator("windows")
    @classmethod
    def _some_window(cls, value: tuple[SendWindow, ...]) -> tuple[SendWindow, ...]:
        if not value:
            raise ValueError("no send windows: the cadence would never send")
        return value

    @field_validator("weekdays")
    @classmethod
    def _some_weekday(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("no weekdays: the cadence would never send")
        return tuple(sorted(set(value)))

    @field_validator("holidays")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        try:
            holidays.country_holidays(code)
        except NotImplementedError:
            raise ValueError(f"no public holiday calendar for country {value!r}") from None
        return code

    @model_validator(mode="after")
    def _opens_sometime(self) -> Self:
        # Each part may be fine while together they leave no slot (say, holidays on every allowed
        # day): ask the slot finder itself.
        try:
            next_slot(datetime(2025, 1, 1, tzinfo=UTC), ZoneInfo("UTC"), self.rules)
        except ScheduleError as exc:
            raise ValueError(f"the send windows never open: {exc}") from None
        return self

    @property
    def rules(self) -> SendRules:
        return SendRules(
            windows=self.windows, weekdays=frozenset(self.weekdays), holidays=self.holidays
        )


class Audience(_Strict):
    """Who may be enrolled: a named segment from the config, or a filter written here."""

    segment: str | None = None
    filter: SegmentFilter | None = None
    one_per_account: bool = True  # the play goes to one executive per account at a time

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.segment is not None and self.filter is not None:
            raise ValueError("give either segment or filter, not both")
        return self


class AccountReplyRule(StrEnum):
    PAUSE = "pause"  # colleagues wait until the reply is dealt with
    STOP = "stop"
    CONTINUE = "continue"


class StopRules(_Strict):
    """What ends an enrollment besides the prospect's own reply or a hard bounce (always do)."""

    account_reply: AccountReplyRule = AccountReplyRule.PAUSE
    # End enrollments still open after this many days.
    max_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class ReplyActionKind(StrEnum):
    ENROL = "enrol"  # enrol someone (the referred person, or the replier) in another cadence
    HAND_OFF = "hand-off"  # give the prospect to an account executive
    STOP = "stop"
    SUPPRESS = "suppress"  # stop and never write to this address again
    PAUSE = "pause"  # wait (until the resume date, with at_resume_date), then go on
    REVIEW = "review"  # a person decides


_ACTION_WORDS = {
    "enrol": ReplyActionKind.ENROL,
    "enroll": ReplyActionKind.ENROL,
    "hand off": ReplyActionKind.HAND_OFF,
    "hand-off": ReplyActionKind.HAND_OFF,
    "handoff": ReplyActionKind.HAND_OFF,
    "stop": ReplyActionKind.STOP,
    "suppress": ReplyActionKind.SUPPRESS,
    "pause": ReplyActionKind.PAUSE,
    "review": ReplyActionKind.REVIEW,
}
_AT_RESUME_DATE = re.compile(r"\s+(?:at|on|from|until)\s+(?:the\s+)?resume[ -]date$", re.IGNORECASE)


def parse_reply_action(text: str) -> dict[str, Any]:
    """`enrol nurture at resume date` -> {action: enrol, cadence: nurture, at_resume_date: true}."""
    rest = " ".join(text.split())
    at_resume_date = bool(_AT_RESUME_DATE.search(rest))
    rest = _AT_RESUME_DATE.sub("", rest)
    for word in sorted(_ACTION_WORDS, key=len, reverse=True):
        if rest.lower() == word or rest.lower().startswith(word + " "):
            target = rest[len(word) :].strip() or None
            return {
                "action": _ACTION_WORDS[word],
                "cadence": target,
                "at_resume_date": at_resume_date,
            }
    raise ValueError(
        f"unknown reply action {text!r}: use enrol CADENCE [at resume date], hand off, stop, "
        "suppress, pause [at resume date] or review"
    )


class ReplyAction(_Strict):
    action: ReplyActionKind
    cadence: str | None = None
    at_resume_date: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, raw: object) -> object:
        return parse_reply_action(raw) if isinstance(raw, str) else raw

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.action is ReplyActionKind.ENROL and not self.cadence:
            raise ValueError("enrol needs a cadence: enrol CADENCE")
        if self.action is not ReplyActionKind.ENROL and self.cadence:
            raise ValueError(f"{self.action} takes no cadence")
        if self.at_resume_date and self.action not in (
            ReplyActionKind.ENROL,
            ReplyActionKind.PAUSE,
        ):
            raise ValueError("at resume date goes with enrol or pause")
        return self

    def __str__(self) -> str:
        words = [str(self.action)] + ([self.cadence] if self.cadence else [])
        return " ".join(words + (["at resume date"] if self.at_resume_date else []))


# What happens to a reply whose label the cadence does not mention. Any human reply has already
# stopped the prospect's steps; these decide what comes next.
DEFAULT_ON_REPLY: dict[ReplyLabel, ReplyAction] = {
    ReplyLabel.REFERRAL: ReplyAction(action=ReplyActionKind.REVIEW),
    ReplyLabel.INTEREST: ReplyAction(action=ReplyActionKind.HAND_OFF),
    ReplyLabel.NOT_NOW: ReplyAction(action=ReplyActionKind.STOP),
    ReplyLabel.NOT_INTERESTED: ReplyAction(action=ReplyActionKind.STOP),
    ReplyLabel.UNSUBSCRIBE: ReplyAction(action=ReplyActionKind.SUPPRESS),
    ReplyLabel.WRONG_PERSON: ReplyAction(action=ReplyActionKind.STOP),
    ReplyLabel.AUTO_REPLY: ReplyAction(action=ReplyActionKind.PAUSE),
    ReplyLabel.BOUNCE: ReplyAction(action=ReplyActionKind.STOP),
    ReplyLabel.UNCLEAR: ReplyAction(action=ReplyActionKind.REVIEW),
}


# --- steps ---------------------------------------------------------------------------------------


class Variant(_Strict):
    """One arm of an A/B test: its own template and/or subject, picked by weight."""

    id: Annotated[str, Field(pattern=_NAME)]
    template: str
    subject: str | None = None
    weight: Annotated[float, Field(gt=0, le=1_000_000)] = 1.0


class StepType(StrEnum):
    EMAIL = "email"
    CALL = "call"  # a person calls; the outcome decides what comes next (`on_outcome`)
    LINKEDIN = "linkedin"
    TASK = "task"


class Step(_Strict):
    id: Annotated[str, Field(pattern=_NAME)]
    type: StepType = StepType.EMAIL
    wait: Annotated[Wait, BeforeValidator(parse_wait)] = Wait(0, WaitUnit.DAYS)
    template: str  # for a task step, its instructions (written `instructions:` in the file)
    subject: str | None = None  # None: a reply in the same thread ("Re:", In-Reply-To set)
    variants: tuple[Variant, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _variants_inherit(cls, raw: object) -> object:
        # A variant names only what it changes; the rest comes from its step. A step with
        # variants may leave out its own template: the first variant's is its default.
        if isinstance(raw, dict) and "instructions" in raw:
            if raw.get("type", StepType.EMAIL) == StepType.EMAIL:
                raise ValueError("instructions are for call, linkedin and task steps")
            if "template" in raw:
                raise ValueError("give either instructions or template, not both")
            raw = {("template" if k == "instructions" else k): v for k, v in raw.items()}
        if not isinstance(raw, dict) or not isinstance(raw.get("variants"), list):
            return raw
        step = dict(raw)
        variants = [dict(v) if isinstance(v, dict) else v for v in step["variants"]]
        first = variants[0] if variants else None
        if "template" not in step and isinstance(first, dict) and "template" in first:
            step["template"] = first["template"]
        for variant in variants:
            if isinstance(variant, dict):
                variant.setdefault("template", step.get("template"))
                if step.get("subject") is not None:
                    variant.setdefault("subject", step["subject"])
        step["variants"] = variants
        return step

    @model_validator(mode="after")
    def _variants_consistent(self) -> Self:
        ids = [v.id for v in self.variants]
        if len(ids) != len(set(ids)):
            raise ValueError("variant ids must be unique within a step")
        if self.subject is None and any(v.subject is not None for v in self.variants):
            raise ValueError("this step is a reply in the thread: its variants take no subject")
        if self.subject is not None and any(v.subject is None for v in self.variants):
            raise ValueError("a step with a subject needs one in every variant")
        if self.is_task and (self.subject is not None or self.variants):
            raise ValueError(
                f"a {self.type} step is done by a person: it takes no subject or variants"
            )
        return self

    @property
    def is_task(self) -> bool:
        """Done by a person (a call, a LinkedIn touch, a task), not sent."""
        return self.type is not StepType.EMAIL

    @property
    def is_reply(self) -> bool:
        return not self.is_task and self.subject is None

    def template_names(self) -> list[str]:
        names = [self.template, *(v.template for v in self.variants)]
        return list(dict.fromkeys(names))


class Touches(_Strict):
    min: Annotated[int, Field(ge=1, le=100)] = PLAY_TOUCHES[0]
    max: Annotated[int, Field(ge=1, le=100)] = PLAY_TOUCHES[1]


# --- the cadence ---------------------------------------------------------------------------------


class CadenceSpec(_Strict):
    """Everything a cadence file may contain."""

    name: Annotated[str, Field(pattern=_NAME)]
    description: str = ""
    mailboxes: tuple[str, ...] = ()  # empty: any configured mailbox
    audience: Audience = Audience()
    schedule: Schedule = Schedule()
    touches: Touches = Touches()
    steps: Annotated[tuple[Step, ...], Field(min_length=1)]
    stop: StopRules = StopRules()
    on_reply: dict[ReplyLabel, ReplyAction] = Field(default_factory=dict)
    on_outcome: dict[Annotated[Outcome, BeforeValidator(parse_outcome_key)], OutcomeAction] = Field(
        default_factory=dict
    )

    @field_validator("steps")
    @classmethod
    def _unique_ids(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        ids = [s.id for s in steps]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            # Steps are matched by id across versions: two with one id would be ambiguous.
            raise ValueError(f"step ids must be unique: {', '.join(duplicates)}")
        emails = [s for s in steps if not s.is_task]
        if emails and emails[0].is_reply:
            raise ValueError(
                f"the first email ({emails[0].id}) starts the thread: give it a subject"
            )
        return steps

    @field_validator("on_reply")
    @classmethod
    def _with_defaults(cls, value: dict[ReplyLabel, ReplyAction]) -> dict[ReplyLabel, ReplyAction]:
        return {**DEFAULT_ON_REPLY, **value}

    @field_validator("on_outcome")
    @classmethod
    def _outcome_defaults(cls, value: dict[Outcome, OutcomeAction]) -> dict[Outcome, OutcomeAction]:
        return {**DEFAULT_ON_OUTCOME, **value}


class Cadence(CadenceSpec):
    """A validated cadence with its sources: a value that can be stored and rebuilt."""

    version: str  # content hash of the YAML and the templates it uses
    file: str  # where it was read from, for messages
    source: str  # the YAML text
    templates: dict[str, str]  # template name -> source, for every template a step uses

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"cadence {self.name} has no step {step_id!r}")

    def first_step(self) -> Step:
        return self.steps[0]

    def step_after(self, step_id: str) -> Step | None:
        ids = [s.id for s in self.steps]
        position = ids.index(step_id) if step_id in ids else None
        if position is None:
            raise KeyError(f"cadence {self.name} has no step {step_id!r}")
        return self.steps[position + 1] if position + 1 < len(self.steps) else None

    def outcome_action(self, outcome: Outcome) -> OutcomeAction:
        return self.on_outcome[outcome]

    def reply_action(self, label: ReplyLabel | str) -> ReplyAction:
        return self.on_reply[ReplyLabel(label)]

    def enrol_targets(self) -> set[str]:
        return {a.cadence for a in self.on_reply.values() if a.cadence}

"""The play's rules of thumb, as warnings: a cadence that breaks them still loads.

Each rule looks at what a prospect would actually read, so steps are rendered against the sample
prospect; personalisation is judged from the template source (which variables it uses).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import jinja2.meta

from engine.cadences.loader import location_in
from engine.cadences.model import Cadence, Step
from engine.cadences.templates import (
    RenderedEmail,
    TemplateContext,
    make_environment,
    render_step,
    sample_context,
)
from engine.errors import Location

MAX_WORDS = 120  # short enough to read and answer on a phone
PERSONAL_VARIABLES = frozenset({"prospect", "account", "referrer", "custom"})
SIGN_OFF_LINES = 3  # the sender's name must stand in the last few lines

_LINK = re.compile(r"https?://|www\.|\[[^\]]*\]\([^)]*\)", re.IGNORECASE)
_HTML = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*(\s[^>]*)?/?>|&(nbsp|amp|lt|gt|quot|#\d+);", re.I)
_IMAGE = re.compile(r"<\s*img\b|!\[[^\]]*\]\(|\.(png|jpe?g|gif|webp|svg)\b", re.IGNORECASE)
_LONG_WORD = re.compile(r"[^\W\d_]{4,}")
_QUESTION = re.compile(r"[?？]+")
_SPAM_WORDS = re.compile(
    r"\b(free|guarantee[d]?|urgent|act now|limited time|winner|risk[- ]free|100%|"
    r"click here|buy now|special offer|no obligation|earn \$|cash|discount)\b|[!$]{1}",
    re.IGNORECASE,
)


class Rule(StrEnum):
    LENGTH = "length"
    QUESTIONS = "questions"
    LINK = "link"
    HTML = "html"
    IMAGE = "image"
    PERSONALISATION = "personalisation"
    SUBJECT_CAPS = "subject-caps"
    SUBJECT_SPAM = "subject-spam"
    SIGN_OFF = "sign-off"
    TOUCHES = "touches"


@dataclass(frozen=True)
class LintWarning:
    location: Location
    rule: Rule
    message: str

    def __str__(self) -> str:
        return f"{self.location}: warning [{self.rule}] {self.message}"


def lint(cadence: Cadence, context: TemplateContext | None = None) -> list[LintWarning]:
    """Every warning for `cadence`, rendered against `context` (default: the sample prospect)."""
    context = context or sample_context()
    warnings = list(_touches(cadence))
    for index, step in enumerate(cadence.steps):
        if step.is_task:
            continue  # read by a rep, not a prospect: the email rules do not apply
        for variant_index, only in _each_variant(step):
            field = f"steps.{index}" + (
                f".variants.{variant_index}" if variant_index is not None else ""
            )
            email = render_step(cadence, only, context)
            for rule, message, part in _email_problems(cadence, only, email, context):
                warnings.append(LintWarning(location_in(cadence, f"{field}.{part}"), rule, message))
    return warnings


def _each_variant(step: Step) -> Iterator[tuple[int | None, Step]]:
    """The step once per variant (that variant alone), or once when it has none."""
    if not step.variants:
        yield None, step
        return
    for index, variant in enumerate(step.variants):
        yield index, step.model_copy(update={"variants": (variant,)})


def _touches(cadence: Cadence) -> Iterator[LintWarning]:
    count, touches = len(cadence.steps), cadence.touches
    if not touches.min <= count <= touches.max:
        yield LintWarning(
            location_in(cadence, "steps"),
            Rule.TOUCHES,
            f"{count} steps: the play uses {touches.min} to {touches.max} touches per prospect",
        )


def _email_problems(
    cadence: Cadence, step: Step, email: RenderedEmail, context: TemplateContext
) -> Iterator[tuple[Rule, str, str]]:
    """(rule, message, field within the step) for one rendered email."""
    body = email.body
    words = len(body.split())
    if words > MAX_WORDS:
        yield Rule.LENGTH, f"body is {words} words; keep it under {MAX_WORDS}", "template"
    questions = len(_QUESTION.findall(body))
    if questions > 1:
        yield (
            Rule.QUESTIONS,
            f"{questions} questions; ask one (who is the right person?)",
            "template",
        )
    texts = [("template", body)] + ([("subject", email.subject)] if email.subject else [])
    for part, text in texts:
        if _LINK.search(text):
            yield Rule.LINK, "contains a link; the play sends plain text with no links", part
        if _HTML.search(text):
            yield Rule.HTML, "contains HTML; write plain text", part
        if _IMAGE.search(text):
            yield Rule.IMAGE, "contains an image; write plain text", part
    if not _is_personal(cadence, step):
        yield (
            Rule.PERSONALISATION,
            "no personalisation: use the prospect, account, referrer or custom fields",
            "template",
        )
    if email.subject is not None:
        if _shouts(email.subject):
            yield Rule.SUBJECT_CAPS, "subject is in capitals", "subject"
        spam = _SPAM_WORDS.search(email.subject)
        if spam:
            yield Rule.SUBJECT_SPAM, f"subject looks like spam ({spam.group(0)!r})", "subject"
    if not _signed(body, context):
        yield (
            Rule.SIGN_OFF,
            "no sign-off: end with the sender's name ({{ sender.signature }})",
            "template",
        )


def _shouts(subject: str) -> bool:
    """All capitals, or two long words in capitals (acronyms such as CRM are short)."""
    letters = [c for c in subject if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return True
    return len([w for w in _LONG_WORD.findall(subject) if w.isupper()]) >= 2


def _is_personal(cadence: Cadence, step: Step) -> bool:
    """Whether the template or subject this step (or its one variant) sends uses a person's data."""
    environment = make_environment(cadence.templates)
    chosen = step.variants[0] if step.variants else step
    sources = [cadence.templates[chosen.template]] + ([chosen.subject] if chosen.subject else [])
    used: set[str] = set()
    for source in sources:
        used |= jinja2.meta.find_undeclared_variables(environment.parse(source))
    return bool(used & PERSONAL_VARIABLES)


def _signed(body: str, context: TemplateContext) -> bool:
    tail = [line for line in body.splitlines() if line.strip()][-SIGN_OFF_LINES:]
    names = {n for n in (context.sender.first_name, context.sender.name) if n}
    return any(name in line for line in tail for name in names)

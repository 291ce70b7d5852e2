"""Rendering steps to plain text in a Jinja2 sandbox.

Templates are written by users, so they run in `ImmutableSandboxedEnvironment`: no attribute that
starts with an underscore, no mutation of the values passed in, no way back to Python internals.
Undefined names are errors (`StrictUndefined`) so a typo never reaches a prospect as an empty
gap; the `fallback` filter is the one sanctioned way to cover an empty or missing value:

    Hi {{ prospect.first_name | fallback("there") }},

The renderer is pure: it takes a `TemplateContext` of plain values, never a database row.

The sandbox keeps templates away from Python, not from work: nested `range(100000)` loops or
`'x' * 10**8` would hang `cadence check` and the planner, or take gigabytes. So rendering is
bounded (`BoundedSandbox`): every loop, call and operator checks a deadline of `RENDER_SECONDS`,
loops have `MAX_LOOP_ITERATIONS` in all, `*`, `+` and `**` refuse results over
`MAX_RENDERED_CHARS` (or exponents that big), and the output stops at that size. A template over a
limit fails with its line, like any other rendering error.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.cadences.model import Cadence, Step, Variant
from engine.errors import TemplateRenderError

if TYPE_CHECKING:
    from engine.config import MailboxConfig
    from engine.store.models import Account, Prospect

TEMPLATE_SUFFIX = ".txt.j2"
# Custom fields (imported columns) that hold a person's profile URL, the first one given wins.
PROFILE_FIELDS = (
    "linkedin",
    "linkedin_url",
    "linkedin url",
    "profile_url",
    "profile url",
    "profile",
)


def template_filename(name: str) -> str:
    """`referral-ask-1` -> `referral-ask-1.txt.j2`; a name with its suffix is kept as it is."""
    return name if name.endswith(".j2") else name + TEMPLATE_SUFFIX


# --- what a template can see ---------------------------------------------------------------------


@dataclass(frozen=True)
class PersonVars:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    title: str = ""
    seniority: str = ""
    company: str = ""
    country: str = ""
    region: str = ""
    phone: str = ""  # for call steps' instructions
    profile_url: str = ""  # a LinkedIn or other profile, from the custom fields in PROFILE_FIELDS

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class AccountVars:
    name: str = ""
    domain: str = ""
    industry: str = ""
    employees: int | None = None
    country: str = ""
    region: str = ""


@dataclass(frozen=True)
class SenderVars:
    name: str = ""
    first_name: str = ""
    address: str = ""
    company: str = ""
    signature: str = ""  # the sign-off block; every template should end with it


@dataclass(frozen=True)
class TemplateContext:
    prospect: PersonVars
    account: AccountVars
    sender: SenderVars
    referrer: PersonVars | None = None
    custom: dict[str, Any] = field(default_factory=dict)

    def variables(self) -> dict[str, Any]:
        return {
            "prospect": self.prospect,
            "account": self.account,
            "sender": self.sender,
            "referrer": self.referrer,
            # A copy: the immutable sandbox already forbids writes, this guards the caller's dict.
            "custom": dict(self.custom),
        }


def sample_context() -> TemplateContext:
    """The sample prospect every template must render against, and `preview --sample`'s."""
    return TemplateContext(
        prospect=PersonVars(
            first_name="Dana",
            last_name="Whitfield",
            email="dana.whitfield@northwind-logistics.example",
            title="VP of Sales",
            seniority="vp",
            company="Northwind Logistics",
            country="US",
            region="Midwest",
            phone="+1 312 555 0142",
            profile_url="https://www.linkedin.com/in/dana-whitfield-example",
        ),
        account=AccountVars(
            name="Northwind Logistics",
            domain="northwind-logistics.example",
            industry="logistics",
            employees=420,
            country="US",
            region="Midwest",
        ),
        sender=SenderVars(
            name="Alex Rivera",
            first_name="Alex",
            address="alex@example-sender.com",
            company="Example Sender",
            signature="Alex Rivera\nExample Sender",
        ),
        referrer=PersonVars(
            first_name="Morgan",
            last_name="Lee",
            email="morgan.lee@northwind-logistics.example",
            title="Chief Revenue Officer",
            seniority="c-level",
            company="Northwind Logistics",
        ),
        custom={"pain_point": "manual forecast prep"},
    )


def context_for(
    prospect: Prospect,
    account: Account | None,
    sender: MailboxConfig,
    referrer: Prospect | None = None,
) -> TemplateContext:
    """The context for one real prospect, from database rows and the sending mailbox."""
    company = account.name if account is not None else ""
    return TemplateContext(
        prospect=_person(prospect, company),
        account=_account(account),
        sender=sender_vars(sender),
        referrer=_person(referrer, company) if referrer is not None else None,
        custom=dict(prospect.custom or {}),
    )


def sender_vars(mailbox: MailboxConfig) -> SenderVars:
    name = mailbox.display_name or mailbox.name
    company = company_from_domain(mailbox.domain)
    return SenderVars(
        name=name,
        first_name=name.split()[0] if name.split() else name,
        address=mailbox.address,
        company=company,
        signature=f"{name}\n{company}",
    )


def company_from_domain(domain: str) -> str:
    """`example-sender.com` -> `Example Sender`: a plain guess at the company's name."""
    label = domain.split(".")[0] if domain else ""
    return " ".join(word.capitalize() for word in label.replace("_", "-").split("-") if word)


def _person(row: Prospect, company: str) -> PersonVars:
    return PersonVars(
        first_name=row.first_name or "",
        last_name=row.last_name or "",
        email=row.email,
        title=row.title or "",
        seniority=row.seniority or "",
        company=company,
        country=row.country or "",
        region=row.region or "",
        phone="" if row.phone_invalid else row.phone or "",
        profile_url=profile_url(row.custom or {}),
    )


def profile_url(custom: Mapping[str, Any]) -> str:
    """The first of `PROFILE_FIELDS` given in a prospect's custom fields (keys in any case)."""
    by_key = {str(k).strip().lower(): v for k, v in custom.items()}
    for key in PROFILE_FIELDS:
        value = by_key.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _account(row: Account | None) -> AccountVars:
    if row is None:
        return AccountVars()
    return AccountVars(
        name=row.name,
        domain=row.domain,
        industry=row.industry or "",
        employees=row.employees,
        country=row.country or "",
        region=row.region or "",
    )


# --- the sandbox ---------------------------------------------------------------------------------


def fallback(value: Any, default: str = "") -> Any:
    """`value`, or `default` when it is None, only whitespace, or a custom field not given.

    A misspelt variable or attribute (`prospect.frist_name`) still fails: falling back there
    would hide the typo until a prospect got "Hi there" instead of their name.
    """
    if isinstance(value, jinja2.Undefined):
        if not _may_be_missing(value):
            value._fail_with_undefined_error()
        return default
    if value is None:
        return default
    if isinstance(value, str) and not value.strip():
        return default
    return value


def _may_be_missing(value: jinja2.Undefined) -> bool:
    # Missing keys of a mapping (custom fields) and attributes of an absent value (`referrer` when
    # nobody referred us) are expected; anything else is a mistake in the template.
    owner = value._undefined_obj
    return owner is None or isinstance(owner, Mapping)


RENDER_SECONDS = 2.0  # one template, one prospect: a plain email renders in milliseconds
MAX_RENDERED_CHARS = 100_000  # a short email is a few hundred; this is far past any real one
MAX_LOOP_ITERATIONS = 10_000  # every loop of one rendering together
MAX_EXPONENT = 64
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_LOOP_GUARD = "spear_loop_guard"


@dataclass
class _Budget:
    deadline: float = math.inf
    iterations: int = 0

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise SecurityError(f"rendering took over {RENDER_SECONDS:g} s")


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _check_budget() -> _Budget:
    """The rendering's budget, checked (an unbounded one outside `bounded_render`)."""
    budget = _budget.get() or _Budget()
    budget.check()
    return budget


def _guarded_loop(items: Iterable[Any]) -> Iterator[Any]:
    """What every `{% for %}` iterates: the items, within the rendering's budget."""
    budget = _check_budget()
    for item in items:
        budget.iterations += 1
        if budget.iterations > MAX_LOOP_ITERATIONS:
            raise SecurityError(f"loops ran over {MAX_LOOP_ITERATIONS} times")
        budget.check()
        yield item


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with a time, loop and size budget for every rendering."""

    intercepted_binops = frozenset({"*", "+", "**"})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        # Every loop goes through the guard; no other hook sees a loop that only iterates.
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            guard = nodes.Name(_LOOP_GUARD, "load", lineno=loop.lineno)
            loop.iter = nodes.Call(guard, [loop.iter], [], None, None, lineno=loop.lineno)
        return tree

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        _check_budget()
        size: int | None = None
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if _sized(sequence) is not None and isinstance(times, int):
                    size = (_sized(sequence) or 0) * times
        elif operator == "+" and _sized(left) is not None and _sized(right) is not None:
            size = (_sized(left) or 0) + (_sized(right) or 0)
        elif operator == "**" and (
            (isinstance(right, int | float) and abs(right) > MAX_EXPONENT)
            or (isinstance(left, int) and left.bit_length() > 4 * MAX_EXPONENT)
        ):
            raise SecurityError(f"a power over {MAX_EXPONENT} or of a huge number")
        if size is not None and size > MAX_RENDERED_CHARS:
            raise SecurityError(f"a value over {MAX_RENDERED_CHARS} characters")
        return super().call_binop(context, operator, left, right)

    def call(
        __self,  # jinja2's signature: `self` may be a keyword argument of the call
        __context: jinja2.runtime.Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _check_budget()
        if getattr(__obj, "__name__", "") in _PADDING_METHODS and any(
            isinstance(a, int) and a > MAX_RENDERED_CHARS for a in (*args, *kwargs.values())
        ):
            raise SecurityError(f"a value over {MAX_RENDERED_CHARS} characters")
        return super().call(__context, __obj, *args, **kwargs)


def bounded_render(template: jinja2.Template, variables: dict[str, Any]) -> str:
    """Render within the budget: time, loops, operators and the size of the output."""
    token = _budget.set(_Budget(deadline=time.monotonic() + RENDER_SECONDS))
    try:
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > MAX_RENDERED_CHARS:
                raise TemplateRenderError(f"the output is over {MAX_RENDERED_CHARS} characters")
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        _budget.reset(token)


def make_environment(templates: dict[str, str]) -> ImmutableSandboxedEnvironment:
    """A sandbox that sees only `templates` (name -> source) and renders plain text."""
    environment = BoundedSandbox(
        loader=jinja2.DictLoader(templates),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text email: nothing is HTML
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["fallback"] = fallback
    environment.filters["default_if_empty"] = fallback
    environment.globals[_LOOP_GUARD] = _guarded_loop
    return environment


@lru_cache(maxsize=64)
def _environment(templates: tuple[tuple[str, str], ...]) -> ImmutableSandboxedEnvironment:
    # Keyed on the sources themselves, so an edited template never hits a stale compiled copy.
    return make_environment(dict(templates))


def environment_for(cadence: Cadence) -> ImmutableSandboxedEnvironment:
    return _environment(tuple(sorted(cadence.templates.items())))


# --- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedEmail:
    subject: str | None  # None: a reply in the thread ("Re:" + the thread's subject)
    body: str
    variant: str | None


def pick_variant(step: Step, seed: int) -> Variant | None:
    """A variant by weight, the same one every time for the same step and seed."""
    if not step.variants:
        return None
    digest = hashlib.sha256(f"{seed}:{step.id}".encode()).digest()
    chooser = random.Random(int.from_bytes(digest[:8], "big"))
    return chooser.choices(step.variants, weights=[v.weight for v in step.variants])[0]


def render_step(
    cadence: Cadence, step: Step, context: TemplateContext, *, variant_seed: int = 0
) -> RenderedEmail:
    """The email `step` becomes for `context`; raises `TemplateRenderError` naming the template."""
    variant = pick_variant(step, variant_seed)
    template = variant.template if variant else step.template
    subject = variant.subject if variant else step.subject
    environment = environment_for(cadence)
    variables = context.variables()
    where = f"cadence {cadence.name}, step {step.id}"
    body = render_template(environment, template, variables, where)
    rendered_subject = None
    if subject is not None:
        rendered_subject = " ".join(
            render_source(environment, subject, variables, f"{where}, subject").split()
        )
    return RenderedEmail(rendered_subject, body, variant.id if variant else None)


def render_template(
    environment: jinja2.Environment, name: str, variables: dict[str, Any], where: str
) -> str:
    try:
        text = bounded_render(environment.get_template(name), variables)
    except (jinja2.TemplateError, TemplateRenderError, *_RUNTIME_ERRORS) as exc:
        raise _render_error(f"{where}: template {name}", exc, _source(environment, name)) from None
    return tidy(text)


def render_source(
    environment: jinja2.Environment, source: str, variables: dict[str, Any], where: str
) -> str:
    try:
        return bounded_render(environment.from_string(source), variables)
    except (jinja2.TemplateError, TemplateRenderError, *_RUNTIME_ERRORS) as exc:
        raise _render_error(where, exc, source) from None


def tidy(text: str) -> str:
    """Trailing spaces off every line, no more than one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept) + "\n"


# What a template can raise at run time besides jinja2's own errors (a macro calling itself).
_RUNTIME_ERRORS = (TypeError, ValueError, ArithmeticError, LookupError, RecursionError)


_NO_ATTRIBUTE = re.compile(r"has no attribute '(\w+)'")
_UNDEFINED = re.compile(r"^'(\w+)' is undefined$")


def _render_error(where: str, exc: Exception, source: str | None) -> TemplateRenderError:
    """`where: line N: unknown variable prospect.frist_name`, in the template's own terms."""
    line = exc.lineno if isinstance(exc, jinja2.TemplateSyntaxError) else _template_line(exc)
    problem = _describe(exc, source, line)
    message = f"{where}: line {line}: {problem}" if line else f"{where}: {problem}"
    return TemplateRenderError(message, problem=problem, line=line)


def _describe(exc: Exception, source: str | None, line: int | None) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        # Jinja names the Python class ("'...PersonVars object' has no attribute 'x'"): say which
        # variable of the template it is instead, as written on its line.
        text = exc.message or ""
        attribute = _NO_ATTRIBUTE.search(text)
        if attribute:
            written = _written(source, line, attribute.group(1))
            return f"unknown variable {written}"
        name = _UNDEFINED.match(text)
        if name:
            return f"unknown variable {name.group(1)}"
    if isinstance(exc, jinja2.TemplateError):
        return exc.message or type(exc).__name__
    return str(exc) or type(exc).__name__


def _written(source: str | None, line: int | None, attribute: str) -> str:
    """`prospect.frist_name` as it stands on the template's line, else the bare attribute."""
    lines = source.splitlines() if source else []
    if line and 0 < line <= len(lines):
        found = re.search(rf"([\w.]+)\.{re.escape(attribute)}\b", lines[line - 1])
        if found:
            return f"{found.group(1)}.{attribute}"
    return attribute


def _template_line(exc: Exception) -> int | None:
    """The template line Jinja's rewritten traceback points at, if any."""
    line = None
    traceback = exc.__traceback__
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if code.co_filename in ("<template>", "<unknown>") or code.co_name in (
            "template",
            "top-level template code",
        ):
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _source(environment: jinja2.Environment, name: str) -> str | None:
    try:
        assert environment.loader is not None
        return environment.loader.get_source(environment, name)[0]
    except (jinja2.TemplateNotFound, AssertionError):
        return None

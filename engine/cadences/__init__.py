"""Cadences: YAML files of timed steps, their plain-text Jinja2 templates, checks and versions.

- `model`: the schema of a cadence file and the `Cadence` value.
- `loader`: reading and validating files (errors name file, line and field).
- `templates`: the sandboxed renderer and what a template can see.
- `lint`: the play's rules of thumb, as warnings.
- `versions`: pinning the version an enrollment started on.
- `preview`: the emails a cadence would send and when.
"""

from engine.cadences.lint import LintWarning, lint
from engine.cadences.loader import (
    cross_check,
    load_cadence,
    load_cadences,
    parse_cadence,
)
from engine.cadences.model import (
    DEFAULT_ON_REPLY,
    PROSPECT_TIMEZONE,
    AccountReplyRule,
    Audience,
    Cadence,
    CadenceSpec,
    ReplyAction,
    ReplyActionKind,
    Schedule,
    Step,
    StopRules,
    Touches,
    Variant,
    parse_reply_action,
    parse_wait,
)
from engine.cadences.templates import (
    AccountVars,
    PersonVars,
    RenderedEmail,
    SenderVars,
    TemplateContext,
    context_for,
    render_step,
    sample_context,
    sender_vars,
)
from engine.cadences.versions import pin_version, pinned_cadence

__all__ = [
    "DEFAULT_ON_REPLY",
    "PROSPECT_TIMEZONE",
    "AccountReplyRule",
    "AccountVars",
    "Audience",
    "Cadence",
    "CadenceSpec",
    "LintWarning",
    "PersonVars",
    "RenderedEmail",
    "ReplyAction",
    "ReplyActionKind",
    "Schedule",
    "SenderVars",
    "Step",
    "StopRules",
    "TemplateContext",
    "Touches",
    "Variant",
    "context_for",
    "cross_check",
    "lint",
    "load_cadence",
    "load_cadences",
    "parse_cadence",
    "parse_reply_action",
    "parse_wait",
    "pin_version",
    "pinned_cadence",
    "render_step",
    "sample_context",
    "sender_vars",
]

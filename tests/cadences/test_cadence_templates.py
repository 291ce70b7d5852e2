"""Rendering: every shipped template renders, the sandbox holds, plain text stays plain."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import jinja2
import pytest

from engine.cadences import (
    Cadence,
    TemplateContext,
    context_for,
    load_cadences,
    parse_cadence,
    render_step,
    sample_context,
)
from engine.cadences.templates import make_environment, pick_variant, render_source
from engine.config import MailboxConfig, ServerSettings
from engine.errors import CadenceError, Location, TemplateRenderError
from engine.store.models import Account, Prospect

CADENCE = """\
name: t
steps:
  - id: one
    subject: "Hi {{ prospect.first_name }}"
    template: body
"""
SIGNED = "\n\n{{ sender.signature }}"


def cadence_with(body: str, text: str = CADENCE) -> Cadence:
    """A cadence whose one template is `body`, not checked against the sample (tests do that)."""
    return parse_cadence(text, "t.yaml", {"body": body}.get, check_rendering=False)


def render(body: str, context: TemplateContext | None = None) -> str:
    cadence = cadence_with(body)
    return render_step(cadence, cadence.first_step(), context or sample_context()).body


def mailbox() -> MailboxConfig:
    return MailboxConfig(
        name="alex",
        address="alex@example-sender.com",
        display_name="Alex Rivera",
        smtp=ServerSettings(host="127.0.0.1", port=2525),
    )


# --- the shipped templates -----------------------------------------------------------------------


def test_every_shipped_step_and_variant_renders(workdir: Path) -> None:
    cadences = load_cadences(workdir / "cadences", workdir / "templates")
    rendered_templates: set[str] = set()
    for cadence in cadences.values():
        for step in cadence.steps:
            variants = step.variants or (None,)
            for variant in variants:
                only = step.model_copy(update={"variants": (variant,) if variant else ()})
                email = render_step(cadence, only, sample_context())
                assert "{{" not in email.body and "{%" not in email.body
                rendered_templates.add(variant.template if variant else step.template)
                if step.is_task:  # instructions for the rep, with what a call needs
                    assert "Dana Whitfield" in email.body and email.subject is None
                    assert "+1 312 555 0142" in email.body or "linkedin.com" in email.body
                    continue
                assert email.body.startswith("Hi Dana,")
                assert email.body.rstrip().endswith("Alex Rivera\nExample Sender")
                assert (email.subject is None) == step.is_reply
                rendered_templates.add(variant.template if variant else step.template)
    shipped = {p.name.removesuffix(".txt.j2") for p in (workdir / "templates").glob("*.txt.j2")}
    assert rendered_templates == shipped


def test_referral_followup_names_the_referrer(workdir: Path) -> None:
    cadence = load_cadences(workdir / "cadences", workdir / "templates")["referral-followup"]
    email = render_step(cadence, cadence.first_step(), sample_context())
    assert email.subject == "Morgan suggested I reach out"
    assert "Morgan suggested I reach out" in email.body


def test_shipped_templates_render_for_a_real_prospect_with_gaps(workdir: Path) -> None:
    cadences = load_cadences(workdir / "cadences", workdir / "templates")
    prospect = Prospect(email="kim@acme.example", first_name="", custom={})
    referrer = Prospect(email="lee@acme.example", first_name="Lee")
    account = Account(domain="acme.example", name="Acme")
    context = context_for(prospect, account, mailbox(), referrer)
    for cadence in cadences.values():
        for step in cadence.steps:
            email = render_step(cadence, step, context)
            assert "None" not in email.body
            if step.is_task:
                assert "none on file" in email.body or "no profile on file" in email.body
            else:
                assert email.body.startswith("Hi there,")
    ask = cadences["referral-ask"]
    assert "Acme" in (render_step(ask, ask.first_step(), context).subject or "")


def test_context_for_database_rows() -> None:
    prospect = Prospect(
        email="kim@acme.example", first_name="Kim", last_name="Ng", title="CFO", custom={"x": 1}
    )
    context = context_for(prospect, None, mailbox(), None)
    assert context.prospect.name == "Kim Ng"
    assert context.account.name == ""
    assert context.referrer is None
    assert context.sender.first_name == "Alex"
    assert context.sender.signature == "Alex Rivera\nExample Sender"
    assert context.custom == {"x": 1}


# --- strictness and the fallback filter ----------------------------------------------------------


def test_undefined_variables_are_errors() -> None:
    with pytest.raises(TemplateRenderError, match="nickname"):
        render("Hi {{ prospect.nickname }}" + SIGNED)
    with pytest.raises(TemplateRenderError, match="unknown variable colour"):
        render("{{ colour }}" + SIGNED)


def test_fallback_covers_empty_values_and_missing_custom_fields() -> None:
    context = sample_context()
    empty = TemplateContext(
        context.prospect.__class__(first_name="  "), context.account, context.sender
    )
    body = '{{ prospect.first_name | fallback("there") }}/{{ custom.role | fallback("x") }}'
    assert render(body, empty).startswith("there/x")
    assert render("{{ prospect.title | default_if_empty('exec') }}", empty).startswith("exec")
    assert render("{{ referrer.first_name | fallback('a colleague') }}", empty).startswith(
        "a colleague"
    )


def test_fallback_does_not_hide_typos() -> None:
    with pytest.raises(TemplateRenderError, match="frist_name"):
        render('{{ prospect.frist_name | fallback("there") }}')
    with pytest.raises(TemplateRenderError, match="prospekt"):
        render('{{ prospekt | fallback("there") }}')


def test_plain_text_is_not_escaped() -> None:
    context = sample_context()
    account = context.account.__class__(name="Smith & Sons <UK>")
    odd = TemplateContext(context.prospect, account, context.sender)
    assert render("{{ account.name }}", odd) == "Smith & Sons <UK>\n"


# --- the sandbox ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        "{{ prospect.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ prospect.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.system('true') }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ custom.update({'pain_point': 'hacked'}) }}",
        "{{ custom.clear() }}",
        "{{ self.__init__.__globals__ }}",
        "{{ range.__self__ }}",
        "{{ prospect.name.format.__globals__ }}",
        "{{ '{0.__class__}'.format(prospect) }}",
        "{{ config }}",
        "{{ request }}",
        "{% import 'os' as os %}",
        "{% include '/etc/passwd' %}",
    ],
)
def test_templates_cannot_reach_python_internals(attack: str) -> None:
    with pytest.raises(TemplateRenderError):
        render(attack + SIGNED)


def test_custom_fields_stay_unchanged_by_a_template() -> None:
    context = sample_context()
    with pytest.raises(TemplateRenderError):
        render("{{ custom.pop('pain_point') }}", context)
    assert context.custom == {"pain_point": "manual forecast prep"}


def test_an_unsafe_template_fails_validation_with_its_location() -> None:
    with pytest.raises(CadenceError) as caught:
        parse_cadence(CADENCE, "t.yaml", {"body": "{{ prospect.__class__ }}"}.get)
    assert caught.value.location == Location(Path("templates") / "body.txt.j2", 1)
    assert "steps.0.template" in caught.value.reason
    assert "unsafe" in caught.value.reason or "__class__" in caught.value.reason


def test_environment_is_a_strict_immutable_sandbox() -> None:
    environment = make_environment({})
    assert environment.undefined is jinja2.StrictUndefined
    assert environment.autoescape is False
    with pytest.raises(TemplateRenderError):
        render_source(environment, "{{ x.append(1) }}", {"x": []}, "test")


# --- A/B variants --------------------------------------------------------------------------------

AB = """\
name: ab
steps:
  - id: one
    subject: "Hi {{ prospect.first_name }}"
    template: a
    variants:
      - id: a
        weight: 3
      - id: b
        template: b
        subject: "Hello {{ prospect.first_name }}"
"""


def test_variants_are_picked_by_weight_and_seed() -> None:
    cadence = parse_cadence(AB, "ab.yaml", {"a": "A" + SIGNED, "b": "B" + SIGNED}.get)
    step = cadence.first_step()
    picks = Counter(pick_variant(step, seed).id for seed in range(4000))  # type: ignore[union-attr]
    assert 0.70 < picks["a"] / 4000 < 0.80
    for seed in range(20):
        first = render_step(cadence, step, sample_context(), variant_seed=seed)
        again = render_step(cadence, step, sample_context(), variant_seed=seed)
        assert first == again
        assert first.body.startswith(first.variant.upper())  # type: ignore[union-attr]
        expected = "Hi Dana" if first.variant == "a" else "Hello Dana"
        assert first.subject == expected


def test_a_step_without_variants_has_none() -> None:
    cadence = cadence_with("Hello" + SIGNED)
    assert render_step(cadence, cadence.first_step(), sample_context()).variant is None

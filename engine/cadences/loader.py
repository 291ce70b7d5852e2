"""Reading cadence files and checking them, with errors that name file, line and field.

`parse_cadence` is the pure core: YAML text plus a way to look templates up by name gives a
`Cadence` or the first `CadenceError` (`cadence_problems` gives all of them, for `spear cadence
check`). `load_cadence` reads a file and `templates/`; a pinned
version (see `versions.py`) is rebuilt by the same function from the stored texts. Checks that
need more than one file (a reply action naming another cadence, a mailbox or segment from the
config) live in `cross_check`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

import pydantic

from engine.cadences.model import Cadence, CadenceSpec
from engine.cadences.templates import (
    make_environment,
    render_source,
    render_template,
    sample_context,
    template_filename,
)
from engine.errors import CadenceError, Location, TemplateRenderError
from engine.yamlfile import line_of, parse_yaml, validation_errors

CADENCE_SUFFIXES = (".yaml", ".yml")

# Looks a template up by name: its source, or None when there is no such template.
TemplateLookup = Callable[[str], str | None]


def directory_templates(templates_dir: Path) -> TemplateLookup:
    def lookup(name: str) -> str | None:
        path = templates_dir / template_filename(name)
        if ".." in Path(name).parts or not path.is_file():
            return None
        return path.read_text(encoding="utf-8")

    return lookup


def load_cadence(path: Path, templates_dir: Path) -> Cadence:
    """Read and check one cadence file; raises `CadenceError` naming file, line and field."""
    return _first_problem_raised(*check_cadence_file(path, templates_dir))


def check_cadence_file(
    path: Path, templates_dir: Path
) -> tuple[Cadence | None, list[CadenceError]]:
    """The cadence in `path` and every problem of the file (`spear cadence check` shows all)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [CadenceError(Location(path), "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [CadenceError(Location(path), f"cannot read file: {exc}")]
    return cadence_problems(text, path, directory_templates(templates_dir), templates_dir)


def parse_cadence(
    text: str,
    file: Path | str,
    templates: TemplateLookup,
    templates_dir: Path | str = "templates",
    *,
    check_rendering: bool = True,
) -> Cadence:
    """The cadence `text` describes, with the sources of every template it uses."""
    return _first_problem_raised(
        *cadence_problems(text, file, templates, templates_dir, check_rendering=check_rendering)
    )


def _first_problem_raised(cadence: Cadence | None, problems: list[CadenceError]) -> Cadence:
    if problems:
        raise problems[0]
    assert cadence is not None
    return cadence


def cadence_problems(
    text: str,
    file: Path | str,
    templates: TemplateLookup,
    templates_dir: Path | str = "templates",
    *,
    check_rendering: bool = True,
) -> tuple[Cadence | None, list[CadenceError]]:
    """`parse_cadence`, with every problem found instead of the first (the cadence is None
    when the file's shape or a template is wrong)."""
    try:
        document = parse_yaml(text, file, CadenceError)
    except CadenceError as exc:
        return None, [exc]
    if not isinstance(document, dict):
        return None, [CadenceError(Location(file, 1), "a cadence file must be a mapping of keys")]
    try:
        spec = CadenceSpec.model_validate(document)
    except pydantic.ValidationError as exc:
        found = validation_errors(exc, document, file, CadenceError)
        return None, [p for p in found if isinstance(p, CadenceError)]
    sources: dict[str, str] = {}
    problems: list[CadenceError] = []
    for field, name, _subject in _renderables(spec):
        source = templates(name)
        if source is None:
            problems.append(
                CadenceError(
                    _location(document, file, f"{field}.template"),
                    f"template {name!r} does not exist "
                    f"(looked for {Path(templates_dir) / template_filename(name)})",
                )
            )
        else:
            sources[name] = source
    if problems:
        return None, problems
    cadence = Cadence(
        **dict(spec),
        version=content_version(text, sources),
        file=str(file),
        source=text,
        templates=sources,
    )
    if check_rendering:
        problems = check_templates(cadence, document, templates_dir)
    return (None if problems else cadence), problems


def content_version(text: str, templates: dict[str, str]) -> str:
    """A stable hash of the cadence's YAML and its templates: same content, same version."""
    digest = hashlib.sha256(text.encode())
    for name in sorted(templates):
        digest.update(b"\0" + name.encode() + b"\0" + templates[name].encode())
    return digest.hexdigest()[:16]


def check_templates(
    cadence: Cadence, document: Any, templates_dir: Path | str = "templates"
) -> list[CadenceError]:
    """Every template and subject compiles and renders against the sample prospect.

    A problem in a template is reported at the template's own file and line; one in a subject at
    the cadence's line.
    """
    environment = make_environment(cadence.templates)
    variables = sample_context().variables()
    problems: list[CadenceError] = []
    seen: set[str] = set()
    for field, template, subject in _renderables(cadence):
        if template not in seen:
            seen.add(template)
            try:
                render_template(environment, template, variables, f"template {template!r}")
            except TemplateRenderError as exc:
                where = Location(Path(templates_dir) / template_filename(template), exc.line)
                used_by = f"used by {cadence.file}: {field}.template"
                problems.append(CadenceError(where, f"{exc.problem} ({used_by})"))
        if subject is not None:
            try:
                render_source(environment, subject, variables, "subject")
            except TemplateRenderError as exc:
                problems.append(
                    CadenceError(
                        _location(document, cadence.file, f"{field}.subject"),
                        f"does not render against the sample prospect: {exc.problem}",
                    )
                )
    return problems


def _renderables(spec: CadenceSpec) -> Iterator[tuple[str, str, str | None]]:
    """(field, template, subject) for each step, or for each variant of a step that has them."""
    for index, step in enumerate(spec.steps):
        if not step.variants:
            yield f"steps.{index}", step.template, step.subject
        for j, variant in enumerate(step.variants):
            yield f"steps.{index}.variants.{j}", variant.template, variant.subject


def _location(document: Any, file: Path | str, field: str) -> Location:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in field.split(".")]
    return Location(Path(file), line_of(document, parts), field)


def location_in(cadence: Cadence, field: str) -> Location:
    """Where `field` (dotted) stands in the cadence's file, for checks made after loading."""
    document = parse_yaml(cadence.source, cadence.file, CadenceError)
    return _location(document, Path(cadence.file), field)


# --- several files -------------------------------------------------------------------------------


def cadence_files(paths: Iterable[Path]) -> list[Path]:
    """The cadence files named by `paths`: files as given, folders by their *.yaml."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in CADENCE_SUFFIXES)
        else:
            files.append(path)
    return files


def load_cadences(
    cadences_dir: Path,
    templates_dir: Path,
    *,
    mailboxes: Collection[str] | None = None,
    segments: Collection[str] | None = None,
) -> dict[str, Cadence]:
    """Every cadence in `cadences_dir` by name; raises the first `CadenceError` of any of them."""
    if not cadences_dir.is_dir():
        raise CadenceError(Location(cadences_dir), "cadences folder not found")
    cadences: dict[str, Cadence] = {}
    for path in cadence_files([cadences_dir]):
        add_cadence(cadences, load_cadence(path, templates_dir))
    errors = cross_check(cadences.values(), cadences, mailboxes=mailboxes, segments=segments)
    if errors:
        raise errors[0]
    return cadences


def add_cadence(cadences: dict[str, Cadence], cadence: Cadence) -> None:
    if cadence.name in cadences:
        raise CadenceError(
            location_in(cadence, "name"),
            f"cadence name {cadence.name!r} is already used by {cadences[cadence.name].file}",
        )
    cadences[cadence.name] = cadence


def cross_check(
    checked: Iterable[Cadence],
    known: Collection[str],
    *,
    mailboxes: Collection[str] | None = None,
    segments: Collection[str] | None = None,
) -> list[CadenceError]:
    """Problems between files: reply actions to unknown cadences, unknown mailboxes, segments."""
    errors: list[CadenceError] = []
    for cadence in checked:
        for label, action in cadence.on_reply.items():
            if action.cadence is not None and action.cadence not in known:
                errors.append(
                    CadenceError(
                        location_in(cadence, f"on_reply.{label}"),
                        f"{action}: there is no cadence named {action.cadence!r}"
                        f" (known: {', '.join(sorted(known)) or 'none'})",
                    )
                )
        if mailboxes is not None:
            for index, mailbox in enumerate(cadence.mailboxes):
                if mailbox not in mailboxes:
                    errors.append(
                        CadenceError(
                            location_in(cadence, f"mailboxes.{index}"),
                            f"no mailbox named {mailbox!r} in the configuration",
                        )
                    )
        segment = cadence.audience.segment
        if segments is not None and segment is not None and segment not in segments:
            errors.append(
                CadenceError(
                    location_in(cadence, "audience.segment"),
                    f"no segment named {segment!r} in the configuration",
                )
            )
    return errors

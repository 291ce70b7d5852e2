"""Reading the YAML files users write, keeping line numbers for error messages.

Config, cadences, segments and scenarios are all validated with pydantic; a pydantic error only
knows the field's path, so we load with ruamel.yaml (which remembers where every key stood) and
translate the path back into a line of the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from engine.errors import InputError, Location

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


def load_yaml(path: Path, error: type[InputError] = InputError) -> Any:
    """Parse `path`; a syntax error names the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(Location(path), "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(Location(path), f"cannot read file: {exc}") from None
    return parse_yaml(text, path, error)


def parse_yaml(text: str, path: Path | str, error: type[InputError] = InputError) -> Any:
    try:
        return YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(Location(path, line), f"invalid YAML: {problem}") from None


def line_of(document: Any, field_path: Sequence[str | int]) -> int | None:
    """The 1-based line where `field_path` (as pydantic reports it) stands in a ruamel document.

    Walks as deep as the document goes: for a missing key we report the line of its parent.
    """
    node, line = document, None
    for part in field_path:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(document, CommentedMap | CommentedSeq):
        line = document.lc.line + 1
    return line


def dotted(field_path: Sequence[str | int]) -> str:
    """`mailboxes.0.smtp.port` style name for a pydantic location."""
    return ".".join(str(part) for part in field_path)


def validate(
    model: type[ModelT],
    document: Any,
    path: Path | str,
    error: type[InputError] = InputError,
    prefix: Sequence[str | int] = (),
    context: dict[str, Any] | None = None,
) -> ModelT:
    """Validate `document` as `model`, raising the first error with file, line and field."""
    try:
        return model.model_validate(document if document is not None else {}, context=context)
    except pydantic.ValidationError as exc:
        raise validation_errors(exc, document, path, error, prefix)[0] from None


def validation_errors(
    exc: pydantic.ValidationError,
    document: Any,
    path: Path | str,
    error: type[InputError] = InputError,
    prefix: Sequence[str | int] = (),
) -> list[InputError]:
    """Every problem pydantic found, each with file, line and field, in the file's order."""
    found = []
    fields: set[str] = set()
    for problem in exc.errors():
        field_path = [*prefix, *(p for p in problem["loc"] if not _is_union_tag(p))]
        if dotted(field_path) in fields:
            continue  # a union reports each member it tried: the first says enough
        fields.add(dotted(field_path))
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        elif problem["type"] == "value_error":
            message = str(problem.get("ctx", {}).get("error", message))  # without "Value error, "
        line = line_of(document, field_path[len(prefix) :])
        found.append(error(Location(path, line, dotted(field_path)), message))
    return found


def _is_union_tag(part: str | int) -> bool:
    # pydantic puts the name of the union member it tried into the location ("function-after[...]").
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))

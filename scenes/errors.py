"""The exceptions scenes raise (`SceneError`, and `NoRoutesError` for an import no env can climb),
and how schema violations become their messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class SceneError(ValueError):
    """A scene file or Scene object is malformed.

    The message reads `<file>: <field path>: <what was wrong and what is accepted>`, e.g.
    `scene.json: holds[3].normal: expected 3 finite numbers, got 2 items`. `file` and `field`
    are also kept as attributes so callers (and tests) need not parse the message.
    """

    def __init__(self, detail: str, *, file: str | None = None, field: str | None = None):
        self.detail = detail
        self.file = file
        self.field = field
        parts = [p for p in (file, field) if p]
        super().__init__(": ".join([*parts, detail]))


class NoRoutesError(SceneError):
    """An imported climbing wall came out with no route a climber can climb.

    `diagnosis` holds the numbers the message quotes (see `scenes.no_routes.diagnose`): holds
    placed, holds within reach of the floor, hold spacing against the climber's reach, the
    wall height in metres and the scale (metres per file unit) it was read at.
    """

    def __init__(self, detail: str, *, file: str | None = None, diagnosis: dict | None = None):
        super().__init__(detail, file=file)
        self.diagnosis = dict(diagnosis or {})


class NoRoutesWarning(UserWarning):
    """`import_mesh(..., allow_no_routes=True)` returned a scene with no routes (or a sector
    without any); the message is the one `NoRoutesError` would carry."""


def format_path(path: Iterable[Any]) -> str:
    """Render a JSON path like ['holds', 3, 'normal'] as 'holds[3].normal'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def schema_error_to_scene_error(error: Any, file: str) -> SceneError:
    """Turn a jsonschema ValidationError into a SceneError naming the field and what is accepted.

    Schema nodes may carry an `x-expected` annotation (ignored by validators) with a phrase such as
    "3 finite numbers"; it is preferred over jsonschema's generic wording.
    """
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    expected = schema.get("x-expected")
    inst = error.instance
    kind = error.validator
    if kind == "required":
        missing = [k for k in error.validator_value if k not in inst]
        name = missing[0] if missing else "?"
        return SceneError("required field is missing", file=file, field=format_path([*path, name]))
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed)
        name = extra[0] if extra else "?"
        return SceneError(
            f"unexpected field (accepted: {', '.join(allowed)})",
            file=file,
            field=format_path([*path, name]),
        )
    field = format_path(path) or "<top level>"
    if kind == "type":
        want = expected or " or ".join(
            error.validator_value
            if isinstance(error.validator_value, list)
            else [error.validator_value]
        )
        return SceneError(f"expected {want}, got {json_type(inst)}", file=file, field=field)
    if kind in ("minItems", "maxItems", "items", "prefixItems"):
        want = expected or f"an array ({kind} {error.validator_value})"
        got = f"{len(inst)} items" if isinstance(inst, list) else json_type(inst)
        return SceneError(f"expected {want}, got {got}", file=file, field=field)
    if kind == "enum":
        options = ", ".join(repr(v) for v in error.validator_value)
        return SceneError(f"expected one of {options}, got {_short(inst)}", file=file, field=field)
    if kind == "const":
        return SceneError(
            f"expected {error.validator_value!r}, got {_short(inst)}", file=file, field=field
        )
    bounds = {
        "minimum": ">=",
        "maximum": "<=",
        "exclusiveMinimum": ">",
        "exclusiveMaximum": "<",
    }
    if kind in bounds:
        want = expected or f"a number {bounds[kind]} {error.validator_value}"
        return SceneError(f"expected {want}, got {_short(inst)}", file=file, field=field)
    if kind in ("pattern", "minLength", "maxLength"):
        want = expected or f"a string matching {kind} {error.validator_value!r}"
        return SceneError(f"expected {want}, got {_short(inst)}", file=file, field=field)
    return SceneError(f"{error.message}", file=file, field=field)

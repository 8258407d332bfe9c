"""Reading and writing scenes: versioned JSON on disk, schema plus semantic validation, exact round trip.

On disk a scene is either a directory holding `scene.json` and the mesh files it names, or a single
`.json` file (mesh file names then resolve against the file's directory). The JSON document holds
every `Scene` field except `root`; scenes.codec converts and writes it (floats via `repr`, which
Python reads back bit-exactly), so `load(save(s))` equals `s` field by field apart from `root`,
which `load` sets to the scene directory (absolute).

Loading is layered: bytes -> strict UTF-8 -> JSON (NaN/Infinity, overflowing numbers, duplicate keys
and lone surrogates are flagged with their path) -> format version -> JSON Schema
(scenes/schema/scene.schema.json) -> dataclasses -> `validate_scene` (unit normals, ids, route
references, file names, mesh files). Every failure is a `SceneError` naming the file and field.
jsonschema and trimesh are imported only when a scene is actually loaded or saved.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from scenes import splits, validate
from scenes.atomic import write_atomic
from scenes.codec import dumps, scene_from_dict, scene_to_dict
from scenes.errors import SceneError, format_path, schema_error_to_scene_error
from scenes.shipped import assets_dir, list_builtin
from scenes.types import SCENE_FORMAT_VERSION, Scene

__all__ = [
    "dumps",
    "load",
    "loads",
    "parse_document",
    "save",
    "scene_from_dict",
    "scene_to_dict",
    "validate_document",
]

SCENE_FILE = "scene.json"
SCHEMA_PATH = Path(__file__).with_name("schema") / "scene.schema.json"


class _BadNumber:
    """Stand-in the JSON parser produces for NaN, +-Infinity and numbers that overflow a float."""

    def __init__(self, token: str):
        self.token = token


class _Obj(dict):
    """A parsed JSON object that remembers its first duplicated key (Python's json keeps the last)."""

    duplicate: str | None = None


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Obj:
    obj = _Obj()
    for key, value in pairs:
        if key in obj and obj.duplicate is None:
            obj.duplicate = key
        obj[key] = value
    return obj


def _parse_float(token: str) -> float | _BadNumber:
    value = float(token)
    return value if math.isfinite(value) else _BadNumber(token)


def _parse_int(token: str) -> int | _BadNumber:
    try:
        value = int(token)
        float(value)  # an integer too large for a float cannot be a coordinate either
    except (ValueError, OverflowError):
        return _BadNumber(token[:20] + ("..." if len(token) > 20 else ""))
    return value


def _check_tree(node: Any, path: list, source: str) -> None:
    """Reject values JSON allows but scenes do not, naming where they are."""
    if isinstance(node, _BadNumber):
        raise SceneError(
            f"expected a finite number, got {node.token}", file=source, field=format_path(path)
        )
    if isinstance(node, str):
        _check_text(node, path, source)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _check_tree(item, [*path, i], source)
    elif isinstance(node, dict):
        if getattr(node, "duplicate", None) is not None:
            raise SceneError(
                "duplicate key in object (each field may appear once)",
                file=source,
                field=format_path([*path, node.duplicate]),
            )
        for key, value in node.items():
            _check_text(key, [*path, key], source)
            _check_tree(value, [*path, key], source)


def _check_text(text: str, path: list, source: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # "\ud800"-style escapes parse into lone surrogates, which no UTF-8 file can hold.
        raise SceneError(
            "invalid string: contains a lone UTF-16 surrogate escape",
            file=source,
            field=format_path(path) or "<top level>",
        ) from None


def parse_document(data: bytes | str, source: str = "<string>") -> dict:
    """Parse scene JSON text into a plain document, rejecting invalid UTF-8, non-JSON and NaN/inf."""
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise SceneError(f"invalid UTF-8 at byte {e.start}", file=source) from None
    else:
        text = data
    text = text.removeprefix("\ufeff")
    try:
        doc = json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_BadNumber,
        )
    except json.JSONDecodeError as e:
        raise SceneError(
            f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}", file=source
        ) from None
    except RecursionError:
        raise SceneError("not valid JSON: nested too deeply", file=source) from None
    except ValueError as e:  # e.g. surrogates json itself refuses
        raise SceneError(f"not valid JSON: {e}", file=source) from None
    if not isinstance(doc, dict):
        raise SceneError(
            f"expected a JSON object at the top level, got {_json_kind(doc)}", file=source
        )
    try:
        _check_tree(doc, [], source)
    except RecursionError:
        raise SceneError("not valid JSON: nested too deeply", file=source) from None
    return doc


def _json_kind(value: Any) -> str:
    from scenes.errors import json_type

    return "a non-finite number" if isinstance(value, _BadNumber) else json_type(value)


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def validate_document(doc: dict, source: str = "<string>") -> None:
    """Check a parsed document's format version, then its structure against the JSON Schema."""
    version = doc.get("version", None)
    if "version" not in doc:
        raise SceneError("required field is missing", file=source, field="version")
    if type(version) is not int or version != SCENE_FORMAT_VERSION:
        raise SceneError(
            f"unsupported format version {version!r}; this build reads version "
            f"{SCENE_FORMAT_VERSION}",
            file=source,
            field="version",
        )
    import jsonschema.exceptions

    try:
        error = jsonschema.exceptions.best_match(_validator().iter_errors(doc))
    except RecursionError:
        raise SceneError("document nested too deeply", file=source) from None
    if error is not None:
        raise schema_error_to_scene_error(error, source)


def loads(
    data: bytes | str, *, source: str = "<string>", root: str | os.PathLike | None = None
) -> Scene:
    """Parse and validate scene JSON text. With `root`, named files are checked there (and
    `root` is recorded on the scene); without, file names are checked only for form."""
    doc = parse_document(data, source)
    validate_document(doc, source)
    scene = scene_from_dict(doc)
    validate.validate_scene(scene, source=source, root=root)
    if root is not None:
        scene.root = os.path.abspath(root)
    return scene


# --- files ------------------------------------------------------------------------------------


def _resolve(path_or_id: str | os.PathLike) -> Path:
    """A scene id or path -> the JSON file to read."""
    path = Path(path_or_id)
    if not path.exists():
        ids = list_builtin()
        if isinstance(path_or_id, str) and path_or_id in ids:
            return assets_dir() / path_or_id / SCENE_FILE
        raise SceneError(
            "no such file, directory, builtin scene id or split scene name "
            f"(builtin ids: {', '.join(ids)}; split scenes are '<split>/<index>', e.g. 'train/000', "
            f"with splits {', '.join(splits.names())})",
            file=str(path_or_id),
        )
    if path.is_dir():
        path = path / SCENE_FILE
        if not path.is_file():
            raise SceneError(f"scene directory has no {SCENE_FILE}", file=str(path.parent))
    return path


def load(path_or_id: str | os.PathLike) -> Scene:
    """Load a scene from a builtin id (see `list_builtin`), a split scene name
    (``"train/000"``, built from its spec), a scene directory, or a .json file."""
    if isinstance(path_or_id, str) and not Path(path_or_id).exists():
        split = path_or_id.partition("/")[0]
        if "/" in path_or_id and split in splits.names():
            try:
                return splits.spec(path_or_id).build()
            except KeyError as e:
                raise SceneError(e.args[0], file=path_or_id) from None
    path = _resolve(path_or_id)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SceneError(f"cannot read file: {e.strerror or e}", file=str(path)) from None
    return loads(data, source=str(path), root=path.parent)


def resolve(scene) -> Scene:
    """A Scene from what a user may pass: a Scene, a `splits.SceneSpec`, a builtin id, a split
    scene name (``"train/000"``) or a path."""
    if isinstance(scene, Scene):
        return scene
    if isinstance(scene, splits.SceneSpec):
        return scene.build()
    if isinstance(scene, str | os.PathLike):
        return load(scene)
    raise TypeError(
        f"scene: expected a scenes.Scene, a scenes.splits.SceneSpec, a builtin id, a split scene "
        f"name ('train/000') or a path, got {type(scene).__name__}"
    )


def save(scene: Scene, path: str | os.PathLike) -> Path:
    """Write a scene atomically; returns the JSON file written.

    `path` ending in `.json` writes that single file; any other path is a scene directory that gets
    `scene.json`. Mesh files the scene names are copied from `scene.root` when it differs from the
    destination directory. The scene is validated first, and must survive the JSON round trip
    exactly (e.g. tuples inside `metadata.params` would come back as lists: SceneError).
    """
    path = Path(path)
    target = path if path.suffix.lower() == ".json" else path / SCENE_FILE
    text = dumps(scene)
    files = validate.referenced_files(scene)
    if files and scene.root is None:
        raise SceneError(
            f"scene names files ({files[0]}) but scene.root is None, so they cannot be found",
            file=str(target),
            field="root",
        )
    reread = loads(text, source=str(target), root=scene.root)
    diff = validate.first_difference(replace(reread, root=scene.root), scene)
    if diff is not None:
        raise SceneError(
            f"value does not survive the JSON round trip ({diff[1]}); use floats, ints, "
            "strings, lists and dicts",
            file=str(target),
            field=diff[0],
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    src_root = Path(scene.root).resolve() if scene.root is not None else None
    if src_root is not None and src_root != target.parent.resolve():
        for name in files:
            dest = target.parent / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(dest, (src_root / name).read_bytes())
    write_atomic(target, text.encode("utf-8"))
    return target

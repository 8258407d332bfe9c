"""Fuzzing the loader: whatever the bytes, it returns a Scene or raises SceneError, quickly."""

from __future__ import annotations

import copy
import json
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenes
from scenes import SceneError
from scenes.io import loads

FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


@cache
def _valid_texts() -> tuple[str, ...]:
    wall = scenes.generate_wall(0, width=2.0, height=3.0, hold_density=3.0, n_routes=1, n_volumes=1)
    return scenes.dumps(wall), scenes.dumps(scenes.generate_room(0, n_furniture=2, n_obstacles=1))


def _check(data: bytes | str) -> None:
    try:
        result = loads(data, source="fuzz.json")
    except SceneError as e:
        assert str(e).startswith("fuzz.json")
    else:
        assert isinstance(result, scenes.Scene)


def _paths(node: object, path: tuple = ()) -> list[tuple]:
    """Every path into a JSON tree (including the root)."""
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


@FUZZ
@given(json_values)
def test_random_json_values(value: object) -> None:
    _check(json.dumps(value))


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@FUZZ
@given(st.data())
def test_mutated_valid_documents(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(_valid_texts()))
    doc = json.loads(text)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths))
        op = data.draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if not path:
            doc = data.draw(json_values) if op == "replace" else doc
            continue
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        key = path[-1]
        if op == "replace":
            parent[key] = data.draw(json_values)
        elif op == "delete":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8))] = data.draw(json_values)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    _check(json.dumps(doc))


@FUZZ
@given(st.data())
def test_mutated_text(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(_valid_texts()))
    i = data.draw(st.integers(0, len(text) - 1))
    j = data.draw(st.integers(i, min(len(text), i + 20)))
    insert = data.draw(
        st.sampled_from(["NaN", "-Infinity", "1e999", '"', "{", "]", ",", "\\ud800", ""])
    )
    _check(text[:i] + insert + text[j:])


def test_mutations_do_reach_semantic_checks() -> None:
    """The fuzzers are not trivially rejected: the unmutated documents load."""
    for text in _valid_texts():
        assert isinstance(loads(text), scenes.Scene)

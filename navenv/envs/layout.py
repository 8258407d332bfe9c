"""Named layouts of env actions and observations, so no code outside an env slices by number.

A `VectorLayout` names the consecutive fields of a flat float vector: each `Field` has a name, a
shape (a field of shape (K, 8) is K rows of 8 numbers, stored row-major), the range its values
take, a unit and a docstring, and optionally named `columns` of its last axis. `split(v)` turns a
vector (or a batch of them, (..., size)) into a dict of views shaped like the fields; `join(**parts)`
builds the vector back and checks every part's shape.

An `ObsLayout` describes a whole observation: vector groups (e.g. ``proprio`` and ``route``, each a
VectorLayout) and image entries (e.g. ``ego_rgb``). With ``flat=True`` the observation is one
vector, the groups concatenated in order (an env's ``obs="state"``); otherwise it is a dict keyed by
group and image names. `split(obs)` accepts either form and returns every field by name.

Every navenv env exposes ``env.unwrapped.action_layout`` and ``env.unwrapped.obs_layout``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import prod

import numpy as np


@dataclass(frozen=True)
class Field:
    """One named field of a flat vector: `shape` values from `start`, in [low, high] (`unit`)."""

    name: str
    start: int
    shape: tuple[int, ...]
    low: float = -np.inf
    high: float = np.inf
    unit: str = ""
    doc: str = ""
    columns: Mapping[str, slice] = field(default_factory=dict)
    """Named slices of the field's last axis (e.g. ``position``: 0:3 of each hold row)."""

    @property
    def size(self) -> int:
        """Number of values."""
        return prod(self.shape)

    @property
    def slice(self) -> slice:
        """Where the field sits in the vector."""
        return slice(self.start, self.start + self.size)

    def column(self, value: np.ndarray, name: str) -> np.ndarray:
        """The named column(s) of a split value of this field (last axis)."""
        if name not in self.columns:
            raise KeyError(f"{self.name}: no column {name!r}; columns {sorted(self.columns)}")
        return np.asarray(value)[..., self.columns[name]]


class VectorLayout:
    """Consecutive named fields of a flat vector (see the module doc)."""

    def __init__(self, fields: Sequence[Field | tuple]) -> None:
        out, start = [], 0
        for f in fields:
            if not isinstance(f, Field):  # (name, shape, low, high, unit, doc[, columns])
                name, shape, *rest = f
                f = Field(name, start, tuple(np.atleast_1d(shape).tolist()), *rest)
            if f.start != start:
                raise ValueError(f"field {f.name!r} starts at {f.start}, expected {start}")
            out.append(f)
            start += f.size
        names = [f.name for f in out]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate field names in {names}")
        self.fields: dict[str, Field] = {f.name: f for f in out}
        self.size = start

    @property
    def names(self) -> tuple[str, ...]:
        """Field names in vector order."""
        return tuple(self.fields)

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def __getitem__(self, name: str) -> slice:
        """The slice of field `name`."""
        return self.field(name).slice

    def field(self, name: str) -> Field:
        """Field `name`, with an error listing the layout's fields when there is none."""
        if name not in self.fields:
            raise KeyError(f"no field {name!r}; fields: {list(self.fields)}")
        return self.fields[name]

    def split(self, vector) -> dict[str, np.ndarray]:
        """Field views of `vector` (size,) or (..., size), each shaped (..., *field.shape)."""
        v = np.asarray(vector)
        if v.ndim == 0 or v.shape[-1] != self.size:
            raise ValueError(f"expected a vector of {self.size} values, got shape {v.shape}")
        batch = v.shape[:-1]
        return {n: v[..., f.slice].reshape(*batch, *f.shape) for n, f in self.fields.items()}

    def get(self, vector, name: str) -> np.ndarray:
        """One field of `vector`, shaped like the field."""
        f = self.field(name)
        v = np.asarray(vector)
        return v[..., f.slice].reshape(*v.shape[:-1], *f.shape)

    def join(self, dtype=np.float32, **parts) -> np.ndarray:
        """The vector (..., size) from one array per field (shaped (..., *field.shape))."""
        missing = [n for n in self.fields if n not in parts]
        extra = [n for n in parts if n not in self.fields]
        if missing or extra:
            raise ValueError(
                f"join: missing fields {missing}, unknown fields {extra}; fields: {list(self.fields)}"
            )
        arrays, batch = [], None
        for n, f in self.fields.items():
            a = np.asarray(parts[n], dtype=np.float64)
            if a.shape[a.ndim - len(f.shape) :] != f.shape:
                raise ValueError(f"join: {n} must end in shape {f.shape}, got {a.shape}")
            lead = a.shape[: a.ndim - len(f.shape)]
            batch = lead if batch in (None, lead) else np.broadcast_shapes(batch, lead)
            arrays.append(a)
        flat = [
            # broadcast only what needs it: a policy joins one action per step
            (
                a if a.shape == (*batch, *f.shape) else np.broadcast_to(a, (*batch, *f.shape))
            ).reshape(*batch, f.size)
            for a, f in zip(arrays, self.fields.values())
        ]
        return np.concatenate(flat, axis=-1).astype(dtype)

    def describe(self) -> str:
        """A markdown table: field, slice, shape, range, unit, meaning."""
        rows = ["| field | slice | shape | range | unit | meaning |", "|---|---|---|---|---|---|"]
        for f in self.fields.values():
            rows.append(
                f"| {f.name} | {f.start}:{f.start + f.size} | {f.shape} | [{f.low:g}, {f.high:g}]"
                f" | {f.unit} | {f.doc} |"
            )
        return "\n".join(rows)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}[{f.start}:{f.start + f.size}]" for n, f in self.fields.items())
        return f"VectorLayout({inner}; size {self.size})"


class ObsLayout:
    """An observation: vector groups and image entries, as a dict or (flat) one vector."""

    def __init__(
        self,
        groups: Mapping[str, VectorLayout],
        images: Mapping[str, tuple[int, ...]] | None = None,
        flat: bool = False,
    ) -> None:
        self.groups = dict(groups)
        self.images = dict(images or {})
        self.flat = bool(flat)
        if self.flat and self.images:
            raise ValueError("a flat observation has no image entries")
        names = [n for g in self.groups.values() for n in g.names] + list(self.images)
        if len(set(names)) != len(names):
            raise ValueError(f"field names repeat across groups: {names}")
        self.vector = VectorLayout(
            [
                (f.name, f.shape, f.low, f.high, f.unit, f.doc, f.columns)
                for g in self.groups.values()
                for f in g.fields.values()
            ]
        )
        """All vector fields in one layout: the flat observation's layout."""

    def group(self, obs, name: str) -> np.ndarray:
        """The vector of group `name` (e.g. ``proprio``) from a dict or flat observation."""
        if name not in self.groups:
            raise KeyError(f"no group {name!r}; groups: {list(self.groups)}")
        if isinstance(obs, Mapping):
            return np.asarray(obs[name])
        start = 0
        for g_name, g in self.groups.items():
            if g_name == name:
                return self._flat(obs)[..., start : start + g.size]
            start += g.size
        raise AssertionError("unreachable")

    def split(self, obs) -> dict[str, np.ndarray]:
        """Every field (and image) of `obs` by name."""
        out: dict[str, np.ndarray] = {}
        for name, g in self.groups.items():
            out.update(g.split(self.group(obs, name)))
        if isinstance(obs, Mapping):
            out.update({k: np.asarray(obs[k]) for k in self.images if k in obs})
        return out

    def get(self, obs, name: str) -> np.ndarray:
        """One field of `obs` by name (searched over the groups)."""
        for g_name, g in self.groups.items():
            if name in g:
                return g.get(self.group(obs, g_name), name)
        if name in self.images and isinstance(obs, Mapping):
            return np.asarray(obs[name])
        raise KeyError(f"no field {name!r}; fields: {list(self.vector.names) + list(self.images)}")

    def join(self, **parts):
        """An observation (flat vector, or dict of group vectors and images) from its fields."""
        if self.flat:
            return self.vector.join(**parts)
        out = {}
        for name, g in self.groups.items():
            out[name] = g.join(**{n: parts.pop(n) for n in g.names if n in parts})
        for k in self.images:
            if k in parts:
                out[k] = np.asarray(parts.pop(k))
        if parts:
            raise ValueError(f"join: unknown fields {list(parts)}")
        return out

    def _flat(self, obs) -> np.ndarray:
        v = np.asarray(obs)
        if v.ndim == 0 or v.shape[-1] != self.vector.size:
            raise ValueError(
                f"obs: expected a flat observation of {self.vector.size} values, got shape {v.shape}"
            )
        return v

    def __repr__(self) -> str:
        kind = "flat" if self.flat else "dict"
        return f"ObsLayout({kind}; groups {dict((k, g.size) for k, g in self.groups.items())}; images {self.images})"


def check_action(action, n: int) -> np.ndarray:
    """`action` as a float vector of `n` values clipped to [-1, 1]; ValueError naming the count
    or the NaN/inf indices otherwise (every navenv env's step)."""
    a = np.asarray(action, dtype=np.float64).reshape(-1)
    if a.shape[0] != n:
        raise ValueError(f"action: expected {n} values, got {a.shape[0]}")
    bad = np.flatnonzero(~np.isfinite(a))
    if len(bad):
        raise ValueError(f"action: NaN or inf at indices {bad.tolist()}")
    return np.clip(a, -1.0, 1.0)


CONTROL_MODES: tuple[str, ...] = ("physics", "kinematic")
ASSIST_MODES: tuple[str, ...] = ("none", "residual")


def humanoid_action_layout(
    control: str, assist: str, box: str, extra: Sequence[tuple] = ()
) -> VectorLayout:
    """The action layout every humanoid env shares: hinge targets, the env's `extra` fields
    (ClimbRoute's grips), the residual root wrench with assist="residual", and with
    control="kinematic" the root pose over the env's box (`box`: its name in the reset info)."""
    if control not in CONTROL_MODES:
        raise ValueError(f"control={control!r}: expected one of {CONTROL_MODES}")
    if assist not in ASSIST_MODES:
        raise ValueError(f"assist={assist!r}: expected one of {ASSIST_MODES}")
    if control == "kinematic" and assist != "none":
        raise ValueError(
            "assist='residual' needs control='physics': a kinematic root needs no assist"
        )
    from navenv.humanoid.names import NUM_HINGES

    fields: list[tuple] = [
        (
            "hinge_targets",
            NUM_HINGES,
            -1.0,
            1.0,
            "",
            "hinge targets normalised over each hinge's range (-1 = min, +1 = max), "
            "names.HINGE_NAMES order",
        ),
        *extra,
    ]
    if assist == "residual":
        fields += [
            (
                "assist_force",
                3,
                -1.0,
                1.0,
                "max_assist_force body weights",
                "residual force on the pelvis, world frame",
            ),
            (
                "assist_torque",
                3,
                -1.0,
                1.0,
                "max_assist_torque N m",
                "residual torque on the pelvis, world frame",
            ),
        ]
    if control == "kinematic":
        name = box.replace("_", " ")
        fields += [
            (
                "root_position",
                3,
                -1.0,
                1.0,
                f"{name} half extents",
                f"pelvis position p = centre + a * half_extent over the {name} (reset info "
                f"'{box}')",
            ),
            (
                "root_rot6d",
                6,
                -1.0,
                1.0,
                "",
                "pelvis rotation, its first two columns (Gram-Schmidt projected)",
            ),
        ]
    return VectorLayout(fields)

"""Acclaim ASF (skeleton) + AMC (motion) files, as written by VICON for the CMU database.

ASF sections: ``:units`` (``length L`` means one file unit is 1/L inch, so metres = value *
0.0254 / L; ``angle deg|rad``), ``:root`` (order, axis, position, orientation), ``:bonedata``
(begin/end blocks with id, name, direction, length, ``axis a b c XYZ``, dof, limits) and
``:hierarchy``. AMC: optional ``:FULLY-SPECIFIED`` / ``:DEGREES`` / ``:RADIANS`` lines, then
frames: a frame number line followed by ``bone v1 v2 ...`` lines in the bone's dof order.

Semantics (the CMU viewer's): a bone's local rotation is ``C @ M @ C^-1`` where C comes from its
``axis`` angles and M from its dof angles, both composed extrinsically in the order given
(``rx ry rz`` -> ``Rz @ Ry @ Rx``). Each bone becomes a joint at its start point; leaf bones get
an extra end joint ``<bone>_end`` at their tip. The AMC root position is the root joint's world
position; the ASF root ``position`` is only its rest position.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from navenv.body.motion import Motion
from navenv.body.skeleton import Skeleton
from navenv.mocap.cleanup import MocapReport, clean_and_retarget
from navenv.mocap.retarget import RetargetResult
from navenv.mocap.source import MocapError, SourceMotion, euler_to_matrix, split_lines

INCH_M = 0.0254
_ROT_DOFS = ("rx", "ry", "rz")


@dataclass
class _Bone:
    name: str
    line: int
    direction: np.ndarray | None = None
    length: float | None = None
    axis: np.ndarray = field(default_factory=lambda: np.zeros(3))
    axis_order: str = "xyz"
    dof: tuple[str, ...] = ()
    children: list[str] = field(default_factory=list)


def _numbers(tokens: list[str], n: int, where: str, what: str) -> np.ndarray:
    try:
        values = np.array(tokens[:n], dtype=np.float64)
    except ValueError:
        raise MocapError(f"{where}: {what}: expected {n} numbers, got {tokens}") from None
    if values.shape != (n,) or not np.isfinite(values).all():
        raise MocapError(f"{where}: {what}: expected {n} finite numbers, got {tokens}")
    return values


def _order(token: str, where: str) -> str:
    order = token.lower()
    if sorted(order) != ["x", "y", "z"]:
        raise MocapError(f"{where}: axis order must be a permutation of XYZ, got {token!r}")
    return order


@dataclass
class AsfSkeleton:
    """A parsed ASF file: bones by name, hierarchy, root definition and units."""

    name: str
    bones: dict[str, _Bone]
    root_children: list[str]
    root_order: tuple[str, ...]  # e.g. ("tx", "ty", "tz", "rx", "ry", "rz")
    root_axis_order: str
    root_position: np.ndarray
    root_orientation: np.ndarray  # in the file's angle unit
    length_scale: float  # the ASF "length" value
    degrees: bool


def parse_asf(lines: list[str], name: str) -> AsfSkeleton:
    """Parse ASF text lines (see the module docstring); errors name ``name`` and the line."""
    units: dict[str, str] = {}
    root: dict[str, tuple[list[str], str]] = {}  # key -> (values, "file:line")
    bones: dict[str, _Bone] = {}
    hierarchy: list[tuple[list[str], int]] = []
    section, bone = None, None
    for k, raw in enumerate(lines):
        line, where = raw.split("#", 1)[0].strip(), f"{name}:{k + 1}"
        if not line:
            continue
        tokens = line.split()
        if tokens[0].startswith(":"):
            section = tokens[0].lower()
            continue
        if section == ":units":
            units[tokens[0].lower()] = tokens[1] if len(tokens) > 1 else ""
        elif section == ":root":
            root[tokens[0].lower()] = (tokens[1:], where)
        elif section == ":bonedata":
            key = tokens[0].lower()
            if key == "begin":
                bone = _Bone(name="", line=k + 1)
            elif bone is None:
                raise MocapError(f"{where}: {tokens[0]!r} outside a begin/end bone block")
            elif key == "end":
                if not bone.name or bone.direction is None or bone.length is None:
                    raise MocapError(
                        f"{name}:{bone.line}: bone block needs name, direction and length"
                    )
                if bone.name in bones or bone.name == "root":
                    raise MocapError(f"{name}:{bone.line}: duplicate bone name {bone.name!r}")
                bones[bone.name], bone = bone, None
            elif key == "name":
                bone.name = tokens[1] if len(tokens) > 1 else ""
            elif key == "direction":
                bone.direction = _numbers(tokens[1:], 3, where, "direction")
            elif key == "length":
                bone.length = float(_numbers(tokens[1:], 1, where, "length")[0])
                if bone.length < 0:
                    raise MocapError(f"{where}: length must be >= 0, got {bone.length:g}")
            elif key == "axis":
                bone.axis = _numbers(tokens[1:], 3, where, "axis")
                bone.axis_order = _order(tokens[4], where) if len(tokens) > 4 else "xyz"
            elif key == "dof":
                bone.dof = tuple(t.lower() for t in tokens[1:])
                bad = [d for d in bone.dof if d not in _ROT_DOFS]
                if bad:
                    raise MocapError(
                        f"{where}: unsupported bone dof {bad}; supported: {list(_ROT_DOFS)}"
                    )
            # id, limits (and their continuation lines), bodymass, cofmass: not needed
        elif section == ":hierarchy" and tokens[0].lower() not in ("begin", "end"):
            hierarchy.append((tokens, k + 1))
    if bone is not None:
        raise MocapError(f"{name}:{bone.line}: bone block has no 'end' (file truncated?)")
    if not bones:
        raise MocapError(f"{name}:{len(lines)}: no :bonedata bones")
    if not hierarchy:
        raise MocapError(f"{name}:{len(lines)}: no :hierarchy section")

    root_children: list[str] = []
    for tokens, line in hierarchy:
        for n in tokens:
            if n != "root" and n not in bones:
                raise MocapError(f"{name}:{line}: :hierarchy names unknown bone {n!r}")
        (root_children if tokens[0] == "root" else bones[tokens[0]].children).extend(tokens[1:])
    order_tokens, order_where = root.get("order", (["tx", "ty", "tz", "rx", "ry", "rz"], name))
    order = tuple(t.lower() for t in order_tokens)
    if sorted(order) != sorted(("tx", "ty", "tz", "rx", "ry", "rz")):
        raise MocapError(
            f"{order_where}: :root order must list TX TY TZ RX RY RZ once each, got {order_tokens}"
        )
    axis_tokens, axis_where = root.get("axis", (["XYZ"], name))
    position, position_where = root.get("position", (["0", "0", "0"], name))
    orientation, orientation_where = root.get("orientation", (["0", "0", "0"], name))
    try:
        length_scale = float(units.get("length", "1"))
    except ValueError:
        length_scale = -1.0
    if not (np.isfinite(length_scale) and length_scale > 0):
        raise MocapError(
            f"{name}: :units length must be a positive number, got {units.get('length')!r}"
        )
    angle = units.get("angle", "deg").lower()
    if angle not in ("deg", "rad"):
        raise MocapError(f"{name}: :units angle must be 'deg' or 'rad', got {angle!r}")
    return AsfSkeleton(
        name=name,
        bones=bones,
        root_children=root_children,
        root_order=order,
        root_axis_order=_order(axis_tokens[0] if axis_tokens else "", axis_where),
        root_position=_numbers(position, 3, position_where, ":root position"),
        root_orientation=_numbers(orientation, 3, orientation_where, ":root orientation"),
        length_scale=length_scale,
        degrees=angle == "deg",
    )


def _parse_amc(
    lines: list[str], name: str, dofs: dict[str, int]
) -> tuple[np.ndarray, dict[str, int], bool | None]:
    """(T, D) values, the first column of each bone (bones in ``dofs`` order), and the
    :DEGREES (True) / :RADIANS (False) flag (None if absent)."""
    columns, start = {}, 0
    for bone, n in dofs.items():
        columns[bone] = start
        start += n
    width = start
    degrees: bool | None = None
    tokens_flat: list[str] = []
    dest: list[int] = []
    token_lines: list[int] = []
    seen: set[str] = set()
    frame, frame_line, last_number = -1, 0, None

    def close_frame() -> None:
        missing = [b for b in dofs if b not in seen]
        if frame >= 0 and missing:
            raise MocapError(f"{name}:{frame_line}: frame {last_number} lacks bones {missing}")

    for k, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(":"):
            if frame >= 0:
                raise MocapError(f"{name}:{k + 1}: header line {line!r} after the first frame")
            degrees = {":degrees": True, ":radians": False}.get(line.lower(), degrees)
            continue
        toks = line.split()
        if len(toks) == 1 and toks[0].isdigit():
            close_frame()
            number = int(toks[0])
            if last_number is not None and number != last_number + 1:
                raise MocapError(f"{name}:{k + 1}: frame number {number} follows {last_number}")
            frame, frame_line, last_number, seen = frame + 1, k + 1, number, set()
            continue
        bone = toks[0]
        if frame < 0:
            raise MocapError(f"{name}:{k + 1}: bone line {bone!r} before the first frame number")
        if bone not in dofs:
            raise MocapError(
                f"{name}:{k + 1}: unknown bone {bone!r} (not a bone with dof in the ASF); "
                f"expected one of {list(dofs)}"
            )
        if bone in seen:
            raise MocapError(f"{name}:{k + 1}: bone {bone!r} given twice in frame {last_number}")
        seen.add(bone)
        if len(toks) - 1 != dofs[bone]:
            raise MocapError(
                f"{name}:{k + 1}: {bone!r} expects {dofs[bone]} numbers, got {len(toks) - 1}"
            )
        base = frame * width + columns[bone]
        tokens_flat.extend(toks[1:])
        dest.extend(range(base, base + dofs[bone]))
        token_lines.extend([k + 1] * dofs[bone])
    close_frame()
    if frame < 0:
        raise MocapError(f"{name}:{len(lines)}: no frames")
    try:
        flat = np.array(tokens_flat, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(flat))
    except ValueError:
        bad = [i for i, t in enumerate(tokens_flat) if not _is_float(t)]
    if len(bad):
        i = int(bad[0])
        raise MocapError(
            f"{name}:{token_lines[i]}: expected a finite number, got {tokens_flat[i]!r}"
        )
    values = np.empty((frame + 1) * width)
    values[np.asarray(dest, dtype=np.int64)] = flat
    return values.reshape(frame + 1, width), columns, degrees


def _is_float(token: str) -> bool:
    try:
        return bool(np.isfinite(float(token)))
    except ValueError:
        return False


def parse_asf_amc(
    asf_data: bytes,
    amc_data: bytes,
    *,
    asf_name: str = "<asf>",
    amc_name: str = "<amc>",
    source_fps: float = 120.0,
) -> SourceMotion:
    """Parse ASF + AMC contents (bytes) into a `SourceMotion` in ASF units."""
    asf = parse_asf(split_lines(asf_data), asf_name)
    dofs = {"root": 6} | {b.name: len(b.dof) for b in asf.bones.values() if b.dof}
    values, column, amc_degrees = _parse_amc(split_lines(amc_data), amc_name, dofs)
    degrees = asf.degrees if amc_degrees is None else amc_degrees
    axis_unit = np.pi / 180 if asf.degrees else 1.0

    # One row per joint: (name, parent, rest offset, axis rotation C, AMC columns, dof axes, end?)
    root_rot = [d for d in asf.root_order if d.startswith("r")]
    joints: list[tuple] = [
        (
            "root",
            -1,
            asf.root_position,
            euler_to_matrix(axis_unit * asf.root_orientation, asf.root_axis_order, intrinsic=False),
            [column["root"] + asf.root_order.index(d) for d in root_rot],
            "".join(d[1] for d in root_rot),
            False,
        )
    ]

    def add(bone_name: str, parent: int, offset: np.ndarray) -> None:
        if any(row[0] == bone_name for row in joints):
            raise MocapError(f"{asf_name}: bone {bone_name!r} appears twice in :hierarchy")
        bone = asf.bones[bone_name]
        me = len(joints)
        c = euler_to_matrix(axis_unit * bone.axis, bone.axis_order, intrinsic=False)
        cols = [column[bone_name] + i for i in range(len(bone.dof))] if bone.dof else []
        joints.append((bone_name, parent, offset, c, cols, "".join(d[1] for d in bone.dof), False))
        vec = bone.length * bone.direction / max(np.linalg.norm(bone.direction), 1e-12)
        for child in bone.children:  # children start at this bone's tip
            add(child, me, vec)
        if not bone.children:
            joints.append((f"{bone_name}_end", me, vec, np.eye(3), [], "", True))

    for child in asf.root_children:
        add(child, 0, np.zeros(3))
    unreached = sorted(set(asf.bones) - {row[0] for row in joints})
    if unreached:
        raise MocapError(f"{asf_name}: bones {unreached} are not reachable from root in :hierarchy")

    t = values.shape[0]
    rotations = np.broadcast_to(np.eye(3), (t, len(joints), 3, 3)).copy()
    for i, (_, _, _, c, cols, axes, _) in enumerate(joints):
        if cols:
            angles = np.deg2rad(values[:, cols]) if degrees else values[:, cols]
            rotations[:, i] = c @ euler_to_matrix(angles, axes, intrinsic=False) @ c.T
    root_t = values[:, [column["root"] + asf.root_order.index(a) for a in ("tx", "ty", "tz")]]
    return SourceMotion(
        names=[row[0] for row in joints],
        parents=[row[1] for row in joints],
        rest_offsets=np.array([row[2] for row in joints]),
        rotations=rotations,
        root_translation=root_t,
        fps=source_fps,
        units_to_m=INCH_M / asf.length_scale,
        end_sites=[row[6] for row in joints],
        source=f"{asf_name}+{amc_name}",
    )


def read_amc(
    asf_path: str | os.PathLike, amc_path: str | os.PathLike, *, source_fps: float = 120.0
) -> SourceMotion:
    """Parse an ASF skeleton and an AMC motion into a `SourceMotion` (AMC stores no frame rate;
    CMU recorded at 120 Hz)."""
    data = []
    for p in (Path(asf_path), Path(amc_path)):
        try:
            data.append(p.read_bytes())
        except OSError as e:
            raise MocapError(f"{p}: cannot read file ({e.strerror})") from e
    return parse_asf_amc(
        data[0],
        data[1],
        asf_name=Path(asf_path).name,
        amc_name=Path(amc_path).name,
        source_fps=source_fps,
    )


def load_amc(
    asf_path: str | os.PathLike,
    amc_path: str | os.PathLike,
    *,
    mapping: dict[str, str | None] | None = None,
    skeleton: Skeleton | None = None,
    fit_shape: bool = True,
    source_fps: float = 120.0,
    fps: float | None = None,
    units_to_m: float | None = None,
    ground: bool = True,
    return_result: bool = False,
    reference_frame: str = "auto",
    repair_spikes: bool = False,
    report: MocapReport | None = None,
) -> Motion | RetargetResult:
    """Read ASF + AMC files and retarget them onto navenv's SMPL-24 skeleton.

    Returns the `Motion`, or with ``return_result=True`` the whole `RetargetResult`.
    ``source_fps`` is the recording rate (not stored in AMC), ``fps`` resamples the result,
    ``units_to_m`` overrides the ASF's ``:units length``. See `navenv.mocap.retarget.retarget`.
    ``reference_frame``, ``repair_spikes`` and ``report`` work as in `load_bvh` (AMC takes rarely
    start with a reference frame, so 'auto' leaves them alone; spikes are as common).
    """
    result = clean_and_retarget(
        read_amc(asf_path, amc_path, source_fps=source_fps),
        reference_frame=reference_frame,
        repair_spikes=repair_spikes,
        report=report,
        mapping=mapping,
        units_to_m=units_to_m,
        skeleton=skeleton,
        fit_shape=fit_shape,
        ground=ground,
        fps=fps,
    )
    return result if return_result else result.motion

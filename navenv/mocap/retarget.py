"""Retarget a `SourceMotion` onto navenv's SMPL-24 skeleton.

Steps (all on metres, navenv's world frame: z up, the person faces -y at identity orientation):

1. Frame and units: the up axis is the signed source axis closest to head-minus-ankles in the
   rest pose; the left-right axis is left hip minus right hip (made horizontal), so the rest pose
   faces -y with its left at +x. Units come from the file (ASF) or from the rest leg length
   (BVH; see `detect_units_to_m`).
2. Targets: each mapped SMPL joint's target is its source joint's position. A mapped joint whose
   source joint sits (< 1 cm) on the source joint of its nearest mapped SMPL ancestor (e.g. CMU's
   clavicles start on the spine midline, SMPL's collars do not) drives rotation only.
3. Shape (builtin skeleton, ``fit_shape``): betas by Gauss-Newton on the linear shape basis (each
   step a linear least-squares solve with a small ridge) so that SMPL distances between targeted
   joints and their targeted ancestors match the source's mean distances; clipped to [-3, 3].
4. Rotation transfer: SMPL global rotation = source global rotation @ a rest alignment that
   turns SMPL's rest directions to the next targeted joints onto the source's (Kabsch; the
   minimal rotation when there is one direction); unmapped joints keep their parent's.
5. Position fit: Adam on per-frame 6D rotations and root translation, all frames at once,
   minimising joint-position error plus a small pull toward step 4 (fixes twists and leaf
   joints positions cannot see) and a small temporal-acceleration penalty.
6. Grounding (``ground``): shift z so the lowest sole point of the clip (ankle or ball-of-foot
   joint minus its rest height above the sole) is on z = 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from navenv.body.joints import NUM_BETAS, NUM_JOINTS, SMPL_JOINT_NAMES, SMPL_PARENTS
from navenv.body.kinematics import forward_kinematics, global_transforms
from navenv.body.motion import Motion
from navenv.body.rotations import matrix_to_rot6d, rot6d_to_matrix
from navenv.body.skeleton import Skeleton
from navenv.mocap.mapping import resolve_mapping
from navenv.mocap.source import MocapError, SourceMotion

if TYPE_CHECKING:  # cleanup imports this module (for units); the report is only annotated here
    from navenv.mocap.cleanup import MocapReport

_J = {n: i for i, n in enumerate(SMPL_JOINT_NAMES)}
_COINCIDENT_M = 0.01
# Plausible metres-per-unit of mocap files: m, cm, mm, inch, CMU (inch / 0.45), foot, dm.
KNOWN_UNITS_TO_M: tuple[float, ...] = (1.0, 0.01, 0.001, 0.0254, 0.0254 / 0.45, 0.3048, 0.1)
_LEG_M = (0.55, 1.2)  # hip-to-ankle length of adults, metres (typical 0.8)


@dataclass
class RetargetConfig:
    """Settings of the position fit (step 5)."""

    iterations: int = 150
    """Adam steps over all frames at once."""
    learning_rate: float = 0.02
    """Adam step size (6D rotation entries and metres)."""
    prior_weight: float = 1e-3
    """Weight of the squared 6D distance to the transferred rotations."""
    smooth_weight: float = 0.1
    """Weight of the squared second difference of 6D rotations and translation over frames."""

    def __post_init__(self) -> None:
        if not (isinstance(self.iterations, int) and self.iterations >= 0):
            raise ValueError(
                f"RetargetConfig.iterations: expected an int >= 0, got {self.iterations!r}"
            )
        for name in ("learning_rate", "prior_weight", "smooth_weight"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"RetargetConfig.{name}: expected a finite number >= 0, got {v!r}")


@dataclass(eq=False)
class RetargetResult:
    """A retargeted clip and how well it fits.

    motion: the SMPL motion (at the requested fps). skeleton: the skeleton it is meant for (its
    betas equal motion.betas for builtin skeletons). residual_mm_mean: mean distance (mm) between
    SMPL joints and their source targets over targeted joints and frames (at the source rate).
    residual_mm_per_joint: (24,) the same per SMPL joint, NaN for joints without a target.
    source_joints: (T, 24, 3) the targets in metres, same frame and grounding as the motion,
    NaN rows for joints without a target. mapping: {smpl: source joint} used; dialect: its name
    or 'custom'. units_to_m: metres per source unit. ground_shift_m: z added by grounding.
    cleanup: what `load_bvh` / `load_amc` did to the source before retargeting (a dropped
    reference frame, detected and repaired spikes); None from `retarget` itself.
    """

    motion: Motion
    skeleton: Skeleton
    residual_mm_mean: float
    residual_mm_per_joint: np.ndarray
    source_joints: np.ndarray
    mapping: dict[str, str]
    dialect: str
    units_to_m: float
    ground_shift_m: float
    cleanup: MocapReport | None = None


def detect_units_to_m(leg_length_units: float, *, where: str = "<source>") -> float:
    """Metres per unit: the known unit whose leg (hip to ankle) is most adult-like (0.55-1.2 m)."""
    fits = [u for u in KNOWN_UNITS_TO_M if _LEG_M[0] <= leg_length_units * u <= _LEG_M[1]]
    if not fits:
        raise MocapError(
            f"{where}: cannot infer units: leg (hip to ankle) is {leg_length_units:.4g} units, "
            f"no unit of {KNOWN_UNITS_TO_M} gives {_LEG_M[0]}-{_LEG_M[1]} m; pass units_to_m"
        )
    return min(fits, key=lambda u: abs(np.log(leg_length_units * u / 0.8)))


def _navenv_frame(rest: np.ndarray, idx: dict[str, int], where: str) -> np.ndarray:
    """(3, 3) rotation taking source vectors into navenv's frame (rows: left, back, up)."""
    feet = 0.5 * (rest[idx["left_ankle"]] + rest[idx["right_ankle"]])
    up_vec = rest[idx["head"]] - feet
    k = int(np.argmax(np.abs(up_vec)))
    up = np.zeros(3)
    up[k] = np.sign(up_vec[k])
    left = rest[idx["left_hip"]] - rest[idx["right_hip"]]
    left = left - (left @ up) * up
    if np.linalg.norm(left) < 1e-9 * max(np.linalg.norm(up_vec), 1e-12):
        raise MocapError(
            f"{where}: left and right hips coincide in the rest pose; cannot tell facing"
        )
    left /= np.linalg.norm(left)
    return np.stack([left, np.cross(up, left), up])


def _align(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rotation R with R @ u_i ~ w_i for direction pairs (n, 3); minimal rotation if n == 1."""
    if len(u) == 0:
        return np.eye(3)
    u = u / np.linalg.norm(u, axis=1, keepdims=True)
    w = w / np.linalg.norm(w, axis=1, keepdims=True)
    if len(u) >= 2 and np.linalg.matrix_rank(u, tol=0.05) >= 2:
        h = w.T @ u
        a, _, bt = np.linalg.svd(h)
        d = np.sign(np.linalg.det(a @ bt))
        return a @ np.diag([1.0, 1.0, d]) @ bt
    a, b = u.mean(0), w.mean(0)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    if c < -1 + 1e-9:  # opposite: turn by pi about any axis normal to a
        n = np.cross(a, np.eye(3)[np.argmin(np.abs(a))])
        n /= np.linalg.norm(n)
        return 2 * np.outer(n, n) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def _targeted_ancestor(j: int, targeted: np.ndarray) -> int:
    p = SMPL_PARENTS[j]
    while p >= 0 and not targeted[p]:
        p = SMPL_PARENTS[p]
    return p


def _targeted_descendants(j: int, targeted: np.ndarray) -> list[int]:
    out = []
    for c in range(NUM_JOINTS):
        if SMPL_PARENTS[c] == j:
            out.extend([c] if targeted[c] else _targeted_descendants(c, targeted))
    return out


def fit_betas(
    target_lengths: np.ndarray, pairs: list[tuple[int, int]], ridge: float = 1e-4
) -> np.ndarray:
    """(10,) builtin betas so |rest[j] - rest[a]| matches the (n,) target lengths of (j, a) pairs.

    Gauss-Newton on relative length errors; rest joints are linear in betas, so each step is a
    linear least-squares solve. Clipped to [-3, 3].
    """
    base = Skeleton.builtin().rest_joints
    basis = np.stack(
        [Skeleton.builtin(np.eye(NUM_BETAS)[k]).rest_joints - base for k in range(NUM_BETAS)]
    )
    j_idx, a_idx = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    target = np.asarray(target_lengths, dtype=np.float64)
    if target.shape != (len(pairs),) or not (np.isfinite(target).all() and (target > 0).all()):
        raise ValueError(
            f"fit_betas: expected {len(pairs)} positive finite lengths (one per pair), got {target}"
        )
    betas = np.zeros(NUM_BETAS)
    for _ in range(4):
        rest = base + np.tensordot(betas, basis, axes=1)
        v = rest[j_idx] - rest[a_idx]  # (n, 3)
        length = np.linalg.norm(v, axis=1)
        dv = basis[:, j_idx] - basis[:, a_idx]  # (10, n, 3)
        jac = np.einsum("na,kna->nk", v / length[:, None], dv) / target[:, None]
        res = (length - target) / target
        lhs = jac.T @ jac + ridge * np.eye(NUM_BETAS)
        betas = np.clip(betas + np.linalg.solve(lhs, -(jac.T @ res) - ridge * betas), -3.0, 3.0)
    return betas


def _position_fit(
    skeleton: Skeleton,
    rotations: np.ndarray,
    transl: np.ndarray,
    targets: np.ndarray,
    targeted: np.ndarray,
    config: RetargetConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Refined (T, 24, 3, 3) local rotations and (T, 3) translation (see the module docstring)."""
    dt = torch.float32  # mm-level accuracy is plenty; float64 is ~2x slower
    r6_init = torch.tensor(matrix_to_rot6d(rotations), dtype=dt)  # (T, 24, 6)
    r6 = r6_init.clone().requires_grad_(True)
    tr = torch.tensor(transl, dtype=dt).requires_grad_(True)
    offsets = torch.tensor(skeleton.offsets, dtype=dt)
    idx = torch.tensor(np.flatnonzero(targeted))
    goal = torch.tensor(targets[:, np.flatnonzero(targeted)], dtype=dt)  # (T, n, 3)
    params = [r6, tr]
    # Adam by hand: importing torch.optim pulls in torch._dynamo (~2 s), longer than the fit.
    m1 = [torch.zeros_like(p) for p in params]
    m2 = [torch.zeros_like(p) for p in params]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, config.iterations + 1):
        _, pos = global_transforms(offsets, tr, rot6d_to_matrix(r6))
        loss = ((pos[:, idx] - goal) ** 2).sum(-1).mean()
        loss = loss + config.prior_weight * ((r6 - r6_init) ** 2).sum(-1).mean()
        if r6.shape[0] > 2:
            acc = r6[2:] - 2 * r6[1:-1] + r6[:-2]
            acc_t = tr[2:] - 2 * tr[1:-1] + tr[:-2]
            loss = loss + config.smooth_weight * (
                (acc**2).sum(-1).mean() + (acc_t**2).sum(-1).mean()
            )
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g, a, b in zip(params, grads, m1, m2):
                a.mul_(beta1).add_(g, alpha=1 - beta1)
                b.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                step_size = config.learning_rate / (1 - beta1**step)
                p.addcdiv_(a, (b / (1 - beta2**step)).sqrt_().add_(1e-8), value=-step_size)
    with torch.no_grad():
        return rot6d_to_matrix(r6.double()).numpy(), tr.double().numpy()


def source_units_to_m(
    source: SourceMotion, names: dict[str, str], units_to_m: float | None = None
) -> float:
    """Metres per source unit: ``units_to_m`` if given, else the file's, else from leg length.

    ``names`` is a resolved {smpl joint: source joint} mapping (`resolve_mapping`); the cleanup
    step (`navenv.mocap.cleanup`) calls this before retargeting to measure speeds in m/s.
    """
    where = source.source
    if units_to_m is None:
        idx = {smpl: source.index(n) for smpl, n in names.items()}
        rest = source.rest_positions()
        leg = np.mean(
            [
                np.linalg.norm(rest[idx[f"{s}_hip"]] - rest[idx[f"{s}_knee"]])
                + np.linalg.norm(rest[idx[f"{s}_knee"]] - rest[idx[f"{s}_ankle"]])
                for s in ("left", "right")
            ]
        )
        units_to_m = source.units_to_m or detect_units_to_m(leg, where=where)
    if not (np.isfinite(units_to_m) and units_to_m > 0):
        raise MocapError(f"{where}: units_to_m must be a positive number, got {units_to_m!r}")
    return float(units_to_m)


def _to_navenv(source: SourceMotion, names: dict[str, str], units_to_m: float | None):
    """The source in metres and navenv's frame, its joint index per mapped SMPL joint, units."""
    idx = {smpl: source.index(n) for smpl, n in names.items()}
    units_to_m = source_units_to_m(source, names, units_to_m)
    frame = _navenv_frame(source.rest_positions(), idx, source.source)
    return source.transformed(frame, units_to_m), idx, units_to_m


def _targeted(rest: np.ndarray, s_of: np.ndarray) -> np.ndarray:
    """(24,) which mapped SMPL joints get a position target (step 2 of the module docstring)."""
    targeted = s_of >= 0
    for j in range(1, NUM_JOINTS):  # parents first, so ancestors' flags are final
        a = _targeted_ancestor(j, targeted)
        if targeted[j] and a >= 0 and np.linalg.norm(rest[s_of[j]] - rest[s_of[a]]) < _COINCIDENT_M:
            targeted[j] = False
    return targeted


def _transfer_rotations(g_src, rest, s_of, targeted, smpl_rest) -> np.ndarray:
    """(T, 24, 3, 3) SMPL local rotations from source global ones (step 4)."""
    glob = np.empty((g_src.shape[0], NUM_JOINTS, 3, 3))
    for j in range(NUM_JOINTS):
        if s_of[j] < 0:  # unmapped: no rotation of its own until the position fit
            glob[:, j] = glob[:, SMPL_PARENTS[j]]
            continue
        if j == 0:  # both rest poses stand upright facing -y (step 1): no alignment needed
            glob[:, 0] = g_src[:, s_of[0]]
            continue
        kids = _targeted_descendants(j, targeted)
        u = np.array([smpl_rest[c] - smpl_rest[j] for c in kids]).reshape(-1, 3)
        w = np.array([rest[s_of[c]] - rest[s_of[j]] for c in kids]).reshape(-1, 3)
        keep = (np.linalg.norm(u, axis=1) > _COINCIDENT_M) & (
            np.linalg.norm(w, axis=1) > _COINCIDENT_M
        )
        glob[:, j] = g_src[:, s_of[j]] @ _align(u[keep], w[keep])
    local = glob.copy()
    for j in range(1, NUM_JOINTS):
        local[:, j] = np.swapaxes(glob[:, SMPL_PARENTS[j]], -1, -2) @ glob[:, j]
    return local


def _ground_shift(skeleton: Skeleton, joints: np.ndarray) -> float:
    """z to add so the clip's lowest sole point (ankles and balls of the feet) is on z = 0."""
    sole = skeleton.rest_joints[:, 2] - skeleton.sole_height  # rest height above the sole
    feet = [_J[n] for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    return -float((joints[:, feet, 2] - sole[feet]).min())


def _resample_points(points: np.ndarray, fps_in: float, fps_out: float, n_out: int) -> np.ndarray:
    """(n_out, ...) linear interpolation in time of (T, ...) points (NaN stays NaN)."""
    t_in, t_out = np.arange(len(points)) / fps_in, np.arange(n_out) / fps_out
    flat = points.reshape(len(points), -1)
    out = np.stack([np.interp(t_out, t_in, c) for c in flat.T], axis=-1)
    return out.reshape(n_out, *points.shape[1:])


def retarget(
    source: SourceMotion,
    *,
    mapping: dict[str, str | None] | None = None,
    skeleton: Skeleton | None = None,
    fit_shape: bool = True,
    units_to_m: float | None = None,
    ground: bool = True,
    fps: float | None = None,
    config: RetargetConfig | None = None,
) -> RetargetResult:
    """Retarget a source clip onto SMPL-24 (see the module docstring for the steps).

    mapping: {smpl joint: source joint or None}; None detects a known dialect. skeleton: the
    target skeleton, used as is (``fit_shape`` is then ignored); when None, ``Skeleton.builtin``
    with betas fitted to the source (``fit_shape``) or zero betas. units_to_m overrides the
    file's or detected units. ground puts the lowest sole point of the clip on z = 0 (False keeps
    the source's own floor). fps resamples the returned motion and source_joints (None keeps the
    source rate; residuals are always measured at the source rate).
    """
    config = config or RetargetConfig()
    if skeleton is not None and not isinstance(skeleton, Skeleton):
        raise MocapError(
            f"skeleton: expected a navenv Skeleton or None, got {type(skeleton).__name__}"
        )
    names, dialect = resolve_mapping(source.names, mapping, where=source.source)
    src, idx, units_to_m = _to_navenv(source, names, units_to_m)
    g_src, p_src = src.global_transforms()  # (T, J, 3, 3), (T, J, 3) metres
    rest = src.rest_positions()
    s_of = np.array([idx.get(n, -1) for n in SMPL_JOINT_NAMES])
    targeted = _targeted(rest, s_of)
    targets = np.full((src.num_frames, NUM_JOINTS, 3), np.nan)
    targets[:, targeted] = p_src[:, s_of[targeted]]

    if skeleton is None:
        betas = np.zeros(NUM_BETAS)
        if fit_shape:
            pairs = [
                (j, _targeted_ancestor(j, targeted)) for j in range(1, NUM_JOINTS) if targeted[j]
            ]
            lengths = [
                np.linalg.norm(targets[:, j] - targets[:, a], axis=-1).mean() for j, a in pairs
            ]
            betas = fit_betas(np.array(lengths), pairs)
        skeleton = Skeleton.builtin(betas)
    local = _transfer_rotations(g_src, rest, s_of, targeted, skeleton.rest_joints)
    transl = targets[:, 0] - skeleton.offsets[0]
    # The tensors are small: extra intra-op threads only add contention (measured 0.8 s with one
    # thread vs up to 6 s with two on a busy 2-core machine), so fit single-threaded.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local, transl = _position_fit(skeleton, local, transl, targets, targeted, config)
    finally:
        torch.set_num_threads(threads)

    motion = Motion(source.fps, transl, local[:, 0], local[:, 1:], skeleton.betas)
    joints = forward_kinematics(skeleton, motion)
    shift = _ground_shift(skeleton, joints) if ground else 0.0
    motion.transl[:, 2] += shift
    joints[..., 2] += shift
    targets[..., 2] += shift
    err_mm = 1000.0 * np.linalg.norm(joints - targets, axis=-1)  # (T, 24), NaN without target
    per_joint = np.full(NUM_JOINTS, np.nan)
    per_joint[targeted] = err_mm[:, targeted].mean(0)
    if fps is not None:
        motion = motion.resample(fps)
        targets = _resample_points(targets, source.fps, fps, len(motion))
    return RetargetResult(
        motion=motion,
        skeleton=skeleton,
        residual_mm_mean=float(err_mm[:, targeted].mean()),
        residual_mm_per_joint=per_joint,
        source_joints=targets,
        mapping=names,
        dialect=dialect,
        units_to_m=units_to_m,
        ground_shift_m=shift,
    )

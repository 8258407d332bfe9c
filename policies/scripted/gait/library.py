"""`MotionLibrary`: walk cycles and an idle pose cut from real motion capture, and its asset.

``MotionLibrary.from_files(paths)`` loads BVH files and (asf, amc) pairs with
`navenv.mocap.load_bvh` / `load_amc` (retargeted onto navenv's SMPL-24 skeleton), resamples
them to the library fps and cuts them (`extract`). ``MotionLibrary.default()`` reads the shipped
asset ``assets/cmu_walk.npz``, built from the CMU clips in tests/data/mocap by
``python -m policies.scripted.gait.library --build [--source DIR] [--out FILE]``. Each cycle
found is kept with its mirror image (left and right swapped), so either foot can lead.

What the CMU clips give: 02_01 ("walk") one steady cycle (its first opens with cross-over
steps); 131_01 ("Start Walk Stop", Michael-Jackson-styled) no walk cycle (crouched, knee-high
steps) but the idle pose, from its opening stand. Both are retargeted by navenv.mocap.

The asset is a plain .npz (no pickles) written deterministically: arrays in a fixed order,
zip entries with a fixed timestamp, so the same clips give the same bytes. Rotations are stored
as float32 quaternions (w, x, y, z), read back as exact rotation matrices.
"""

from __future__ import annotations

import argparse
import functools
import io
import itertools
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from navenv.body.motion import Motion
from navenv.body.rotations import matrix_to_quat, quat_to_matrix
from navenv.body.skeleton import Skeleton
from navenv.mocap import load_amc, load_bvh
from policies.scripted.gait.cycle import GaitCycle, IdlePose
from policies.scripted.gait.extract import clip_cycles, clip_idle

LIBRARY_FPS = 30.0
ASSET_VERSION = 1
ASSET_DIR = Path(__file__).resolve().parent / "assets"
DEFAULT_ASSET = ASSET_DIR / "cmu_walk.npz"
DEFAULT_SOURCE_DIR = Path(__file__).resolve().parents[3] / "tests" / "data" / "mocap"
DEFAULT_CLIPS: tuple[str | tuple[str, str], ...] = ("131_01.bvh", ("02.asf", "02_01.amc"))
NEAR_BEST_SPEED_LOG = 0.15  # cycles this close (|log speed ratio|) to the best are equally good
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed entry timestamps: deterministic bytes

ATTRIBUTION = """# Gait library asset: attribution

`cmu_walk.npz` holds walk cycles and an idle pose cut from two clips of the CMU Graphics Lab
Motion Capture Database (http://mocap.cs.cmu.edu/), retargeted onto navenv's SMPL-24 skeleton:

- subject 02, trial 01 "walk" (`02.asf` + `02_01.amc`);
- subject 131, trial 01 "Start Walk Stop" (`131_01.bvh`, the cgspeed.com BVH conversion by
  Bruce Hahne, who places no additional restrictions on its use).

The sources and their notes are in `tests/data/mocap/` (see its ATTRIBUTION.md). Rebuild with
`python -m policies.scripted.gait.library --build`.

## Licence

The CMU database is free for research and commercial use; acknowledge:

> "The data used in this project was obtained from mocap.cs.cmu.edu. The database was created
> with funding from NSF EIA-0196217."
"""

ClipSpec = str | os.PathLike | tuple[str | os.PathLike, str | os.PathLike]


@dataclass(frozen=True, eq=False)
class MotionLibrary:
    """Walk cycles (canonical, periodic) and an idle pose, all at ``fps`` frames per second."""

    fps: float
    cycles: tuple[GaitCycle, ...]
    idle: IdlePose
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.cycles:
            raise ValueError(f"MotionLibrary: no walk cycles found in {list(self.sources)}")

    # ------------------------------------------------------------------ building
    @classmethod
    def from_motions(
        cls, clips: Sequence[tuple[str, Motion]], fps: float = LIBRARY_FPS
    ) -> MotionLibrary:
        """Library from named retargeted clips: (name, Motion) pairs on builtin skeletons."""
        cycles: list[GaitCycle] = []
        idles: list[tuple[float, IdlePose]] = []
        for name, motion in clips:
            skeleton = Skeleton.builtin(motion.betas)
            found_cycles = clip_cycles(motion, skeleton, name, fps)
            # mirrors double the library and let either foot lead the same recorded gait
            cycles += found_cycles + [c.mirrored() for c in found_cycles]
            found = clip_idle(motion, skeleton, name, fps)
            if found is not None:
                idles.append(found)
        names = tuple(name for name, _ in clips)
        if not idles:
            raise ValueError(f"MotionLibrary: no quiet standing frames in {list(names)}")
        idle = min(idles, key=lambda si: si[0])[1]
        return cls(fps=float(fps), cycles=tuple(cycles), idle=idle, sources=names)

    @classmethod
    def from_files(cls, paths: Sequence[ClipSpec], fps: float = LIBRARY_FPS) -> MotionLibrary:
        """Library from BVH paths and (asf, amc) path pairs."""
        clips = []
        for p in paths:
            if isinstance(p, tuple | list):
                asf, amc = (Path(q) for q in p)
                clips.append((amc.stem, load_amc(asf, amc)))
            else:
                clips.append((Path(p).stem, load_bvh(p)))
        return cls.from_motions(clips, fps)

    @classmethod
    def default(cls) -> MotionLibrary:
        """The shipped CMU walk library (loaded once, then cached)."""
        return _load_cached(str(DEFAULT_ASSET))

    # ------------------------------------------------------------------ choosing
    def cycle_for_speed(
        self, speed_m_s: float, leg_length_m: float, rng: np.random.Generator | None = None
    ) -> GaitCycle:
        """The cycle recorded nearest a speed (for a body of a given leg length).

        Speeds compare after scaling each cycle to the body (speed scales with leg length).
        With ``rng``, one of the cycles within `NEAR_BEST_SPEED_LOG` of the best, at random.
        """
        natural = np.array([c.speed_m_s * leg_length_m / c.leg_length_m for c in self.cycles])
        score = np.abs(np.log(speed_m_s / natural))
        if rng is None:
            return self.cycles[int(np.argmin(score))]
        near = np.flatnonzero(score <= score.min() + NEAR_BEST_SPEED_LOG)
        return self.cycles[int(rng.choice(near))]

    # ------------------------------------------------------------------ files
    def arrays(self) -> dict[str, np.ndarray]:
        """The library as named arrays (what `save` writes)."""
        c = self.cycles
        rots = np.concatenate(
            [np.concatenate([x.global_orient[:, None], x.body_pose], 1) for x in c]
        )
        return {
            "version": np.int64(ASSET_VERSION),
            "fps": np.float64(self.fps),
            "sources": np.array(self.sources, dtype=str),
            "cycle_names": np.array([x.name for x in c], dtype=str),
            "cycle_frames": np.array([x.num_frames for x in c], dtype=np.int64),
            "cycle_stride_m": np.array([x.stride_m for x in c]),
            "cycle_duration_s": np.array([x.duration_s for x in c]),
            "cycle_leg_length_m": np.array([x.leg_length_m for x in c]),
            "cycle_events": np.stack([x.events for x in c]),
            "cycle_transl": np.concatenate([x.transl for x in c]).astype(np.float32),
            "cycle_quat": matrix_to_quat(rots).astype(np.float32),
            "cycle_contacts": np.concatenate([x.contacts for x in c]),
            "idle_name": np.array(self.idle.name, dtype=str),
            "idle_quat": matrix_to_quat(self.idle.rotations).astype(np.float32),
            "idle_height_m": np.float64(self.idle.height_m),
            "idle_leg_length_m": np.float64(self.idle.leg_length_m),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the library as a deterministic .npz, atomically; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
                for key, value in self.arrays().items():
                    buf = io.BytesIO()
                    np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
                    info = zipfile.ZipInfo(key + ".npy", date_time=_ZIP_TIME)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, buf.getvalue())
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the asset is shipped
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> MotionLibrary:
        """Read a library written by `save` (pickles refused)."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                a = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path}: not a readable gait library .npz ({e})") from e
        if int(a.get("version", -1)) != ASSET_VERSION:
            raise ValueError(
                f"{path}: version {a.get('version')}, this navenv reads {ASSET_VERSION}"
            )
        rots = quat_to_matrix(a["cycle_quat"].astype(np.float64))  # (M, 24, 3, 3)
        transl = a["cycle_transl"].astype(np.float64)
        bounds = np.r_[0, np.cumsum(a["cycle_frames"])]
        cycles = tuple(
            GaitCycle(
                name=str(a["cycle_names"][k]),
                transl=transl[i:j],
                global_orient=rots[i:j, 0],
                body_pose=rots[i:j, 1:],
                events=a["cycle_events"][k],
                stride_m=float(a["cycle_stride_m"][k]),
                duration_s=float(a["cycle_duration_s"][k]),
                leg_length_m=float(a["cycle_leg_length_m"][k]),
            )
            for k, (i, j) in enumerate(itertools.pairwise(bounds))
        )
        idle_rots = quat_to_matrix(a["idle_quat"].astype(np.float64))
        idle = IdlePose(
            name=str(a["idle_name"]),
            global_orient=idle_rots[0],
            body_pose=idle_rots[1:],
            height_m=float(a["idle_height_m"]),
            leg_length_m=float(a["idle_leg_length_m"]),
        )
        return cls(
            fps=float(a["fps"]), cycles=cycles, idle=idle, sources=tuple(a["sources"].tolist())
        )


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> MotionLibrary:
    return MotionLibrary.load(path)


def build_default_library(
    source_dir: str | os.PathLike = DEFAULT_SOURCE_DIR, out: str | os.PathLike = DEFAULT_ASSET
) -> MotionLibrary:
    """Build the CMU walk library from `DEFAULT_CLIPS` in source_dir; write it and its attribution."""
    src = Path(source_dir)
    paths = [tuple(src / q for q in p) if isinstance(p, tuple) else src / p for p in DEFAULT_CLIPS]
    missing = [
        str(q) for p in paths for q in (p if isinstance(p, tuple) else (p,)) if not q.exists()
    ]
    if missing:
        raise FileNotFoundError(f"source_dir: missing mocap files {missing}")
    library = MotionLibrary.from_files(paths)
    out = library.save(out)
    (out.parent / "ATTRIBUTION.md").write_text(ATTRIBUTION)
    return library


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``--build`` the asset from ``--source`` into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="build the asset from mocap files")
    parser.add_argument("--source", default=str(DEFAULT_SOURCE_DIR), help="directory of the clips")
    parser.add_argument("--out", default=str(DEFAULT_ASSET), help="asset .npz to write")
    args = parser.parse_args(argv)
    if not args.build:
        parser.error("nothing to do: pass --build")
    lib = build_default_library(args.source, args.out)
    print(f"{args.out}: {len(lib.cycles)} cycles, idle {lib.idle.name}")
    for c in lib.cycles:
        print(f"  {c.name}: stride {c.stride_m:.3f} m, {c.duration_s:.3f} s, {c.speed_m_s:.2f} m/s")


if __name__ == "__main__":
    main()

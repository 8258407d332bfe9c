"""`navenv data generate --env room`: scripted agents in RoomNav-v0, stored as behaviour data.

Episode k of a dataset is seed ``config.seed + k`` of the split: RoomNav-v0 draws the room, the
spawn and the observer behaviour; the `RoomAgent` draws its profile, then chains goals it likes
(walk, turn, dwell, pick the next) for ``episode_seconds``, reacting to the observer. Everything
is recorded at the dataset rate (10 fps, as ATS): root path, body Motion (SMPL 6D rotations),
feet contacts, the current goal, the observer's trajectory, the ego-centric occupancy crops and,
with ``videos``, the ego and observer camera videos. `RoomWindows` cuts the 8 past + 56 future
frame windows ATS trains on.

Shards, manifest, checksums and resuming are the climbing dataset's (`policies.data.store`):
a killed run leaves complete shards; rerunning the command regenerates only what is missing.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from policies.data.store import (
    DatasetError,
    FieldSpec,
    ShardReader,
    encode_shard,
    load_manifest,
    resume_config,
    write_manifest,
    write_shard,
)

PAST_FRAMES, FUTURE_FRAMES = 8, 56  # ATS: 0.8 s of past, 5.6 s of future at 10 fps
MAX_GOALS = 32  # goal table rows per episode (an agent dwells at most this many times)
CROP_UNIT_M = 0.01  # occupancy heights stored as uint8 centimetres (0 - 2.55 m)


@dataclass
class RoomDataConfig:
    """What a room behaviour dataset contains; saved in the manifest and checked on resume."""

    split: str = "rooms_train"
    """Room split (scenes.splits) the episodes are drawn from."""
    episodes: int = 16
    """Episodes in the dataset."""
    shard_size: int = 8
    """Episodes per shard file."""
    episode_seconds: float = 60.0
    """Length of each episode (s)."""
    fps: float = 10.0
    """Rate of the stored frames (the env runs at its policy rate, 30 Hz)."""
    videos: bool = False
    """Store the ego and observer camera videos."""
    observer_in_way: float = 0.0
    """Share of episodes whose observer stands on the agent's way to its first goal: otherwise
    observers mostly follow, circle or pass, and an agent that has to step around one (the
    interaction ATS's observer condition is for) is rare."""
    width: int = 32
    """Video width (pixels)."""
    height: int = 32
    """Video height (pixels)."""
    crop_cells: int = 64
    """Cells along each side of the stored occupancy crop (0.1 m each)."""
    seed: int = 0
    """Episode k is seed + k."""
    compresslevel: int = 6
    """Deflate level of shard members."""

    def __post_init__(self) -> None:
        from scenes import splits

        rooms = [n for n in splits.names() if n.startswith("rooms")]
        if self.split not in rooms:
            raise ValueError(f"split={self.split!r}: expected a room split, one of {rooms}")
        for name in ("episodes", "shard_size", "width", "height", "crop_cells"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"RoomDataConfig.{name}={v!r}: expected an int >= 1")
        if not self.episode_seconds * self.fps >= PAST_FRAMES + FUTURE_FRAMES:
            raise ValueError(
                f"episode_seconds={self.episode_seconds} at fps={self.fps} gives fewer than "
                f"{PAST_FRAMES + FUTURE_FRAMES} frames: one window needs that many"
            )
        if not 0.0 <= self.observer_in_way <= 1.0:
            raise ValueError(
                f"RoomDataConfig.observer_in_way={self.observer_in_way!r}: expected in [0, 1]"
            )
        if not 1.0 <= self.fps <= 30.0 or 480.0 % self.fps:
            raise ValueError(f"fps={self.fps}: expected a divisor of the 480 Hz physics in [1, 30]")

    @property
    def frames(self) -> int:
        """Stored frames per episode."""
        return round(self.episode_seconds * self.fps)

    @property
    def num_shards(self) -> int:
        """Shard files in the full dataset."""
        return math.ceil(self.episodes / self.shard_size)

    def to_json(self) -> dict:
        """JSON form (the manifest's config)."""
        return {"env": "room", **asdict(self)}

    @classmethod
    def from_json(cls, obj: dict) -> RoomDataConfig:
        """Inverse of to_json (unknown keys are a TypeError)."""
        return cls(**{k: v for k, v in obj.items() if k != "env"})

    def fields(self) -> dict[str, FieldSpec]:
        """Shape and dtype of every stored array."""
        t, c = self.frames, self.crop_cells
        out = {
            "root_xy": FieldSpec((t, 2), "<f4", True),
            "root_yaw": FieldSpec((t,), "<f4", True),
            "transl": FieldSpec((t, 3), "<f4", True),
            "rot6d": FieldSpec((t, 24, 6), "<f4", True),
            "betas": FieldSpec((10,), "<f4"),
            "contacts": FieldSpec((t, 2), "|b1", True),
            "goal_index": FieldSpec((t,), "<i2", True),
            "goals": FieldSpec((MAX_GOALS, 4), "<f4"),
            "observer": FieldSpec((t, 3), "<f4", True),
            "observer_mode": FieldSpec((), "<U12"),
            "occupancy_cm": FieldSpec((t, c, c), "|u1", True),
            "scene": FieldSpec((), "<U64"),
            "split": FieldSpec((), "<U32"),
            "profile": FieldSpec((4,), "<f4"),
        }
        if self.videos:
            out["ego_rgb"] = FieldSpec((t, self.height, self.width, 3), "|u1", True)
            out["observer_rgb"] = FieldSpec((t, self.height, self.width, 3), "|u1", True)
        return out


class _Recorder:
    """Runs the env and the agent for one episode and keeps every stored frame."""

    def __init__(self, config: RoomDataConfig) -> None:
        from navenv.envs.room import RoomConfig, RoomNavEnv
        from policies.scripted.room import RoomAgent

        self.cfg = config
        self.env = RoomNavEnv(
            obs="state",
            scene_split=config.split,
            width=config.width,
            height=config.height,
            # The env runs at the dataset rate: ATS's 10 fps is all that is stored, and planning
            # and converting the gait at 30 fps would triple the cost for frames thrown away.
            config=RoomConfig(
                crop_cells=config.crop_cells, policy_hz=config.fps, history_hz=config.fps
            ),
        )
        self.agent = RoomAgent()
        self._ego = None

    def episode(self, seed: int) -> dict[str, np.ndarray]:
        """The stored arrays of episode `seed`."""
        from navenv.body.rotations import matrix_to_rot6d
        from navenv.humanoid.pose import motion_from_qpos

        cfg, env, agent = self.cfg, self.env, self.agent
        obs, info = env.reset(seed=seed)
        agent.reset(seed=seed, info=info)
        uw = env
        goals = [(g.index, g.region.label) for g in uw.world.goals]
        first = agent.choose_goal(goals)
        if in_way_drawn(seed, cfg.observer_in_way):
            approach = uw.set_goal(first)["goal_approach"]
            at = point_on_way(uw.world.nav, info["agent_xy"], approach)
            if at is not None:  # the seed draws the same room and spawn; the agent starts again
                opts = {"goal": first, "observer": "stand", "observer_at": at}
                obs, info = env.reset(seed=seed, options=opts)
                agent.reset(seed=seed, info=info)
                first = agent.choose_goal(goals)  # its stream restarted: the same goal again
        table: list[tuple] = []

        def send(index: int) -> None:
            ginfo = uw.set_goal(index)
            xy, yaw = uw._agent_pose()
            ob = uw.observer.xy
            agent.retarget(ginfo, xy, yaw, observer_xy=ob)
            r = ginfo["goal_region"]
            table.append((r.center[0], r.center[1], r.center[2], _label_id(r.label)))

        send(first)
        stride = round(1.0 / (uw.dt * cfg.fps))
        n = cfg.frames
        qpos, xy, yaw = [], np.zeros((n, 2)), np.zeros(n)
        observer, goal_ix = np.zeros((n, 3)), np.zeros(n, np.int16)
        crops = np.zeros((n, cfg.crop_cells, cfg.crop_cells), np.uint8)
        videos = {k: np.zeros((n, cfg.height, cfg.width, 3), np.uint8) for k in ("ego", "ob")}
        for k in range(n * stride):
            if k % stride == 0:
                i = k // stride
                p, y = uw._agent_pose()
                xy[i], yaw[i] = p, y
                observer[i] = [*uw.observer.xy, uw.observer.yaw]
                goal_ix[i] = len(table) - 1
                qpos.append(uw.data.qpos.copy())
                crop = uw.obs_layout.get(obs, "occupancy")  # the env's own crop of this frame
                crops[i] = np.clip(np.round(crop / CROP_UNIT_M), 0, 255)
                if cfg.videos:
                    videos["ego"][i] = uw.ego_camera.render(uw.data)
                    videos["ob"][i] = uw.observer_view(cfg.width, cfg.height)
            if agent.done and len(table) < MAX_GOALS:
                send(first)
            obs, *_ = env.step(agent.act(obs))
        motion = motion_from_qpos(np.array(qpos), uw.index, uw.skeleton, cfg.fps)
        rots = np.concatenate([motion.global_orient[:, None], motion.body_pose], axis=1)
        feet = _feet_contacts(uw, np.array(qpos))
        gtab = np.zeros((MAX_GOALS, 4), np.float32)
        gtab[: len(table)] = table
        gtab[len(table) :, 3] = -1
        p = agent.profile
        out = {
            "root_xy": xy.astype(np.float32),
            "root_yaw": yaw.astype(np.float32),
            "transl": motion.transl.astype(np.float32),
            "rot6d": matrix_to_rot6d(rots).astype(np.float32),
            "betas": np.asarray(motion.betas, np.float32),
            "contacts": feet,
            "goal_index": goal_ix,
            "goals": gtab,
            "observer": observer.astype(np.float32),
            "observer_mode": np.array(uw.observer.mode, "<U12"),
            "occupancy_cm": crops,
            "scene": np.array(uw.scene.name, "<U64"),
            "split": np.array(cfg.split, "<U32"),
            "profile": np.array([p.speed, p.personal_m, _mood_id(p.mood), p.detour_p], np.float32),
        }
        if cfg.videos:
            out["ego_rgb"], out["observer_rgb"] = videos["ego"], videos["ob"]
        return out


IN_WAY_STREAM = 7  # the random stream that picks in-the-way episodes (apart from the env's)
IN_WAY_M = 1.8  # an in-the-way observer stands this far along the agent's shortest path
IN_WAY_MIN_M = 2.5  # ... on ways at least this long (else the episode keeps its observer)


def in_way_drawn(seed: int, share: float) -> bool:
    """Whether episode `seed` is one of the `share` whose observer stands in the agent's way
    (its own random stream, so the env's draws are the same either way)."""
    return bool(np.random.default_rng([seed, IN_WAY_STREAM]).random() < share)


def point_on_way(nav, start, approach) -> np.ndarray | None:
    """The point IN_WAY_M along the shortest walkable path from `start` to the nearest of the
    goal's `approach` points, or None when that way is shorter than IN_WAY_MIN_M (or none)."""
    from scenes.navigation import NoPathError, path_length, plan_path, point_along, smooth_path

    xy = np.asarray(start, float)
    approach = np.asarray(approach, float)
    target = approach[np.argmin(np.linalg.norm(approach - xy, axis=1))]
    try:
        pts = smooth_path(plan_path(nav, xy, target), nav)
    except NoPathError:
        return None
    pts = np.vstack([xy, pts[1:]])
    return point_along(pts, IN_WAY_M) if path_length(pts) >= IN_WAY_MIN_M else None


def _label_id(label: str) -> int:
    from scenes.navigation import GOAL_LABELS

    return GOAL_LABELS.index(label)


def _mood_id(mood: str) -> int:
    from policies.scripted.room.profile import MOODS

    return sorted(MOODS).index(mood)


FOOT_CONTACT_M = 0.03  # a foot whose heel or toes is this close to its standing height is down


def _feet_contacts(env, qpos: np.ndarray) -> np.ndarray:
    """(T, 2) bool: left / right foot down, its ankle or toe joint within FOOT_CONTACT_M of the
    height it has standing (the episode's first frame stands with both feet flat)."""
    import mujoco

    from navenv.humanoid import names

    m, d = env.model, mujoco.MjData(env.model)
    body = mujoco.mjtObj.mjOBJ_BODY
    sides = [
        [mujoco.mj_name2id(m, body, b) for b in names.FEET_BODIES if b.startswith(side)]
        for side in ("left", "right")
    ]
    heights = np.zeros((len(qpos), 2, 2))
    for t, q in enumerate(qpos):
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        heights[t] = [[d.xpos[b, 2] for b in ids] for ids in sides]
    return ((heights - heights[:1]) < FOOT_CONTACT_M).any(axis=-1)


def generate_room_data(
    config: RoomDataConfig, out: str | os.PathLike, *, progress: bool = True
) -> dict:
    """Generate (or resume) the room dataset in `out`; returns throughput figures."""

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = tqdm.write if progress else (lambda s: None)
    manifest = resume_config(out, config, log)
    write_manifest(out, manifest)
    done = {r.index for r in manifest.shards}
    rec = _Recorder(config)
    bar = tqdm(total=config.episodes, initial=manifest.episodes, unit="ep", disable=not progress)
    made, start = 0, time.perf_counter()
    for shard in range(config.num_shards):
        if shard in done:
            continue
        first = shard * config.shard_size
        ids = range(first, min(first + config.shard_size, config.episodes))
        eps = []
        for k in ids:
            eps.append(rec.episode(config.seed + k))
            bar.update(1)
        data = encode_shard(eps, config.fields(), config.compresslevel)
        manifest.shards.append(write_shard(out, shard, data, len(eps), first))
        manifest.shards.sort(key=lambda s: s.index)
        write_manifest(out, manifest)  # after every shard: a kill loses at most this shard
        made += len(eps)
    bar.close()
    seconds = time.perf_counter() - start
    minutes = config.episode_seconds / 60.0
    return {
        "episodes": made,
        "seconds": seconds,
        "episode_minutes_per_minute": made * minutes / (seconds / 60.0) if made else 0.0,
        "dataset_episodes": manifest.episodes,
    }


class RoomWindows:
    """Windows of PAST_FRAMES + FUTURE_FRAMES frames cut from a room dataset (stride `stride`).

    Item i is a dict of arrays: root_xy (64, 2), root_yaw (64,), rot6d (64, 24, 6),
    observer (64, 3), occupancy_cm (crop, crop) at the last past frame, goal (4,) (the goal the
    agent walks to at the last past frame: x, y, z, label id), scene (str).
    """

    def __init__(self, directory: str | os.PathLike, stride: int = 10) -> None:
        self.dir = Path(directory)
        self.manifest = load_manifest(self.dir)
        if self.manifest.config.get("env") != "room":
            raise DatasetError(f"{self.dir}: not a room dataset (see navenv data info)")
        span = PAST_FRAMES + FUTURE_FRAMES
        if self.manifest.frames < span:
            raise DatasetError(f"{self.dir}: episodes of {self.manifest.frames} frames < {span}")
        self.stride = int(stride)
        starts = range(0, self.manifest.frames - span + 1, self.stride)
        self.index = [
            (rec, e, s) for rec in self.manifest.shards for e in range(rec.episodes) for s in starts
        ]
        self._readers: dict[str, ShardReader] = {}

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        rec, e, s = self.index[i]
        if rec.name not in self._readers:
            self._readers[rec.name] = ShardReader(self.dir, rec, self.manifest.fields)
        ep = self._readers[rec.name].read(e)
        w = slice(s, s + PAST_FRAMES + FUTURE_FRAMES)
        now = s + PAST_FRAMES - 1
        return {
            "root_xy": ep["root_xy"][w],
            "root_yaw": ep["root_yaw"][w],
            "rot6d": ep["rot6d"][w],
            "observer": ep["observer"][w],
            "occupancy_cm": ep["occupancy_cm"][now],
            "goal": ep["goals"][int(ep["goal_index"][now])],
            "scene": str(ep["scene"]),
        }

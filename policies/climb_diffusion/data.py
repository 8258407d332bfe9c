"""Training and evaluation windows: dataset episodes + frozen-encoder tokens -> model batches.

An episode (a 5 s clip of the scripted expert's climb, `policies.data`) is subsampled to the
model's fps and cut into windows of `frames`. A window's route prompt is built from its
contacts: the holds held at its first frame (limb order), then every hold first touched inside
it (in order), each shown by the clip's context frame of that hold (SABR-CLIMB's context
frames) and, optionally, given by its position. Windows whose first frame holds no hold are
skipped: their anchor (where the climber is on the wall) would be unknown.

Everything is held in memory (a few hundred MB for thousands of episodes): tokens of the
distinct frames in one float16 table, windows as index arrays into it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from navenv.humanoid.names import LIMBS
from policies.climb_diffusion.config import ClimbDiffusionConfig

EPISODE_FIELDS = [
    "features",
    "contacts",
    "valid",
    "context_hold",
    "context_count",
    "hold_pos",
    "hold_count",
    "betas",
    "episode",
    "scene_name",
    "route_id",
    "plan_seed",
    "clip_index",
]


@dataclass
class Windows:
    """Windows of one dataset, ready to batch."""

    motion: torch.Tensor  # (N, T, F) world features
    anchor: torch.Tensor  # (N, 3) m
    betas: torch.Tensor  # (N, 10)
    video_sets: torch.Tensor  # (N, T) rows of `tokens` each motion frame shows
    context_sets: torch.Tensor  # (N, C) rows of `tokens`, -1 padding
    context_pos: torch.Tensor  # (N, C, 3) m, world frame (0 padding)
    context_holds: torch.Tensor  # (N, C) scene hold index, -1 padding
    tokens: torch.Tensor  # (M, P, D) float16, distinct frames' tokens
    episode: np.ndarray  # (N,) dataset episode of each window
    start: np.ndarray  # (N,) first frame (model fps) of each window in its episode
    keys: list[tuple[str, str, int, int]]  # (scene, route, clip index, start) per window
    contacts: np.ndarray  # (N, T, 4) scene hold per limb, -1 free (the expert's)
    holds: dict[int, np.ndarray]  # episode -> (H, 3) every scene hold's position, m

    def __len__(self) -> int:
        return int(self.motion.shape[0])

    def subset(self, index: np.ndarray) -> Windows:
        """The windows at `index` (the token table is shared)."""
        idx = torch.as_tensor(np.asarray(index, dtype=np.int64))
        return Windows(
            self.motion[idx],
            self.anchor[idx],
            self.betas[idx],
            self.video_sets[idx],
            self.context_sets[idx],
            self.context_pos[idx],
            self.context_holds[idx],
            self.tokens,
            self.episode[idx.numpy()],
            self.start[idx.numpy()],
            [self.keys[i] for i in idx.tolist()],
            self.contacts[idx.numpy()],
            self.holds,
        )

    def batch(
        self,
        index: np.ndarray,
        known_frames: np.ndarray | None = None,
    ) -> dict[str, torch.Tensor]:
        """The model batch (policy.py's interface) of windows `index`; known_frames (B,) ints:
        how many leading frames are given (0: none)."""
        idx = torch.as_tensor(np.asarray(index, dtype=np.int64))
        b, t = len(idx), self.motion.shape[1]
        vsets = self.video_sets[idx]  # (B, T)
        uniq = [torch.unique(row, return_inverse=True) for row in vsets]
        u_max = max(len(u) for u, _ in uniq)
        rows = torch.stack([torch.cat([u, u[-1:].expand(u_max - len(u))]) for u, _ in uniq])
        video_index = torch.stack([inv for _, inv in uniq])  # (B, T)
        csets = self.context_sets[idx]  # (B, C)
        known = torch.zeros(b, t, dtype=torch.bool)
        if known_frames is not None:
            k = torch.as_tensor(np.asarray(known_frames, dtype=np.int64))
            known = torch.arange(t)[None] < k[:, None]
        return {
            "motion": self.motion[idx],
            "known_mask": known,
            "video": self.tokens[rows].float(),  # (B, U, P, D)
            "video_index": video_index,
            "context": self.tokens[csets.clamp_min(0)].float(),  # (B, C, P, D)
            "context_mask": csets >= 0,
            "context_pos": self.context_pos[idx],
            "anchor": self.anchor[idx],
            "betas": self.betas[idx],
        }


def match_windows(contacts: np.ndarray) -> np.ndarray:
    """(N,) bool: windows (contacts (N, T, 4), scene hold per limb, -1 free) with a frame where
    both hands hold the same hold (the expert matches only to finish, on the top hold)."""
    c = np.asarray(contacts)
    left, right = c[..., LIMBS.index("left_hand")], c[..., LIMBS.index("right_hand")]
    return ((left >= 0) & (left == right)).any(axis=1)


def route_prompt(contacts: np.ndarray, mode: str) -> list[int]:
    """Scene hold indices of a window's route prompt from its contacts (T, 4), -1 = free limb.

    start: the holds held at frame 0 in limb order; all: those, then each hold in order of
    first touch (same-frame touches in limb order); none: no holds.
    """
    if mode == "none":
        return []
    holds: list[int] = []
    frames = contacts[:1] if mode == "start" else contacts
    for row in frames:
        for h in row:
            if h >= 0 and int(h) not in holds:
                holds.append(int(h))
    return holds


def start_holds(contacts: np.ndarray) -> list[int]:
    """Distinct holds held at a window's first frame, in limb order."""
    return route_prompt(contacts[:1], "start")


class TokenTable:
    """Distinct frames' tokens, appended as episodes are read (dedupes repeated frames)."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []

    def add(self, tokens: np.ndarray) -> np.ndarray:
        """Append (K, P, D) tokens; returns their row numbers (K,)."""
        first = sum(len(r) for r in self.rows)
        self.rows.append(np.asarray(tokens, dtype=np.float16))
        return np.arange(first, first + len(tokens))

    def tensor(self) -> torch.Tensor:
        """(M, P, D) float16 table."""
        return torch.from_numpy(np.concatenate(self.rows)) if self.rows else torch.zeros(0)


def distinct_frames(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first index of each distinct frame (U,), index of each frame's distinct frame (T,))."""
    seen: dict[bytes, int] = {}
    firsts: list[int] = []
    inverse = np.empty(len(frames), dtype=np.int64)
    for i, f in enumerate(frames):
        key = hashlib.blake2b(np.ascontiguousarray(f).tobytes(), digest_size=16).digest()
        if key not in seen:
            seen[key] = len(firsts)
            firsts.append(i)
        inverse[i] = seen[key]
    return np.asarray(firsts, dtype=np.int64), inverse


def fps_stride(dataset_fps: float, fps: float) -> int:
    """Dataset frames per model frame (ValueError unless a whole number)."""
    ratio = dataset_fps / fps
    stride = round(ratio)
    if stride < 1 or abs(ratio - stride) > 1e-6:
        raise ValueError(
            f"dataset fps {dataset_fps:g} is not a whole multiple of the model's fps {fps:g}"
        )
    return stride


def load_windows(
    dataset_dir: str | os.PathLike,
    config: ClimbDiffusionConfig,
    *,
    encoder=None,
    cache_dir: str | os.PathLike | None = None,
    window_stride: int | None = None,
    max_episodes: int | None = None,
    progress: bool = True,
) -> Windows:
    """Every window of a dataset (first `max_episodes` episodes), with tokens.

    Tokens come from the token cache of `navenv data encode` (`cache_dir`, or the dataset's
    default cache for the config's encoder when it exists), else from `encoder` (default: the
    config's) run here.
    window_stride: frames between window starts (default: frames // 3).
    """
    from policies.data.dataset import ClimbShards

    shards = ClimbShards(dataset_dir)
    man = shards.manifest
    stride = fps_stride(man.fps, config.fps)
    t = config.frames
    wstride = window_stride or max(1, t // 3)
    n_eps = shards.num_episodes if max_episodes is None else min(max_episodes, shards.num_episodes)
    cache = _open_cache(dataset_dir, config, cache_dir, stride)
    if cache is None and encoder is None:  # no cache: encode here with the config's encoder
        from policies.encoders import make_encoder

        kw = {"path": config.encoder_path} if config.encoder == "dinov2" else {}
        encoder = make_encoder(config.encoder, **kw)
    table = TokenTable()
    out: dict[str, list] = {k: [] for k in ("motion", "anchor", "betas", "vsets", "csets", "cpos")}
    out.update(holds=[], episode=[], start=[], keys=[], contacts=[], scene_holds={})
    fields = EPISODE_FIELDS + ([] if cache is not None else ["tripod_rgb", "context"])
    bar = tqdm(total=n_eps, desc="windows", unit="ep", disable=not progress)
    done = 0
    for pos, rec in enumerate(shards.shards):
        if done >= n_eps:
            break
        reader = shards.open(pos)
        try:
            for local in range(rec.episodes):
                if done >= n_eps:
                    break
                ep = reader.read(local, fields)
                tripod_rows, context_rows = _episode_tokens(ep, done, cache, encoder, table)
                _cut_windows(ep, stride, t, wstride, config, tripod_rows, context_rows, out)
                done += 1
                bar.update(1)
        finally:
            reader.close()
    bar.close()
    if not out["motion"]:
        raise ValueError(f"{dataset_dir}: no window of {t} frames with a hold held at its start")
    return Windows(
        motion=torch.from_numpy(np.stack(out["motion"])),
        anchor=torch.from_numpy(np.stack(out["anchor"])),
        betas=torch.from_numpy(np.stack(out["betas"])),
        video_sets=torch.from_numpy(np.stack(out["vsets"])),
        context_sets=torch.from_numpy(np.stack(out["csets"])),
        context_pos=torch.from_numpy(np.stack(out["cpos"])),
        context_holds=torch.from_numpy(np.stack(out["holds"])),
        tokens=table.tensor(),
        episode=np.asarray(out["episode"], dtype=np.int64),
        start=np.asarray(out["start"], dtype=np.int64),
        keys=out["keys"],
        contacts=np.stack(out["contacts"]).astype(np.int64),
        holds=out["scene_holds"],
    )


def _open_cache(dataset_dir, config: ClimbDiffusionConfig, cache_dir, stride: int):
    """The token cache to read, or None (then frames are encoded here)."""
    from policies.encoders.cache import TokenCache

    default = Path(dataset_dir) / "encoded" / config.encoder
    path = Path(cache_dir) if cache_dir is not None else default
    if cache_dir is None and not (path / "meta.json").exists():
        return None
    cache = TokenCache(path)
    cached = int(cache.meta["settings"]["fps_stride"])
    if cached not in (1, stride):
        raise ValueError(
            f"{path}: tokens cached every {cached} frames, the model needs every {stride} "
            "(or every frame): re-encode with a matching fps stride"
        )
    return cache


def _episode_tokens(ep, i: int, cache, encoder, table: TokenTable) -> tuple[np.ndarray, np.ndarray]:
    """Token-table rows of the episode's tripod frames and context frames (C,).

    A cache made at the model's fps holds every stride-th tripod frame only; `_cut_windows`
    tells the two apart by length.
    """
    count = int(ep["context_count"])
    if cache is not None:
        distinct, index = cache.distinct(i, "tripod")
        trip_rows = table.add(distinct)[index]
        context = cache.episode(i)["context"][:count]
    else:
        firsts, inverse = distinct_frames(ep["tripod_rgb"])
        frames = np.concatenate([ep["tripod_rgb"][firsts], ep["context"][:count]])
        with torch.no_grad():
            tok = encoder(torch.from_numpy(frames)[None])[0].numpy()  # (U + C, P, D)
        trip_rows = table.add(tok[: len(firsts)])[inverse]
        context = tok[len(firsts) :]
    ctx_rows = table.add(context) if count else np.zeros(0, dtype=np.int64)
    return trip_rows, ctx_rows


def _cut_windows(ep, stride, t, wstride, config, tripod_rows, context_rows, out) -> None:
    """Append the episode's windows to `out`."""
    feats = ep["features"][::stride]
    contacts = ep["contacts"][::stride]
    valid = ep["valid"][::stride]
    # a cache at the model's fps holds every stride-th frame already
    rows = (
        tripod_rows
        if len(tripod_rows) == len(feats) != len(ep["features"])
        else tripod_rows[::stride]
    )
    n_valid = int(valid.sum())  # valid frames are a prefix (the plan's end repeats after)
    count = int(ep["context_count"])
    slot_of = {int(h): k for k, h in enumerate(ep["context_hold"][:count])}
    c = config.max_context
    for s in range(0, n_valid - t + 1, wstride):
        win = contacts[s : s + t]
        held = start_holds(win)
        if not held:
            continue
        prompt = [h for h in route_prompt(win, config.context) if h in slot_of][:c]
        csets = np.full(c, -1, dtype=np.int64)
        cpos = np.zeros((c, 3), dtype=np.float32)
        holds = np.full(c, -1, dtype=np.int64)
        for k, h in enumerate(prompt):
            csets[k] = context_rows[slot_of[h]]
            cpos[k] = ep["hold_pos"][h]
            holds[k] = h
        anchor = ep["hold_pos"][held].mean(axis=0) if config.context != "none" else np.zeros(3)
        out["motion"].append(np.asarray(feats[s : s + t], dtype=np.float32))
        out["anchor"].append(anchor.astype(np.float32))
        out["betas"].append(np.asarray(ep["betas"], dtype=np.float32))
        out["vsets"].append(rows[s : s + t].astype(np.int64))
        out["csets"].append(csets)
        out["cpos"].append(cpos)
        out["holds"].append(holds)
        out["episode"].append(int(ep["episode"]))
        out["start"].append(s)
        out["keys"].append((str(ep["scene_name"]), str(ep["route_id"]), int(ep["clip_index"]), s))
        out["contacts"].append(win)
        out["scene_holds"][int(ep["episode"])] = ep["hold_pos"][: int(ep["hold_count"])]

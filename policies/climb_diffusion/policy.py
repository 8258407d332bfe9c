"""ClimbDiffusionPolicy: the ClimbDiffusion model stepping the humanoid in ClimbRoute-v0.

At each replanning point the policy builds the model's condition from what the env gives:

- the tripod video: the scene's tripod view with the climber hidden, rendered the way the dataset
  renders it (`policies.data.episode.SceneRenderer`, the model's video size) and encoded once per
  episode by the model's frozen encoder;
- the route prompt: the holds held now (limb order, read from the observation's grip flags and
  the observed body), then the next `prompt_ahead` holds of the route beyond the highest held
  one (in training the prompt held the holds touched in the window: 80% of those are the next
  route holds in order, measured on `val`), each as its context frame (hold highlighted) and
  position;
- the known prefix: the last `known_frames` observed configurations at the model's frame rate
  (root from `RootEstimator`, hinges from the observation), inpainted so the new chunk continues
  the executed motion.

It samples a chunk (2 s), executes `execute_frames` of it and replans; the first `blend_frames`
frames after the known prefix are blended from the previous chunk (`receding.handover`).
Grips come from the sampled motion: a limb whose grip site comes within
`GroundingConfig.radius` (0.3 m) of a route hold and slows there holds it (inferred from
hand-to-hold distance; the model predicts no contact channel), and IK grounding closes the gap.
Contacts are executed as the env keeps them: limbs take only the route's holds (the expert's
precision is 1.0), a hand on the top hold keeps it while reach guidance (`finish_reach`) pulls
the other hand there for the match, the hold each limb grips is read from the observation, and
a kinematic grip that must move to another hold opens for a step (it would stay on the old one).
control="kinematic": each step commands the chunk's pose at the next step's time (root pose +
hinges, `kinematic_action`). control="physics": a `policies.tracking.Tracker` follows the chunk
(PD targets, gated grips, residual assist when the env has it).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Any

import mujoco
import numpy as np
import torch

from navenv.body.motion import FEATURE_DIM, Motion
from navenv.body.rotations import matrix_to_quat
from navenv.body.skeleton import Skeleton
from navenv.envs.climb.compiled import CompiledWorld, compile_world
from navenv.envs.climb.config import ClimbConfig
from navenv.envs.climb.layout import LIMB_COLUMNS, action_layout
from navenv.humanoid.pose import joint_angles, motion_from_qpos, root_qpos
from policies.climb_diffusion.grounding import (
    GroundingConfig,
    grip_sites,
    ground_chunk,
    infer_contacts,
    schedule_contacts,
)
from policies.climb_diffusion.receding import Plan, continue_root, handover, known_times, smooth
from policies.climb_diffusion.selection import (
    SelectionConfig,
    moving_hand,
    next_target,
    route_score,
)
from policies.data.episode import SceneRenderer, sample_qpos
from policies.tracking import Reference, RootEstimator, Tracker, TrackerConfig
from policies.tracking.actions import pose_actions, resolve_modes
from policies.tracking.estimator import state_layout


@dataclass
class RecedingConfig:
    """How the policy replans (all in the model's frames, 15 fps for the shipped model)."""

    execute_frames: int = 15
    """Frames of each chunk executed before the next one is sampled (1 s)."""
    known_frames: int = 4
    """Observed frames given to the next chunk as its known prefix (inpainted)."""
    blend_frames: int = 4
    """Frames after the known prefix blended from the previous chunk."""
    sample_steps: int | None = None
    """Sampler steps (None: the model config's)."""
    sampler: str | None = None
    """ddpm, ddim or dpm (None: the model config's)."""
    guidance: float | None = None
    """Classifier-free guidance weight (None: the model config's)."""
    prompt_ahead: int = 2
    """Route holds beyond the highest held one given in the prompt."""
    ground: bool = True
    """Close the last centimetres to each inferred contact hold by IK (policies.climb_diffusion
    .grounding); False executes the sampled motion as is."""
    smooth_sigma: float = 2.0
    """Frames: Gaussian low-pass of each sampled chunk (receding.smooth; 0 turns it off)."""
    continue_root: bool = True
    """Translate each chunk so its root continues the executed motion (receding.continue_root)."""
    video_size: int = 64
    """Pixels of the tripod and context frames (the model's training data's)."""
    finish_prompt: bool = True
    """While one hand holds the route's top hold and the other does not, prompt the top again
    as the hold to touch next (in training a hold after the held ones is one touched in the
    window; the top, held already, would otherwise leave the prompt nothing ahead, and the
    free hand wandered to holds beyond the route)."""
    reach_weight: float = 0.0
    """Spatial guidance of each sampled chunk: the hand that should move next
    (selection.moving_hand) is pulled toward the next route hold over the chunk's last
    `reach_frames` frames (ClimbDiffusionModel.sample; 0: off, 1: the full Polyak step)."""
    reach_frames: int = 10
    finish_reach: float = 1.0
    """Reach guidance weight while one hand alone holds the route's top hold: the other hand
    is pulled toward the top (0: off; used in place of reach_weight for those chunks; on 32
    `val` routes, kinematic: 17 completed with 1.0, 13 without)."""
    candidates: int = 1
    """Chunks sampled per replan; the one that best moves the climb along its route is
    executed (policies.climb_diffusion.selection; 1: the sampler's draw as it comes)."""

    def __post_init__(self) -> None:
        for name in ("execute_frames", "known_frames", "video_size", "candidates", "reach_frames"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"RecedingConfig.{name}={v!r}: expected an int >= 1")
        for name in ("blend_frames", "prompt_ahead"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"RecedingConfig.{name}={v!r}: expected an int >= 0")
        for name in ("reach_weight", "finish_reach"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"RecedingConfig.{name}={getattr(self, name)!r}: expected 0..1")


class ClimbDiffusionPolicy:
    """A `policies.Policy` that samples ClimbDiffusion chunks and tracks them (module doc).

    retrieval=True swaps the sampler for nearest-neighbour retrieval of training windows from
    `data` (policies.climb_diffusion.retrieval), everything else unchanged: the baseline in
    the same loop."""

    def __init__(
        self,
        model: Any = "climb_diffusion_small",
        control: str | None = None,
        *,
        assist: str | None = None,
        action_space=None,
        config: RecedingConfig | None = None,
        grounding: GroundingConfig | None = None,
        selection: SelectionConfig | None = None,
        tracker: TrackerConfig | None = None,
        skeleton: Skeleton | None = None,
        env_config: ClimbConfig | None = None,
        seed: int = 0,
        retrieval: bool = False,
        data: str | None = None,
    ) -> None:
        if isinstance(model, str) or hasattr(model, "__fspath__"):
            from policies import load_pretrained

            model = load_pretrained(model)
        elif retrieval:
            raise ValueError("retrieval=True takes the model by name or path")
        if retrieval:  # the baseline through the same loop: retrieval answers sample()
            from policies.climb_diffusion.retrieval import RetrievalSampler

            model = RetrievalSampler(model, data)
        if getattr(model, "method", None) != "climb_diffusion":
            raise TypeError(
                f"model: expected a ClimbDiffusionModel or a checkpoint of one, got {type(model)}"
            )
        self.model = model.eval()
        self.mcfg = model.config
        self.config = config or RecedingConfig()
        self.selection = selection or SelectionConfig()
        if self.config.known_frames > self.mcfg.max_known:
            raise ValueError(
                f"RecedingConfig.known_frames={self.config.known_frames}: the model was trained "
                f"with at most {self.mcfg.max_known} known frames"
            )
        if self.config.execute_frames + self.config.known_frames > self.mcfg.frames:
            raise ValueError(
                f"RecedingConfig: execute_frames + known_frames must fit in a "
                f"{self.mcfg.frames}-frame chunk"
            )
        self.control, self.assist = resolve_modes(control, assist, action_space)
        # physics: one limb off its holds at a time (val, 32 routes: 9 -> 3 falls, progress
        # 0.59 -> 0.65); kinematic: as sampled (GroundingConfig.max_free)
        self.grounding = grounding or GroundingConfig(
            max_free=1 if self.control == "physics" else 4
        )
        self.action_layout = action_layout(self.control, self.assist)
        self.tracker_config = tracker or TrackerConfig()
        self.skeleton = skeleton or Skeleton.builtin()
        self.env_config = env_config or ClimbConfig()
        self.dt = self.env_config.frame_skip / self.env_config.physics_hz
        self.seed = int(seed)
        self._worlds: OrderedDict[str, tuple[CompiledWorld, SceneRenderer]] = OrderedDict()
        self.plans: list[Plan] = []  # every chunk sampled this episode (for inspection)
        self.plan: Plan | None = None
        self.latencies: list[float] = []  # s per replan (condition, sampling, grounding)

    # ------------------------------------------------------------------ Policy protocol
    def reset(self, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Start an episode on the env's reset info ("scene", "route"); seed None means the
        policy's seed. Renders and encodes the tripod view once."""
        if not info or "scene" not in info or "route" not in info:
            raise ValueError(
                "ClimbDiffusionPolicy.reset: info must be the env's reset info with 'scene' and "
                "'route'"
            )
        scene, route = info["scene"], info["route"]
        self.world, self.renderer = self._world(scene)
        w = self.world
        self.route_order = [w.hold_slot[h] for h in route.holds]
        self._box = info.get("climb_box", w.climb_box)
        self._hinge_range = np.asarray(info.get("hinge_range", w.index.hinge_range))
        self.estimator = RootEstimator(w.route_view(route, self.env_config.route_lookahead))
        self.obs_layout = state_layout(self.env_config.route_lookahead)
        self._data = mujoco.MjData(w.model)
        self._hold_pos = np.array([h.position for h in scene.holds], dtype=np.float64)
        self._rng_seed = self.seed if seed is None else int(seed)
        self._context_tokens: dict[int, torch.Tensor] = {}
        with torch.no_grad():
            frame = torch.from_numpy(self.renderer.background().copy())[None, None]
            self._video = self.model.encoder(frame)[0]  # (1, P, D)
        self.history: list[tuple[float, np.ndarray, list[int]]] = []  # (t, features, held)
        self.plans, self.plan, self.latencies = [], None, []
        self.choices: list[np.ndarray] = []  # per replan: each candidate's route score
        self.time = 0.0  # s of episode time the last command was for
        self.tracker = None
        if self.control == "physics":
            self.tracker = Tracker.from_world(w, self.env_config, self.assist, self.tracker_config)

    def act(self, obs: Any) -> np.ndarray:
        """The action for this step; samples a new chunk when the current one is spent."""
        state, due = self.observe(obs)
        if due:
            sample_chunks([self])
        return self.command(obs, state)

    # ------------------------------------------------------------------ the step, in phases
    # act = observe -> (sample_chunks when due) -> command; BatchedClimbDiffusionPolicy runs
    # the phases of many envs with one denoiser call for all the chunks due at a step.
    def observe(self, obs: Any) -> tuple[Any, bool]:
        """Record the observed frame; (root state, whether a new chunk is due)."""
        if not hasattr(self, "estimator"):
            raise RuntimeError("ClimbDiffusionPolicy.act: call reset(seed=..., info=...) first")
        state = self.estimator.estimate(obs)
        qpos = self._observed_qpos(obs, state)
        held = self._held(obs, qpos)
        self.history.append((self.time, self._features(qpos[None])[0], held))
        spent = self.config.execute_frames / self.mcfg.fps
        due = self.plan is None or self.time - self.plan.t0 >= spent + self._known_span() - 1e-9
        return state, due

    def command(self, obs: Any, state) -> np.ndarray:
        """The action that follows the current chunk one step on."""
        if self.control == "kinematic":
            self.time += self.dt
            q, planned = self._pose_at(self.time)
            # a grip stays on the hold it closed on: to switch holds it opens for one step
            held = np.asarray(self.history[-1][2])
            grips = (planned >= 0) & ((held < 0) | (planned == held))
            idx = self.world.index
            root = q[idx.root_qpos]
            # a sample may leave the climb box: clip to its face rather than fail the episode
            return pose_actions(
                q[idx.hinge_qpos],
                grips,
                root[:3],
                root[3:],
                hinge_range=self._hinge_range,
                climb_box=self._box,
                inside_box=False,
            )
        action = self.tracker.act(obs, state)
        self.time = self.plan.t0 + self.tracker.time
        return action

    def chunk_request(self) -> tuple[dict[str, torch.Tensor], int]:
        """The model batch (one condition) for the next chunk and its seed."""
        times = known_times(self.time, self.config.known_frames, self.mcfg.fps)
        known = np.stack([self._history_at(t)[0] for t in times])  # (k, F)
        held = self._history_at(times[0])[1]
        self._request = (self.time, times)
        batch = self._batch(known, np.asarray(held))
        cfg = self.config
        if cfg.reach_weight > 0 or cfg.finish_reach > 0:
            weight = cfg.finish_reach if self._one_hand_on_top(held) else cfg.reach_weight
            target = torch.full((1, 2, 3), float("nan"))
            if weight > 0:  # FK of the last known frame only when it is used
                target = self._reach_target(known[-1], np.asarray(held))
            batch["reach"], batch["reach_weight"] = target, torch.tensor([weight])
        return batch, self._rng_seed * 100_003 + len(self.plans)

    def choose(self, candidates: np.ndarray) -> np.ndarray:
        """The candidate (T, F) of candidates (K, T, F) for the last request with the best
        route score (selection.route_score, on each candidate's own contacts); scores kept in
        `choices`."""
        if len(candidates) == 1:
            return candidates[0]
        now, times = self._request
        held = np.asarray(self._history_at(now)[1])
        scores = np.empty(len(candidates))
        for k, feats in enumerate(candidates):
            _, sites, contacts = self._contacts(self._prepared(feats), held)
            scores[k] = route_score(
                contacts, sites, self.route_order, self._hold_pos, held, len(times), self.selection
            )
        self.choices.append(scores)
        return candidates[int(np.argmax(scores))]

    def _prepared(self, feats: np.ndarray) -> np.ndarray:
        """A sampled chunk continued from the executed root and low-passed (RecedingConfig)."""
        cfg, known = self.config, len(self._request[1])
        if cfg.continue_root:
            feats = continue_root(feats, known)
        return smooth(feats, cfg.smooth_sigma, known)

    def accept_chunk(self, feats: np.ndarray) -> None:
        """Take the sampled chunk (T, F) of the last request: continue, smooth, hand over,
        ground, and (physics) give it to the tracker."""
        cfg, fps = self.config, self.mcfg.fps
        now, times = self._request
        feats = self._prepared(feats)
        new = Plan(feats.astype(np.float64), float(times[0]), fps)
        self._known_count = len(times)
        self.plan = handover(self.plan, new, len(times), cfg.blend_frames)
        self.plans.append(self.plan)
        self._plan_qpos, self._plan_contacts = self._chunk_pose(
            self.plan.features, self._history_at(now)[1], len(times)
        )
        if self.tracker is not None:
            ref = Reference.from_qpos(
                self._plan_qpos,
                self.world.index,
                self._plan_contacts >= 0,
                fps,
                self._plan_contacts,
            )
            self.tracker.set_reference(ref, start_time=now - self.plan.t0)

    # ------------------------------------------------------------------ planning
    def _known_span(self) -> float:
        return (self._known_count - 1) / self.mcfg.fps if self.plan is not None else 0.0

    def _batch(self, known: np.ndarray, limbs: np.ndarray) -> dict[str, torch.Tensor]:
        """The model batch (ClimbDiffusionModel's interface) for one chunk; `limbs` (4,) the
        hold each limb grips at the chunk's first frame (-1 free)."""
        held = _distinct(limbs)
        m, c, t = self.mcfg, self.mcfg.max_context, self.mcfg.frames
        prompt = self._prompt(limbs)[:c] if m.context != "none" else []
        hold_pos = np.array([h.position for h in self.world.scene.holds], dtype=np.float64)
        motion = np.zeros((1, t, FEATURE_DIM), np.float32)
        motion[0, : len(known)] = known
        mask = np.zeros((1, t), bool)
        mask[0, : len(known)] = True
        p, d = self._video.shape[-2:]
        context = torch.zeros(1, c, p, d)
        cpos = torch.zeros(1, c, 3)
        for k, h in enumerate(prompt):
            context[0, k] = self._context_token(h)
            cpos[0, k] = torch.from_numpy(hold_pos[h]).float()
        anchor = hold_pos[held].mean(axis=0) if m.context != "none" else np.zeros(3)
        return {
            "motion": torch.from_numpy(motion),
            "known_mask": torch.from_numpy(mask),
            "video": self._video[None].float(),  # (1, 1, P, D)
            "video_index": torch.zeros(1, t, dtype=torch.long),
            "context": context,
            "context_mask": torch.arange(c)[None] < len(prompt),
            "context_pos": cpos,
            "anchor": torch.from_numpy(anchor[None].astype(np.float32)),
            "betas": torch.from_numpy(self.skeleton.betas[None].astype(np.float32)),
        }

    def _reach_target(self, features: np.ndarray, limbs: np.ndarray) -> torch.Tensor:
        """(1, 2, 3) m: the next route hold for the hand that should move (NaN: the other)."""
        from navenv.body.joints import joint_index
        from policies.climb_diffusion.kinematics import feature_joints

        _, target = next_target(self.route_order, limbs)
        joints = feature_joints(features[None], self.skeleton.betas)[0]  # (24, 3)
        hands = joints[[joint_index("left_hand"), joint_index("right_hand")]]
        out = np.full((1, 2, 3), np.nan, dtype=np.float32)
        hand = moving_hand(self.route_order, limbs, hands, self._hold_pos[target])
        out[0, hand] = self._hold_pos[target]
        return torch.from_numpy(out)

    def _prompt(self, limbs: np.ndarray) -> list[int]:
        """Held holds (limb order, distinct), then the next `prompt_ahead` route holds beyond
        the highest held one (finish_prompt: the top again while one hand alone holds it)."""
        order, held = self.route_order, _distinct(limbs)
        ranks = [order.index(h) for h in held if h in order]
        top = max(ranks) if ranks else -1
        ahead = [h for h in order[top + 1 :] if h not in held][: self.config.prompt_ahead]
        if self.config.finish_prompt and not ahead and self._one_hand_on_top(limbs):
            ahead = [order[-1]]
        return held + ahead

    def _one_hand_on_top(self, limbs) -> bool:
        """Whether exactly one hand of `limbs` (4,) holds the route's top hold."""
        return int(np.sum(np.asarray(limbs)[:2] == self.route_order[-1])) == 1

    def _context_token(self, hold: int) -> torch.Tensor:
        if hold not in self._context_tokens:
            frame = torch.from_numpy(self.renderer.context_frame(hold).copy())[None, None]
            with torch.no_grad():
                self._context_tokens[hold] = self.model.encoder(frame)[0, 0]  # (P, D)
        return self._context_tokens[hold]

    # ------------------------------------------------------------------ poses
    def _observed_qpos(self, obs, state) -> np.ndarray:
        """(nq,) the humanoid's configuration from the observation (root estimated)."""
        idx = self.world.index
        q = np.zeros(self.world.model.nq)
        q[idx.root_qpos] = np.concatenate([state.pos, matrix_to_quat(state.rot)])
        q[idx.hinge_qpos] = self.obs_layout.get(obs, "joint_angles")
        return q

    def _held(self, obs, qpos: np.ndarray) -> np.ndarray:
        """(4,) scene hold each limb grips (-1 free): the observation's grip flags and route
        position of each limb's hold; a limb gripping an off-route hold gets the off-route hold
        nearest it in the observed body. If none grips, the hands' nearest holds (so the next
        chunk still has an anchor) are given with the hands' slots."""
        d = self._data
        d.qpos[:] = qpos
        mujoco.mj_kinematics(self.world.model, d)
        gripping = self.obs_layout.get(obs, "grips") > 0.5
        route_pos = self.obs_layout.get(obs, "limbs")[:, LIMB_COLUMNS["hold"]][:, 0]
        order = self.route_order
        held = np.full(4, -1, dtype=int)
        for limb in np.flatnonzero(gripping):
            if route_pos[limb] >= 0:  # the route's hold at that position, exactly
                held[limb] = order[round(float(route_pos[limb]) * max(len(order) - 1, 1))]
            else:
                site = d.site_xpos[self.world.index.grip_sites[limb]]
                dist = np.linalg.norm(self._hold_pos - site, axis=1)
                dist[order] = np.inf
                held[limb] = int(np.argmin(dist))
        if (held < 0).all():
            sites = d.site_xpos[self.world.index.grip_sites[:2]]  # the hands
            for limb, site in enumerate(sites):
                held[limb] = int(np.argmin(np.linalg.norm(self._hold_pos - site, axis=1)))
        return held

    def _history_at(self, t: float) -> tuple[np.ndarray, list[int]]:
        """Observed (features, held) of the step nearest episode time t."""
        times = np.array([h[0] for h in self.history])
        i = int(np.argmin(np.abs(times - t)))
        return self.history[i][1], self.history[i][2]

    def _features(self, qpos: np.ndarray) -> np.ndarray:
        motion = motion_from_qpos(qpos, self.world.index, self.skeleton, self.mcfg.fps)
        return motion.to_features(np.float64)

    def _chunk_pose(
        self, features: np.ndarray, held: np.ndarray, known: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(T, nq) configurations of a chunk (grounded on its contacts after the `known`
        executed frames) and (T, 4) the hold each limb grips (-1 free)."""
        w = self.world
        q, _, contacts = self._contacts(features, held)
        if self.config.ground:
            q = ground_chunk(
                w.model, self._data, w.index, w.scene, q, contacts, self.grounding, start=known
            )
        return q, contacts

    def _contacts(
        self, features: np.ndarray, held: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A chunk's (T, nq) configurations, (T, 4, 3) grip sites and (T, 4) inferred contacts,
        as sampled (no grounding)."""
        w = self.world
        motion = Motion.from_features(features, self.mcfg.fps, self.skeleton.betas)
        q = np.tile(w.model.qpos0, (len(motion), 1))
        q[:, w.index.root_qpos] = root_qpos(self.skeleton, motion.transl, motion.global_orient)
        q[:, w.index.hinge_qpos] = joint_angles(motion, self._hinge_range)
        sites = grip_sites(w.model, self._data, w.index, q)
        g = self.grounding
        allowed = self.route_order if g.route_only else None
        contacts = infer_contacts(sites, self._hold_pos, self.mcfg.fps, g, held, allowed)
        top = self.route_order[-1] if g.keep_top else None
        return q, sites, schedule_contacts(contacts, held, g.max_free, top)

    def _pose_at(self, time: float) -> tuple[np.ndarray, np.ndarray]:
        """The current chunk's configuration (interpolated) and (4,) planned hold per limb
        (-1 free) at episode `time`."""
        x = self.plan.position(time)
        i0 = np.array([min(int(x), len(self._plan_qpos) - 1)])
        i1 = np.minimum(i0 + 1, len(self._plan_qpos) - 1)
        a = np.array([x - i0[0]])
        q = sample_qpos(self._plan_qpos, self.world.index.root_qpos, i0, i1, a)[0]
        return q, self._plan_contacts[round(x)]

    def plan_ahead(self, seconds: float) -> np.ndarray:
        """(N, 24, 3) world joint positions (m) of the sampled chunk (grounded, as it is
        executed) from now to `seconds` ahead, clamped to the chunk's end, one per model frame
        (what bench videos draw as the ghost)."""
        if self.plan is None:
            raise RuntimeError("ClimbDiffusionPolicy.plan_ahead: no chunk sampled yet")
        w = self.world
        times = self.time + np.arange(max(round(seconds * self.mcfg.fps), 1) + 1) / self.mcfg.fps
        out = np.empty((len(times), len(w.index.bodies), 3))
        for i, t in enumerate(np.minimum(times, self.plan.end)):
            self._data.qpos[:] = self._pose_at(float(t))[0]
            mujoco.mj_kinematics(w.model, self._data)
            out[i] = self._data.xpos[w.index.bodies]
        return out

    def _world(self, scene) -> tuple[CompiledWorld, SceneRenderer]:
        if scene.name not in self._worlds:
            world = compile_world(scene, self.skeleton, self.env_config)
            size = self.config.video_size
            renderer = SceneRenderer(world, size, size, self.env_config.ego_fovy_deg)
            self._worlds[scene.name] = (world, renderer)
            while len(self._worlds) > 4:
                self._worlds.popitem(last=False)
        self._worlds.move_to_end(scene.name)
        return self._worlds[scene.name]


def sample_chunks(policies: list[ClimbDiffusionPolicy]) -> None:
    """Sample the next chunk of each policy in one denoiser call (they share one model and
    sampler settings); each policy's chunk is what it would sample alone (a seed per row)."""
    if not policies:
        return
    start = time.perf_counter()
    first = policies[0]
    if any(p.model is not first.model or p.config != first.config for p in policies):
        raise ValueError("sample_chunks: the policies must share one model and RecedingConfig")
    requests = [p.chunk_request() for p in policies]
    batch = {k: torch.cat([r[0][k] for r in requests]) for k in requests[0][0]}
    reach = batch.pop("reach", None)  # (N, 2, 3) hand targets, with reach guidance only
    weight = batch.pop("reach_weight", torch.zeros(1))  # (N,) or none
    cfg = first.config
    feats = first.model.sample(
        batch,
        num_samples=cfg.candidates,
        seed=[r[1] for r in requests],
        steps=cfg.sample_steps,
        sampler_name=cfg.sampler,
        guidance=cfg.guidance,
        reach=reach,
        reach_weight=weight,
        reach_frames=cfg.reach_frames,
    ).numpy()  # (N, K, T, F)
    for p, f in zip(policies, feats, strict=True):
        p.accept_chunk(p.choose(f))
    elapsed = time.perf_counter() - start
    for p in policies:
        p.latencies.append(elapsed)


class BatchedClimbDiffusionPolicy:
    """One ClimbDiffusionPolicy per env of a vector env (`gym.make_vec`, ClimbRouteBatchEnv),
    sharing one model: `act(obs)` takes the batched observation (num_envs, ...) and samples
    every chunk due at that step in one denoiser call. Reset each env's policy with
    `reset(i, seed=..., info=...)` (its reset info) when its episode starts."""

    def __init__(self, num_envs: int, model: Any = "climb_diffusion_small", **kwargs: Any) -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r}: expected an int >= 1")
        first = ClimbDiffusionPolicy(model, **kwargs)
        self.policies = [first] + [
            ClimbDiffusionPolicy(first.model, **kwargs) for _ in range(num_envs - 1)
        ]

    def reset(self, i: int, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Start env i's episode on its reset info."""
        self.policies[i].reset(seed=seed, info=info)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """(num_envs, action size) actions for the batched observation."""
        obs = np.asarray(obs)
        if len(obs) != len(self.policies):
            raise ValueError(f"act: {len(obs)} observations for {len(self.policies)} envs")
        phases = [p.observe(o) for p, o in zip(self.policies, obs, strict=True)]
        sample_chunks([p for p, (_, due) in zip(self.policies, phases, strict=True) if due])
        return np.stack(
            [p.command(o, st) for p, o, (st, _) in zip(self.policies, obs, phases, strict=True)]
        )


def _distinct(held: np.ndarray) -> list[int]:
    """Distinct holds of a (4,) per-limb array, limb order (-1 dropped)."""
    out: list[int] = []
    for h in held:
        if h >= 0 and int(h) not in out:
            out.append(int(h))
    return out


def receding_config(**overrides: Any) -> RecedingConfig:
    """A RecedingConfig with `overrides` (unknown names are an error that lists the fields)."""
    names = {f.name for f in fields(RecedingConfig)}
    bad = sorted(set(overrides) - names)
    if bad:
        raise ValueError(f"RecedingConfig has no field(s) {bad}; fields: {sorted(names)}")
    return RecedingConfig(**overrides)


__all__ = [
    "BatchedClimbDiffusionPolicy",
    "ClimbDiffusionPolicy",
    "GroundingConfig",
    "RecedingConfig",
    "receding_config",
    "sample_chunks",
]

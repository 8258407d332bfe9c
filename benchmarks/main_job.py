"""The main job: policies climb routes on the training split and on each test split, are scored,
and a report is written (markdown table, figure, video of one climb). `navenv demo` runs the
quick suite, `navenv bench` the full one."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.harness import GHOST_S, POLICIES, EpisodeRecord, EpisodeTask, run_episode
from benchmarks.scoring import (
    compare,
    generalisation,
    generalisation_table,
    json_ready,
    markdown_table,
    summarise,
)
from navenv.threads import single_threaded

DEMO_POLICIES: tuple[str, ...] = (
    *POLICIES,
    "climb_diffusion_kinematic",
    "climb_diffusion_physics",
)
"""`navenv demo`: the built-ins and the shipped diffusion policy in both control modes."""
TEST_SPLITS: tuple[str, ...] = ("test_iid", "test_novel_geometry", "test_novel_holds")
DEFAULT_SPLITS: tuple[str, ...] = ("train", *TEST_SPLITS)
NOVEL_FIRST: tuple[str, ...] = ("test_novel_geometry", "test_novel_holds", "test_iid", "train")
"""Where each policy's video is filmed: the first of these splits the suite runs (novel scenes
first), else the suite's first split."""


def climbing_splits() -> list[str]:
    """The scenes.splits names whose scenes are climbing walls (room splits have no routes)."""
    from scenes import splits as scene_splits

    return [
        n for n in scene_splits.names() if all(s.generator == "wall" for s in scene_splits.get(n))
    ]


@dataclass
class SuiteConfig:
    """Which episodes a suite runs."""

    splits: tuple[str, ...] = DEFAULT_SPLITS
    """Scene splits to evaluate on (scenes.splits names)."""
    policies: tuple[str, ...] = POLICIES
    """Policies to evaluate: policies.registry names (built-ins, `navenv.policies` entry points)
    or ``module:Class`` strings; default the built-ins in benchmarks.harness.POLICIES."""
    episodes: int = 2
    """Episodes per (split, policy): scene specs and routes drawn from the split, seeded."""
    max_steps: int = 1800
    """Step limit per episode (60 s at 30 Hz)."""
    seed: int = 0
    """Seeds every scene/route draw and every episode."""
    workers: int = 0
    """Worker processes (0: one per core)."""
    video: bool = True
    """Film one climb (tripod view with the ego view inset)."""
    policy_videos: bool = True
    """Also film each policy's first climb on a novel split (`NOVEL_FIRST` order: tripod view,
    ego inset, the policy's plan drawn as a ghost) into videos/POLICY.mp4."""
    adherence: bool = False
    """Also plan the scripted expert on every episode's route and seed and score each policy's
    body against it (MPJPE / PA-MPJPE to expert; costs one plan per episode)."""
    ray: bool = False
    """Run the episodes as Ray tasks (RAY_ADDRESS, else a local cluster) instead of local
    worker processes."""
    assist: tuple[str, ...] = ("residual",)
    """Assist modes the policies that climb with residual assist run under: residual (the
    default), none, or both, each a row of its own (`policy[assist=none]`)."""

    def __post_init__(self) -> None:
        from scenes import splits as scene_splits

        unknown = [s for s in self.splits if s not in scene_splits.names()]
        if unknown:
            raise ValueError(f"unknown splits {unknown}; expected some of {scene_splits.names()}")
        routeless = [s for s in self.splits if s not in climbing_splits()]
        if routeless:
            raise ValueError(
                f"splits {routeless} hold rooms, which have no routes to climb; the bench runs "
                f"climbing splits: {', '.join(climbing_splits())}"
            )
        from policies.registry import policy_env_kwargs

        self.policies = tuple(self.policies)
        bad = {}
        for p in self.policies:
            try:  # resolving here reports a bad name or plugin before any worker starts
                policy_env_kwargs(p)
            except ValueError as e:
                bad[p] = str(e)
        if bad:
            raise ValueError(f"unknown policies {list(bad)}: {' '.join(bad.values())}")
        self.assist = tuple(self.assist)
        if not self.assist or set(self.assist) - {"residual", "none"}:
            raise ValueError(f"assist={self.assist}: expected some of ('residual', 'none')")
        if self.episodes < 1 or self.max_steps < 1:
            raise ValueError("episodes and max_steps must be >= 1")


def make_tasks(cfg: SuiteConfig) -> list[EpisodeTask]:
    """The suite's episodes: for each split, `episodes` (scene, route) draws shared by every policy."""
    from policies.registry import policy_env_kwargs
    from scenes import splits as scene_splits

    rng = np.random.default_rng(cfg.seed)
    tasks = []
    for split in cfg.splits:
        specs = scene_splits.get(split)
        picks = rng.choice(len(specs), size=cfg.episodes, replace=cfg.episodes > len(specs))
        for k, i in enumerate(picks):
            spec = specs[int(i)]
            n_routes = len(spec.build().routes)
            if n_routes == 0:
                raise ValueError(f"scene {spec.name} of split {split!r} has no routes to climb")
            route = f"r{int(rng.integers(n_routes))}"
            seed = int(cfg.seed * 1000 + k)
            for policy in cfg.policies:
                # only a policy that climbs with the residual assist has a run without it
                assisted = policy_env_kwargs(policy).get("assist") == "residual"
                for mode in cfg.assist if assisted else ("residual",):
                    assist = None if mode == "residual" else mode
                    tasks.append(
                        EpisodeTask(
                            policy,
                            split,
                            spec,
                            route,
                            seed,
                            cfg.max_steps,
                            assist=assist,
                            adherence=cfg.adherence,
                        )
                    )
    return tasks


def with_policy_videos(tasks: list[EpisodeTask], video_dir: Path) -> list[EpisodeTask]:
    """`tasks` with each policy row's first episode on the most novel split (NOVEL_FIRST) set
    to write video_dir/LABEL.mp4 as it runs (the episode is the same, only filmed)."""
    splits = list(dict.fromkeys(t.split for t in tasks))
    where = next((s for s in NOVEL_FIRST if s in splits), splits[0] if splits else None)
    out, seen = [], set()
    for t in tasks:
        if t.split == where and t.label not in seen:
            seen.add(t.label)
            name = "".join(c if c.isalnum() or c in "-_" else "_" for c in t.label).strip("_")
            t = replace(t, video=str(video_dir / f"{name}.mp4"))
        out.append(t)
    return out


def run_suite(cfg: SuiteConfig, out_dir: Path) -> dict:
    """Run every episode (in parallel), score, write the report; returns the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = make_tasks(cfg)
    if cfg.policy_videos:
        tasks = with_policy_videos(tasks, out_dir / "videos")
    start = time.perf_counter()
    records: list[EpisodeRecord] = []
    if cfg.ray:
        records = list(tqdm(_on_ray(tasks), total=len(tasks), desc="episodes", unit="ep"))
    else:
        workers = cfg.workers or os.cpu_count() or 1
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=mp.get_context("forkserver"),
            initializer=single_threaded if workers > 1 else None,  # one worker may use every core
        ) as pool:
            done = pool.map(run_episode, tasks)
            records = list(tqdm(done, total=len(tasks), desc="episodes", unit="ep"))
    summary = summarise(records)
    video = _film_one_climb(cfg, tasks, out_dir, records) if cfg.video else None
    elapsed = time.perf_counter() - start
    table = markdown_table(summary)
    videos = {t.label: Path(t.video).relative_to(out_dir).as_posix() for t in tasks if t.video}
    _write_report(out_dir, cfg, summary, table, video, elapsed, len(tasks), videos)
    print(table)
    print(f"\n{len(tasks)} episodes in {elapsed:.0f} s -> report: {out_dir / 'report.md'}")
    return {f"{s}/{p}": v for (s, p), v in summary.items()}


def _on_ray(tasks: list[EpisodeTask]) -> Iterator[EpisodeRecord]:
    """Records of `tasks` in order, each episode a Ray task of one CPU (RAY_ADDRESS, else a
    local cluster); the filmed ones run here, so their videos land beside the report even when
    the cluster shares no file system."""
    from policies.data.workers import connect_ray

    ray = connect_ray()
    remote = ray.remote(num_cpus=1)(run_episode)
    refs = {i: remote.remote(t) for i, t in enumerate(tasks) if not t.video}
    try:
        local = {i: run_episode(t) for i, t in enumerate(tasks) if t.video}
        for i in range(len(tasks)):
            yield local[i] if i in local else ray.get(refs[i])
    except BaseException:
        for ref in refs.values():
            ray.cancel(ref)
        raise


def _film_one_climb(
    cfg: SuiteConfig,
    tasks: list[EpisodeTask],
    out_dir: Path,
    records: Sequence[EpisodeRecord] = (),
) -> Path | None:
    """The first training-split climb of the best available expert, tripod view + ego inset.

    `records` (the suite's, if given) tell how long each climb is, for the progress bars, and
    whether the physics expert fell, in which case the kinematic one is filmed straight away."""
    from navenv.video import inset, write_mp4

    done = {r.task: r for r in records}
    order = ("scripted_physics", "scripted_kinematic", "random")
    chosen = next((t for p in order for t in tasks if t.policy == p), None)
    if chosen is None:
        return None
    kin = next((t for t in tasks if t.policy == "scripted_kinematic"), None)
    if chosen.policy == "scripted_physics" and kin is not None and chosen in done:
        chosen = chosen if done[chosen].success else kin
    rec = _record_with_progress(chosen, done.get(chosen))
    if chosen.policy == "scripted_physics" and not rec.success and kin is not None:
        rec = _record_with_progress(kin, done.get(kin))  # show a completed climb if physics fell
    pairs = rec.frames
    with tqdm(total=len(pairs), desc="writing climb.mp4", unit="frame") as bar:
        path = write_mp4(
            out_dir / "climb.mp4", (_ticked(bar, inset(t, e)) for t, e in pairs), fps=30.0
        )
    import imageio.v3 as iio

    iio.imwrite(out_dir / "climb_frame.png", inset(*pairs[len(pairs) // 2]))
    return path


def _record_with_progress(task: EpisodeTask, known: EpisodeRecord | None) -> EpisodeRecord:
    """`run_episode` with its frames recorded, one progress tick per frame (filming is slow:
    two renders per step, about a minute for a climb)."""
    total = known.steps + 1 if known is not None else None  # the same seeded episode
    desc = f"filming {task.policy} on {task.spec.name}"
    with tqdm(total=total, desc=desc, unit="frame") as bar:
        return run_episode(replace(task, record_frames=True, video=None), on_frame=bar.update)


def _ticked(bar: tqdm, item):
    bar.update()
    return item


def _figure(summary: dict, path: Path) -> None:
    """Per-split bars of completion, progress and recall per policy, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = list(dict.fromkeys(s for s, _ in summary))
    policies = list(dict.fromkeys(p for _, p in summary))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    width = 0.8 / max(len(policies), 1)
    for ax, metric, label in zip(
        axes,
        ("completion", "route_progress", "route_recall"),
        ("completion", "route progress", "route recall"),
    ):
        for j, pol in enumerate(policies):
            rows = [summary.get((s, pol), {}) for s in splits]
            vals = np.array([r.get(metric, np.nan) for r in rows], dtype=float)
            ci = np.array([r.get(f"{metric}_ci") or [np.nan, np.nan] for r in rows], dtype=float)
            err = np.nan_to_num(np.abs(ci.T - vals[None]))  # (2, splits): below, above
            ax.bar(np.arange(len(splits)) + j * width, vals, width, label=pol)
            ax.errorbar(
                np.arange(len(splits)) + j * width, vals, yerr=err, fmt="none", ecolor="k", lw=0.8
            )
        ax.set_xticks(np.arange(len(splits)) + 0.4 - width / 2, splits, rotation=20, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(label)
    fig.legend(
        *axes[0].get_legend_handles_labels(), loc="lower center", ncol=len(policies), fontsize=8
    )
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _generalisation_figure(summary: dict, path: Path) -> bool:
    """Bars of the completion and progress drop from train to each split, per policy; False
    (nothing drawn) without a train split."""
    drops = {m: generalisation(summary, m) for m in ("completion", "route_progress")}
    if not drops["completion"]:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    policies = list(drops["completion"])
    splits = sorted({s for per in drops["completion"].values() for s in per})
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    width = 0.8 / max(len(splits), 1)
    for ax, (metric, per) in zip(axes, drops.items(), strict=True):
        for j, split in enumerate(splits):
            vals = [per[p].get(split, np.nan) for p in policies]
            ax.bar(np.arange(len(policies)) + j * width, vals, width, label=split)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_xticks(np.arange(len(policies)) + 0.4 - width / 2, policies, rotation=20, fontsize=7)
        ax.set_title(f"{metric.replace('_', ' ')}: train minus split (higher = worse off train)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def provenance() -> dict:
    """Versions of what produced a report and the git commit it ran at (None outside a
    checkout), so a results.json says where its numbers came from."""
    import platform
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in ("navenv", "mujoco", "gymnasium", "numpy", "torch", "diffusers"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"versions": versions, "git_commit": commit, "python": platform.python_version()}


def _write_report(
    out_dir: Path,
    cfg: SuiteConfig,
    summary: dict,
    table: str,
    video: Path | None,
    elapsed: float,
    n: int,
    videos: dict[str, str] | None = None,
) -> None:
    _figure(summary, out_dir / "summary.png")
    has_gen = _generalisation_figure(summary, out_dir / "generalisation.png")
    lines = [
        "# navenv benchmark report",
        "",
        f"{n} episodes, splits {', '.join(cfg.splits)}, policies {', '.join(cfg.policies)}, "
        f"{cfg.episodes} episode(s) per split and policy, seed {cfg.seed}, {elapsed:.0f} s wall.",
        "",
        table,
        "",
        *(
            [
                "Generalisation: the drop from `train` to each split (completion / route progress; "
                "positive = worse on the novel scenes).",
                "",
                gen,
                "",
                *(["![generalisation](generalisation.png)", ""] if has_gen else []),
            ]
            if (gen := generalisation_table(summary))
            else []
        ),
        "Columns: completion = top hold held with both hands; progress = furthest hand hold reached / "
        "route length; holds reached = distinct route holds gripped; falls = terminated without success; "
        "assist = mean residual root force in body weights; route precision/recall = gripped holds on the "
        "route / route holds gripped (all limbs); hold order = longest in-order subsequence of hand holds "
        "/ holds touched; contact dist = limb-to-hold distance when a grip closes; MPJPE to plan = joint "
        "position error against the expert's planned motion (global, mm). Brackets: 95% bootstrap "
        "interval over episodes (results.json: METRIC_ci). A dash in the table, and "
        "null in results.json, marks a metric with no value for any of its episodes (MPJPE to plan "
        "for a policy without a plan, hold order when no hold was gripped, ...).",
        "",
        "![summary](summary.png)",
        "",
    ]
    if video is not None:
        lines += [
            f"Video of one climb (tripod view, ego view inset): [{video.name}]({video.name})",
            "",
            "![frame](climb_frame.png)",
            "",
        ]
    if videos:
        split = next(t for t in NOVEL_FIRST + cfg.splits if t in cfg.splits)
        lines += [
            f"One climb per policy on `{split}` (tripod view, ego inset; the policy's plan for the "
            f"next {GHOST_S:g} s drawn as a cyan ghost: the body it will be in and its hands' "
            "paths until then):",
            "",
            *(f"- {label}: [{path}]({path})" for label, path in videos.items()),
            "",
        ]
    (out_dir / "report.md").write_text("\n".join(lines))
    results = {
        "config": {**asdict(cfg)},
        "summary": {f"{s}/{p}": v for (s, p), v in summary.items()},
        "videos": videos or {},
        "wall_seconds": elapsed,
        "provenance": provenance(),
    }
    tmp = out_dir / "results.json.tmp"
    # strict JSON (other readers refuse NaN/Infinity): a metric without a value is null
    tmp.write_text(json.dumps(json_ready(results), indent=2, allow_nan=False))
    os.replace(tmp, out_dir / "results.json")


def run_demo(out_dir: Path, quick: bool = True, seed: int = 0) -> dict:
    """`navenv demo`: the quick suite (under 5 minutes on 2 cores); `--full` is `navenv bench`."""
    if not quick:
        return run_bench(out_dir, episodes=8, splits=None, seed=seed, workers=0)
    return run_suite(SuiteConfig(episodes=2, seed=seed, policies=DEMO_POLICIES), out_dir)


def run_bench(
    out_dir: Path,
    episodes: int,
    splits: list[str] | None,
    seed: int,
    workers: int,
    policies: list[str] | None = None,
    assist: str = "residual",
    compare_to: Path | None = None,
    adherence: bool = False,
    ray: bool = False,
) -> dict:
    """`navenv bench`: each policy (default: the built-ins) on train and each test split,
    `episodes` each; `policies` are registry names or ``module:Class`` strings; assist:
    residual, none or both (physics policies); compare_to: an earlier results.json whose
    summary the new one is printed against; ray: episodes as Ray tasks."""
    modes = ("residual", "none") if assist == "both" else (assist,)
    before = None
    if compare_to is not None:
        try:
            before = json.loads(Path(compare_to).read_text())["summary"]
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(f"--compare {compare_to}: not a bench results.json ({e})") from None
    summary = run_suite(
        SuiteConfig(
            splits=tuple(splits) if splits else DEFAULT_SPLITS,
            policies=tuple(policies) if policies else POLICIES,
            episodes=episodes,
            seed=seed,
            workers=workers,
            assist=modes,
            adherence=adherence,
            ray=ray,
        ),
        out_dir,
    )
    if before is not None:
        now = json.loads((out_dir / "results.json").read_text())["summary"]
        print(f"\nagainst {compare_to}:")
        print(compare(now, before, ("completion", "route_progress", "falls", "assist_bw")))
    return summary

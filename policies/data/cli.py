"""`navenv data ...`: generate, info, to-minari, encode (argparse definitions: navenv.cli)."""

from __future__ import annotations

import argparse
import sys

from policies.data.dataset import ClimbShards, field_summary, plan_summary
from policies.data.generate import DEFAULT_PLANNER, GenerateConfig, generate


def run(args: argparse.Namespace) -> int:
    """Run the `navenv data` subcommand in `args.data_command`; returns the exit status."""
    command = args.data_command
    if command == "generate":
        return _generate(args)
    if command == "info":
        return info(args.dir)
    if command == "to-minari":
        return _to_minari(args)
    if command == "encode":
        return _encode(args)
    raise ValueError(f"navenv data {command!r}: expected generate, info, to-minari or encode")


def _generate(args: argparse.Namespace) -> int:
    if getattr(args, "env", "climb") == "room":
        return _generate_room(args)
    config = GenerateConfig(
        split=args.split or "train",
        episodes=args.episodes,
        shard_size=args.shard_size or 16,
        width=args.width or 64,
        height=args.height or 64,
        fps=args.fps or 30.0,
        seed=args.seed,
        planner=getattr(args, "planner", None) or DEFAULT_PLANNER,
        clip_seconds=getattr(args, "clip_seconds", 5.0),
        clips_per_plan=getattr(args, "clips_per_plan", 4),
        max_penetration_m=_depth_limit(getattr(args, "max_penetration", 0.02)),
    )
    generate(config, args.out, workers=args.workers, use_ray=args.ray, progress=True)
    return 0


def _generate_room(args: argparse.Namespace) -> int:
    from policies.data.room import RoomDataConfig, generate_room_data

    config = RoomDataConfig(
        split=args.split or "rooms_train",
        episodes=args.episodes,
        shard_size=args.shard_size or 8,
        episode_seconds=args.episode_seconds,
        fps=args.fps or 10.0,
        videos=bool(args.videos),
        observer_in_way=args.observer_in_way,
        width=args.width or 32,
        height=args.height or 32,
        seed=args.seed,
    )
    r = generate_room_data(config, args.out, progress=True)
    print(
        f"{r['episodes']} episodes in {r['seconds']:.1f} s: "
        f"{r['episode_minutes_per_minute']:.1f} episode-minutes per minute (one core); "
        f"{r['dataset_episodes']} in {args.out}"
    )
    return 0


def _depth_limit(metres: float) -> float | None:
    """--max-penetration: a negative value keeps every plan (None)."""
    return None if metres < 0 else metres


def info(directory: str, out=None) -> int:
    """Print a dataset's summary and verify every shard's checksum; 1 if any is bad, else 0."""
    out = out or sys.stdout
    shards = ClimbShards(directory)
    man = shards.manifest
    cfg = man.config
    print(f"dataset {directory}", file=out)
    print(
        f"  split {cfg.get('split')}, seed {cfg.get('seed')}, planner {cfg.get('planner')}, "
        f"navenv {man.navenv_version}, format {man.format_version}",
        file=out,
    )
    print(
        f"  {man.episodes}/{man.episodes_planned} episodes in {len(man.shards)} shards "
        f"({'complete' if man.complete else 'incomplete: rerun generate to resume'}), "
        f"{man.episodes * man.frames} frames of {man.width}x{man.height} at {man.fps:g} fps, "
        f"{man.bytes / 1e6:.1f} MB",
        file=out,
    )
    for line in field_summary(shards):
        print("  " + line, file=out)
    problems = shards.verify_all()
    for p in problems:
        print(f"  CORRUPT {p}", file=out)
    print(f"  checksums: {len(man.shards) - len(problems)}/{len(man.shards)} shards OK", file=out)
    plans = None if problems else plan_summary(shards)
    if plans:
        print("  " + plans, file=out)
    return 1 if problems else 0


def _to_minari(args: argparse.Namespace) -> int:
    from policies.data.minari_export import export_minari

    ds = export_minari(
        args.dir,
        args.dataset_id,
        minari_root=args.minari_root,
        max_episodes=getattr(args, "max_episodes", None),
        overwrite=getattr(args, "overwrite", False),
    )
    print(
        f"wrote Minari dataset {args.dataset_id!r}: {ds.total_episodes} episodes, "
        f"{ds.total_steps} steps; load it with minari.load_dataset({args.dataset_id!r})"
    )
    return 0


def _encode(args: argparse.Namespace) -> int:
    from policies.encoders.cache import encode_dataset

    summary = encode_dataset(
        args.dir,
        args.out,
        encoder=args.encoder,
        encoder_path=args.encoder_path,
        ego=args.ego,
        fps_stride=args.fps_stride,
        batch=args.batch,
        device=args.device,
        overwrite=args.overwrite,
        progress=True,
    )
    print(summary.line())
    return 0

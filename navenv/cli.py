"""The `navenv` command: the composition root, the one place that may import every layer.

Subcommands import what they need when they run, so `navenv --help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# The climbing-wall splits of scenes.splits, spelled out so `--help` needs no import
# (tests/navenv/test_cli_bench_splits.py keeps them in step); room splits have no routes to climb.
BENCH_SPLITS: tuple[str, ...] = (
    "train",
    "val",
    "test_iid",
    "test_novel_geometry",
    "test_novel_holds",
)


def _bench_split(name: str) -> str:
    """argparse type of `bench --splits`: a climbing split, or an error that lists them."""
    if name not in BENCH_SPLITS:
        kind = "a room split (rooms have no routes)" if name.startswith("rooms_") else "unknown"
        raise argparse.ArgumentTypeError(
            f"{name!r} is {kind}; the bench runs climbing splits: {', '.join(BENCH_SPLITS)}"
        )
    return name


def _cmd_demo(args: argparse.Namespace) -> int:
    from benchmarks.main_job import run_demo

    run_demo(out_dir=Path(args.out), quick=not args.full, seed=args.seed)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.suite == "behavior":
        from benchmarks.behavior import K, run_behavior, table

        if not args.data:
            raise SystemExit("navenv bench behavior: --data DIR [DIR ...] (room test data)")
        result = run_behavior(
            args.data,
            runs=args.runs,
            train_data=args.train_data,
            out=args.out,
            k=args.k or K,
            trials=args.trials,
            windows=args.windows,
            seed=args.seed,
            steps=args.steps,
            rows=args.rows,
        )
        print(table(result))
        return 0
    if args.suite == "forecast":
        from benchmarks.forecast import run_forecast, table

        if not args.tracks:
            raise SystemExit("navenv bench forecast: --tracks DIR is required")
        print(
            table(run_forecast(args.tracks, args.model, args.out, k=args.k or 20, seed=args.seed))
        )
        return 0
    from benchmarks.main_job import run_bench

    run_bench(
        out_dir=Path(args.out),
        episodes=args.episodes,
        splits=args.splits,
        seed=args.seed,
        workers=args.workers,
        policies=args.policies,
        assist=args.assist,
        compare_to=Path(args.compare) if args.compare else None,
        adherence=args.adherence,
        ray=args.ray,
    )
    return 0


def _cmd_track(args: argparse.Namespace) -> int:
    from benchmarks.mocap_demo import track_file

    track_file(
        Path(args.file),
        out=Path(args.out),
        asf=Path(args.asf) if args.asf else None,
        reference_frame=args.reference_frame,
        repair_spikes=args.repair_spikes,
    )
    return 0


def _cmd_scenes(args: argparse.Namespace) -> int:
    from navenv import scene_commands

    return scene_commands.run(args)


def _cmd_tracks(args: argparse.Namespace) -> int:
    from navenv.tracks import summary

    return summary.run(args)


def _cmd_data(args: argparse.Namespace) -> int:
    from policies.data import cli as data_cli

    return data_cli.run(args)


def _cmd_train_behavior(args: argparse.Namespace) -> int:
    if args.data is not None:
        return _cmd_train_room_stage(args)
    if args.tracks is None or args.stage != "path":
        raise SystemExit(
            "navenv train behavior: give --data DIR --val DIR (a room dataset, any --stage) or "
            "--tracks DIR (pedestrian tracks, --stage path)"
        )
    from navenv.tracks import load_track_dir, scene_group
    from policies.behavior import PathConfig
    from policies.behavior.train_tracks import PathTrainConfig, train_path

    files = load_track_dir(args.tracks)
    if args.holdout:
        files = [f for f in files if scene_group(f.scene) != args.holdout]
        if not files:
            raise SystemExit(
                f"navenv train behavior: every file of {args.tracks} is {args.holdout!r}"
            )
    cfg = PathTrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr)
    extra = f"Command: `navenv train behavior {' '.join(sys.argv[3:])}`. Files: "
    extra += ", ".join(f.name for f in files) + ".\n"
    s = train_path(
        PathConfig(size=args.size), files, args.out, cfg, resume=args.resume, card_extra=extra
    )
    print(
        f"best val minADE@20 {s['best']['val_ade']:.3f} m at step {s['best']['step']} ({s['seconds']:.0f} s)"
    )
    return 0


def _cmd_train_room_stage(args: argparse.Namespace) -> int:
    from policies.behavior.stages import StageConfig
    from policies.behavior.train_room import RoomTrainConfig, train_stage

    if args.val is None:
        raise SystemExit("navenv train behavior --data: also give --val DIR (rooms_val data)")
    model_cfg = StageConfig(
        stage=args.stage,
        size=args.size,
        use_past=not args.no_past,
        use_observer=not args.no_observer,
        use_scene=not args.no_scene,
        control=not args.no_control,
    )
    cfg = RoomTrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        max_episodes=args.max_episodes,
        eval_every=args.eval_every,
        checkpoint_every=args.eval_every,
    )
    command = "navenv train behavior " + " ".join(sys.argv[3:])
    s = train_stage(
        model_cfg, args.data, args.val, args.out, cfg, resume=args.resume, command=command
    )
    print(
        f"{args.stage}: best val loss {s['best']['val_loss']:.4f} at step {s['best']['step']} "
        f"({s['seconds']:.0f} s); model in {args.out}/model"
    )
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.method == "behavior":
        return _cmd_train_behavior(args)
    from policies.climb_diffusion import train as climb_train

    argv = (
        sys.argv[sys.argv.index("climb-diffusion") + 1 :] if "climb-diffusion" in sys.argv else []
    )
    return climb_train.run_from_args(args, " ".join(["navenv train climb-diffusion", *argv]))


def _cmd_eval(args: argparse.Namespace) -> int:
    from benchmarks import climb_eval

    return climb_eval.run_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="navenv", description="Embodied SMPL humanoids in real places."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="the main job, quick: policies on train and test splits -> report with table, figure, video",
    )
    demo.add_argument(
        "--out", default="reports/demo", help="report directory (default: reports/demo)"
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--full", action="store_true", help="the full suite (same as `navenv bench`)")
    demo.set_defaults(func=_cmd_demo)

    bench = sub.add_parser("bench", help="the full benchmark suite over every split")
    bench.add_argument(
        "suite",
        nargs="?",
        choices=("climb", "forecast", "behavior"),
        default="climb",
        help="climb (default): policies on the climbing splits; forecast: pedestrian tracks; "
        "behavior: goal/path/body forecasting on held-out rooms",
    )
    bench.add_argument("--data", nargs="+", default=None, help="behavior: room test datasets")
    bench.add_argument(
        "--runs", default=None, help="behavior: folder of stage runs (default: shipped models)"
    )
    bench.add_argument(
        "--train-data", default=None, help="behavior: training data (nearest-clip baseline)"
    )
    bench.add_argument("--trials", type=int, default=12, help="behavior: independent draws")
    bench.add_argument("--windows", type=int, default=128, help="behavior: windows per split")
    bench.add_argument(
        "--rows",
        nargs="+",
        default=None,
        help="behavior: model rows to score (default: all of full, one-stage, 'w/o scene', "
        "'w/o observer', 'w/o past' that have models)",
    )
    bench.add_argument(
        "--steps",
        type=int,
        default=None,
        help="behavior: reverse steps per stage (default: the models' 50-step DDPM; fewer: DDIM)",
    )
    bench.add_argument("--tracks", default=None, help="forecast: a folder (or file) of tracks")
    bench.add_argument(
        "--model", default=None, help="forecast: a path-model checkpoint (default: shipped)"
    )
    bench.add_argument(
        "--k", type=int, default=None, help="samples per window (forecast 20, behavior 16)"
    )
    bench.add_argument("--out", default="reports/bench")
    bench.add_argument("--episodes", type=int, default=8, help="episodes per policy and split")
    bench.add_argument(
        "--splits",
        nargs="*",
        default=None,
        type=_bench_split,
        choices=BENCH_SPLITS,
        help="climbing splits to run (default: train and every test split)",
    )
    bench.add_argument(
        "--policies",
        "--policy",
        dest="policies",
        nargs="+",
        action="extend",  # `--policy a --policy b` runs both
        default=None,
        metavar="NAME",
        help="policies to run: registry names (random, scripted_kinematic, scripted_physics, bc, "
        "climb_diffusion_kinematic, climb_diffusion_physics, "
        "`navenv.policies` entry points) or module.path:ClassName (default: the built-in three)",
    )
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--workers", type=int, default=0, help="worker processes (0: one per core)")
    bench.add_argument(
        "--ray",
        action="store_true",
        help="climb: run the episodes as Ray tasks (RAY_ADDRESS, else a local cluster; "
        "pip install 'navenv[ray]')",
    )
    bench.add_argument(
        "--assist",
        choices=("residual", "none", "both"),
        default="residual",
        help="assist of physics policies; both: a row for each (default: residual)",
    )
    bench.add_argument(
        "--compare", default=None, metavar="RESULTS_JSON", help="print the change from a run"
    )
    bench.add_argument(
        "--adherence",
        action="store_true",
        help="score every policy's body against the expert's plan for the same route and seed "
        "(MPJPE / PA-MPJPE; plans the expert once per episode)",
    )
    bench.set_defaults(func=_cmd_bench)

    track = sub.add_parser(
        "track", help="import a BVH or ASF/AMC file, track it with the humanoid, write an mp4"
    )
    track.add_argument("file", help=".bvh file, or .amc file (with --asf)")
    track.add_argument("--asf", default=None, help="the .asf skeleton for an .amc file")
    track.add_argument("--out", default="reports/track", help="output directory")
    track.add_argument(
        "--reference-frame",
        default="auto",
        choices=["auto", "keep", "drop"],  # navenv.mocap.REFERENCE_FRAME_MODES, kept import-free
        help="a leading reference T-pose frame: auto drops it when detected (default)",
    )
    track.add_argument(
        "--repair-spikes",
        action="store_true",
        help="interpolate one-frame spikes (they are always detected and listed)",
    )
    track.set_defaults(func=_cmd_track)

    scenes = sub.add_parser("scenes", help="list, show, import and render scenes")
    scenes_sub = scenes.add_subparsers(dest="scenes_command", metavar="SUBCOMMAND", required=True)
    scenes_sub.add_parser("list", help="list builtin scenes and splits")
    show = scenes_sub.add_parser("show", help="summary of a scene (builtin id or path)")
    show.add_argument("scene")
    imp = scenes_sub.add_parser(
        "import", help="import a mesh or point cloud (OBJ, PLY, STL, GLB/GLTF) as a scene"
    )
    imp.add_argument("mesh")
    imp.add_argument("--out", required=True, help="scene directory to write")
    imp.add_argument("--kind", default="climbing_wall", choices=["climbing_wall", "room"])
    imp.add_argument("--up", default="auto", choices=["auto", "x", "y", "z"])
    imp.add_argument("--scale", default="1.0", help="metres per unit, or 'auto'")
    imp.add_argument(
        "--holds", default="detect", help="detect | generate | none | path to a holds JSON"
    )
    imp.add_argument(
        "--allow-no-routes",
        action="store_true",
        help="write a climbing wall on which no route could be set (with a warning) "
        "instead of failing",
    )
    render = scenes_sub.add_parser("render", help="render a scene from its tripod camera to a PNG")
    render.add_argument("scene")
    render.add_argument("--out", required=True)
    render.add_argument("--width", type=int, default=640)
    render.add_argument("--height", type=int, default=480)
    scenes.set_defaults(func=_cmd_scenes)

    tracks = sub.add_parser("tracks", help="real pedestrian tracks (ETH/UCY `frame ped_id x y`)")
    tracks_sub = tracks.add_subparsers(dest="tracks_command", metavar="SUBCOMMAND", required=True)
    tracks_info = tracks_sub.add_parser(
        "info", help="per file: pedestrians, segments, duration, 8->12 windows, mean speed"
    )
    tracks_info.add_argument("path", help="a track .txt file or a directory of them")
    tracks.set_defaults(func=_cmd_tracks)

    data = sub.add_parser("data", help="generate and export the synthetic climbing dataset")
    data_sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    gen = data_sub.add_parser("generate", help="run the scripted expert and store sharded episodes")
    gen.add_argument(
        "--env",
        choices=["climb", "room"],
        default="climb",
        help="climb: the scripted climber on walls; room: scripted agents in RoomNav-v0",
    )
    gen.add_argument("--split", default=None, help="default: train (climb), rooms_train (room)")
    gen.add_argument("--episodes", type=int, default=32)
    gen.add_argument("--out", required=True)
    gen.add_argument("--shard-size", type=int, default=None, help="episodes per shard")
    gen.add_argument("--width", type=int, default=None, help="default 64 (climb), 32 (room)")
    gen.add_argument("--height", type=int, default=None, help="default 64 (climb), 32 (room)")
    gen.add_argument("--fps", type=float, default=None, help="default 30 (climb), 10 (room)")
    gen.add_argument(
        "--episode-seconds", type=float, default=60.0, help="room: seconds per episode"
    )
    gen.add_argument(
        "--videos", action="store_true", help="room: store ego and observer camera videos"
    )
    gen.add_argument(
        "--observer-in-way",
        type=float,
        default=0.0,
        help="room: share of episodes whose observer stands on the agent's way (0-1)",
    )
    gen.add_argument(
        "--workers", type=int, default=0, help="local worker processes (0: one per core)"
    )
    gen.add_argument(
        "--ray",
        action="store_true",
        help="run the tasks on a Ray cluster (pip install 'navenv[ray]')",
    )
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument(
        "--clip-seconds",
        type=float,
        default=5.0,
        help="seconds per stored episode (a clip of a climb)",
    )
    gen.add_argument(
        "--clips-per-plan", type=int, default=4, help="clips cut from each planned climb"
    )
    gen.add_argument(
        "--max-penetration",
        type=float,
        default=0.02,
        metavar="M",
        help="a plan deeper than this (m) anywhere is replaced by another route's; "
        "a negative value keeps every plan",
    )
    gen.add_argument(
        "--planner",
        default=None,
        help="module:function that plans a climb (default: the scripted expert)",
    )
    info = data_sub.add_parser("info", help="summarise and verify a dataset directory")
    info.add_argument("dir")
    mini = data_sub.add_parser("to-minari", help="export environment episodes as a Minari dataset")
    mini.add_argument("dir", help="dataset directory written by `navenv data generate`")
    mini.add_argument("--dataset-id", default="navenv/climb-scripted-v0")
    mini.add_argument(
        "--minari-root", default=None, help="where Minari stores datasets (default: its own)"
    )
    enc = data_sub.add_parser(
        "encode",
        help="encode a dataset's frames with a frozen image encoder into a token cache "
        "(resumes a killed run)",
    )
    enc.add_argument("dir", help="dataset directory written by `navenv data generate`")
    enc.add_argument("--encoder", default="navenv-cnn", choices=["navenv-cnn", "dinov2"])
    enc.add_argument(
        "--encoder-path",
        default=None,
        metavar="P",
        help="dinov2: local Hugging Face DINOv2 directory (required; nothing is downloaded); "
        "navenv-cnn: another checkpoint directory (default: the shipped weights)",
    )
    enc.add_argument(
        "--out", default=None, help="cache directory (default: DIR/encoded/<encoder name>)"
    )
    enc.add_argument("--ego", action="store_true", help="also encode the ego videos")
    enc.add_argument(
        "--fps-stride", type=int, default=1, help="keep every n-th video frame (default: all)"
    )
    enc.add_argument("--batch", type=int, default=64, help="frames per encoder call")
    enc.add_argument("--device", default="cpu", help="torch device of the encoder")
    enc.add_argument(
        "--overwrite",
        action="store_true",
        help="re-encode a cache made with other weights, settings or data",
    )
    data.set_defaults(func=_cmd_data)

    train = sub.add_parser("train", help="train a learned method on a dataset")
    train_sub = train.add_subparsers(dest="method", metavar="METHOD", required=True)
    from policies.climb_diffusion.cli_args import add_train_arguments

    add_train_arguments(
        train_sub.add_parser("climb-diffusion", help="the video-to-motion diffusion transformer")
    )
    beh = train_sub.add_parser(
        "behavior",
        help="a behaviour-model stage: on a room dataset (--data, --val) or, the path stage, on "
        "pedestrian tracks (--tracks)",
    )
    beh.add_argument("--stage", choices=["goal", "path", "body", "onestage"], default="path")
    beh.add_argument("--data", default=None, help="room dataset (navenv data generate --env room)")
    beh.add_argument("--val", default=None, help="room dataset of other rooms, for selection")
    beh.add_argument("--tracks", default=None, help="folder of ETH/UCY track files")
    beh.add_argument("--holdout", default=None, help="scene group left out (leave-one-scene-out)")
    beh.add_argument("--out", required=True)
    beh.add_argument("--size", choices=["tiny", "small", "ats"], default="small")
    beh.add_argument("--steps", type=int, default=3000)
    beh.add_argument("--batch-size", type=int, default=128)
    beh.add_argument("--lr", type=float, default=1e-3)
    beh.add_argument("--eval-every", type=int, default=250, help="room stages: val every N steps")
    beh.add_argument("--max-episodes", type=int, default=None, help="room: first N episodes")
    for flag in ("past", "observer", "scene"):
        beh.add_argument(f"--no-{flag}", action="store_true", help=f"ablation: no {flag} input")
    beh.add_argument("--no-control", action="store_true", help="no ControlNet branch (path/body)")
    beh.add_argument("--resume", action="store_true")
    train.set_defaults(func=_cmd_train)
    evaluate = sub.add_parser("eval", help="offline evaluation of a learned method")
    eval_sub = evaluate.add_subparsers(dest="method", metavar="METHOD", required=True)
    from benchmarks.climb_eval_args import add_eval_arguments

    add_eval_arguments(
        eval_sub.add_parser("climb-diffusion", help="video-to-motion adherence on the splits")
    )
    evaluate.set_defaults(func=_cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `navenv` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (
        ValueError,
        FileNotFoundError,
        KeyError,
    ) as e:  # bad input: one clear line, no traceback
        print(f"navenv {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

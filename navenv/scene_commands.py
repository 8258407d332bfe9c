"""`navenv scenes ...`: list, show, import and render scenes (used by navenv.cli)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import scenes


def run(args: argparse.Namespace) -> int:
    """Dispatch a `navenv scenes` subcommand."""
    return {"list": _list, "show": _show, "import": _import, "render": _render}[
        args.scenes_command
    ](args)


def _list(args: argparse.Namespace) -> int:
    print("builtin scenes:")
    for name in scenes.list_builtin():
        s = scenes.load(name)
        print(f"  {name:<22} {s.kind:<14} {len(s.holds):>4} holds {len(s.routes):>2} routes")
    print("splits (generated on demand):")
    for name in scenes.splits.names():
        print(f"  {name:<22} {len(scenes.splits.get(name)):>3} scenes")
    return 0


def describe(scene: scenes.Scene) -> str:
    """A few lines about a scene: kind, size, holds, routes, cameras, provenance."""
    lines = [
        f"{scene.name}: {scene.kind}, format v{scene.version}, units {scene.units}, up {scene.up}"
    ]
    prims = sum(isinstance(g, scenes.Primitive) for g in scene.geometry)
    lines.append(f"geometry: {prims} primitives, {len(scene.geometry) - prims} meshes")
    if scene.holds:
        pos = np.array([h.position for h in scene.holds])
        kinds = {k: sum(h.kind == k for h in scene.holds) for k in scenes.HOLD_KINDS}
        lines.append(
            f"holds: {len(scene.holds)} ({', '.join(f'{k} {n}' for k, n in kinds.items() if n)}); span {np.ptp(pos, axis=0).round(2).tolist()} m"
        )
    for r in scene.routes:
        lines.append(f"route {r.id} {r.name!r}: grade {r.grade}, {len(r.holds)} holds, top {r.top}")
    for c in scene.cameras:
        lines.append(
            f"camera {c.name}: {c.width}x{c.height} at {list(c.pos)} looking at {list(c.lookat)}"
        )
    if scene.regions:
        lines.append("regions: " + ", ".join(sorted({r.label for r in scene.regions})))
    md = scene.metadata
    lines.append(
        f"source: {md.source}, licence {md.licence}, seed {md.seed}, generator {md.generator} {md.generator_version or ''}"
    )
    lines += [f"fix: {f}" for f in md.fixes]
    return "\n".join(lines)


def _show(args: argparse.Namespace) -> int:
    print(describe(scenes.load(args.scene)))
    return 0


def _import(args: argparse.Namespace) -> int:
    scale = args.scale if args.scale == "auto" else float(args.scale)
    scene = scenes.import_mesh(
        args.mesh, kind=args.kind, up=args.up, scale=scale, holds=args.holds, out_dir=args.out
    )
    path = scenes.save(scene, args.out)
    print(describe(scene))
    print(f"saved {path}")
    return 0


def render_scene(scene: scenes.Scene, width: int = 640, height: int = 480) -> np.ndarray:
    """(H, W, 3) uint8 picture of a scene from its first camera, holds in their route colours."""
    import mujoco

    from navenv.render import make_renderer
    from navenv.world import scene_spec

    model = scene_spec(scene).compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    with make_renderer(model, width, height) as renderer:
        return renderer.render(data, camera=scene.cameras[0].name if scene.cameras else None)


def _render(args: argparse.Namespace) -> int:
    import imageio.v3 as iio

    image = render_scene(scenes.load(args.scene), args.width, args.height)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(out, image)
    print(f"wrote {out} ({image.shape[1]}x{image.shape[0]})")
    return 0

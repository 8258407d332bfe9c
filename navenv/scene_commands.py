"""`navenv scenes ...`: list, show, import and render scenes (used by navenv.cli)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import scenes
from scenes.errors import NoRoutesError


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
    """A few lines about a scene: kind, size, holds, sectors, routes, cameras, provenance."""
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
    for sec in scene.sectors:
        routes = [r.id for r in scene.routes if r.sector == sec.id]
        lines.append(
            f"sector {sec.id} {sec.name!r}: {sec.kind}, {sec.angle_deg:+.1f} deg from vertical, "
            f"{sec.width:.1f} m wide x {sec.height:.2f} m tall ({sec.area:.1f} m^2), "
            f"{len(sec.holds)} holds, routes: {', '.join(routes) or 'none'}"
            + (f", camera {sec.camera}" if sec.camera else "")
        )
    for r in scene.routes:
        on = f" on sector {r.sector}" if r.sector is not None else ""
        lines.append(
            f"route {r.id} {r.name!r}{on}: grade {r.grade}, {len(r.holds)} holds, top {r.top}"
        )
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
    try:
        scene = _import_scene(args, scale)
    except NoRoutesError as e:  # the same message, with the flag's spelling
        text = str(e).replace("allow_no_routes=True", "--allow-no-routes")
        print(f"navenv scenes import: error: {text}", file=sys.stderr)
        return 2
    path = scenes.save(scene, args.out)
    print(describe(scene))
    print(f"saved {path}")
    return 0


def _import_scene(args: argparse.Namespace, scale) -> scenes.Scene:
    """`scenes.import_mesh` with the command's arguments."""
    return scenes.import_mesh(
        args.mesh,
        kind=args.kind,
        up=args.up,
        scale=scale,
        holds=args.holds,
        out_dir=args.out,
        allow_no_routes=getattr(args, "allow_no_routes", False),
    )


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

"""Scaling tables and plot for ClimbDiffusion from an evaluation's results.json.

    python -m benchmarks.climb_scaling runs/eval/results.json --out docs/images/climb_scaling.png

Models are labelled by what they vary (the labels `navenv eval climb-diffusion --model
LABEL=DIR` was given): data size at the small model (`data_N`), model size at all the data
(`size_NAME`), and route prompt (`context_MODE`). Prints one markdown table per axis with
global MPJPE (best-of-K, mm) per split next to nearest-neighbour retrieval, and draws them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

AXES = {
    "data": ("training episodes", lambda s: int(s)),
    "size": ("model size", lambda s: ["tiny", "small", "medium", "base", "large"].index(s)),
    "context": ("route prompt", lambda s: ["none", "start", "all"].index(s)),
}


def axis_rows(results: dict, axis: str, metric: str = "mpjpe_mm") -> list[tuple[str, dict]]:
    """(value, {split: metric}) for the models of one axis, in axis order."""
    prefix = f"{axis}_"
    labels = {m for split in results.values() for m in split if m.startswith(prefix)}
    key = AXES[axis][1]
    rows = []
    for label in sorted(labels, key=lambda m: key(m[len(prefix) :])):
        rows.append((label[len(prefix) :], {s: v[label][metric] for s, v in results.items()}))
    return rows


def table(results: dict, axis: str, params: dict[str, int]) -> str:
    """Markdown: one row per model of the axis, one column per split, then the NN baseline."""
    splits = list(results)
    head = f"| {AXES[axis][0]} | " + " | ".join(splits) + " |"
    lines = [head, "|" + "---|" * (len(splits) + 1)]
    for value, per in axis_rows(results, axis):
        name = f"{value} ({params[f'{axis}_{value}']:,} params)" if axis == "size" else value
        lines.append(f"| {name} | " + " | ".join(f"{per[s]:.0f}" for s in splits) + " |")
    nn = [results[s]["nearest_neighbour"]["mpjpe_mm"] for s in splits]
    lines.append("| nearest neighbour | " + " | ".join(f"{v:.0f}" for v in nn) + " |")
    return "\n".join(lines)


def plot(results: dict, out: Path) -> None:
    """Three panels (data, size, context): MPJPE per split against the axis, retrieval dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=False)
    for ax, axis in zip(axes, AXES):
        rows = axis_rows(results, axis)
        xs = [r[0] for r in rows]
        for split in results:
            (line,) = ax.plot(xs, [r[1][split] for r in rows], marker="o", label=split)
            if (
                axis != "context"
            ):  # the prompt-less model is off this scale; retrieval would flatten it
                nn = results[split]["nearest_neighbour"]["mpjpe_mm"]
                ax.axhline(nn, color=line.get_color(), linestyle="--", linewidth=0.8)
        ax.set_xlabel(AXES[axis][0])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("global MPJPE, best of K (mm)")
    axes[-1].legend(fontsize=7)
    fig.suptitle("ClimbDiffusion scaling (lower is better; dashed: nearest-neighbour retrieval)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> int:
    """Print the tables and write the plot."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results")
    p.add_argument("--out", default="docs/images/climb_scaling.png")
    p.add_argument(
        "--alias",
        nargs="*",
        default=[],
        metavar="LABEL=A,B",
        help="a model that stands on several axes, e.g. "
        "climb_diffusion_small=data_1888,size_small,context_all",
    )
    args = p.parse_args(argv)
    payload = json.loads(Path(args.results).read_text())
    results, params = payload["results"], payload.get("parameters", {})
    for item in args.alias:
        label, _, names = item.partition("=")
        for name in names.split(","):
            params[name] = params.get(label, 0)
            for split in results.values():
                split[name] = split[label]
    for axis in AXES:
        if axis_rows(results, axis):
            print(table(results, axis, params) + "\n")
    plot(results, Path(args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Arguments of `navenv train climb-diffusion`, torch-free so `navenv --help` stays instant."""

from __future__ import annotations

import argparse

SIZES = ("tiny", "small", "medium", "base", "large")
"""policies.climb_diffusion.config.PRESETS' names (tests keep them in step)."""


def add_train_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the arguments of `navenv train climb-diffusion` (also `python -m ...train`) to p."""
    p.add_argument(
        "--data", required=True, help="training dataset directory (navenv data generate)"
    )
    p.add_argument("--val", default=None, help="validation dataset directory (split val)")
    p.add_argument("--config", default="small", choices=SIZES, help="model size")
    p.add_argument(
        "--out", required=True, help="run directory (checkpoint/, model/, metrics.jsonl)"
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--init",
        default=None,
        help="start from this checkpoint's weights and normaliser (shipped name or model "
        "directory of the same architecture); a fresh schedule, unlike --resume",
    )
    p.add_argument("--max-episodes", type=int, default=None, help="use the first N episodes")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    p.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="FIELD=VALUE",
        help="override config fields, e.g. --set steps=2000 lr=1e-4 context=start",
    )
    return p


def parse_assignments(items: list[str], flag: str = "--set") -> dict:
    """FIELD=VALUE strings as a dict, each value parsed as JSON when it is JSON (else the
    string); `flag` names the option in the error."""
    import json

    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"{flag} {item!r}: expected FIELD=VALUE")
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out

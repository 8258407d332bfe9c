"""Where the shipped scenes live (scenes/assets/<id>/scene.json) and which ids there are.

The lowest of the scene-file modules: `scenes.io` resolves builtin ids here, and `scenes.builtin`
(which also needs io and the splits, to regenerate the files) builds on it.
"""

from __future__ import annotations

from pathlib import Path


def assets_dir() -> Path:
    """The directory holding the shipped scenes."""
    return Path(__file__).with_name("assets")


def list_builtin() -> list[str]:
    """Ids of the shipped scenes, sorted (each loads with `scenes.load(id)`)."""
    root = assets_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "scene.json").is_file())

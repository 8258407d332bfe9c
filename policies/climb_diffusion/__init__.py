"""ClimbDiffusion: SABR-CLIMB's video-to-motion diffusion transformer, trained on our dataset.

config.py (`ClimbDiffusionConfig`, size presets), model.py (`ClimbDiT`: alternating spatial /
temporal adaLN-Zero blocks), diffusion.py (`ClimbDiffusionModel`: normaliser, frozen encoder,
diffusers samplers; importing it registers the method "climb_diffusion" for
`policies.load_pretrained`), data.py (dataset windows + tokens -> batches), baselines.py
(nearest-neighbour retrieval, mean motion), train.py (the loop, DDP via torchrun), cli_args.py
(the command's arguments, torch-free so `navenv --help` stays instant); policy.py
(`ClimbDiffusionPolicy`: the model as a closed-loop `policies.Policy` in ClimbRoute-v0, with
receding.py (chunk schedule and hand-over) and grounding.py (contacts and IK onto holds)).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS", "ClimbDiffusionConfig", "ClimbDiffusionModel", "ClimbDiffusionPolicy"]


def __getattr__(name: str) -> Any:
    # torch is imported only when the model is asked for, not by `navenv --help`
    if name in ("PRESETS", "ClimbDiffusionConfig"):
        from policies.climb_diffusion import config

        return getattr(config, name)
    if name == "ClimbDiffusionModel":
        from policies.climb_diffusion.diffusion import ClimbDiffusionModel

        return ClimbDiffusionModel
    if name == "ClimbDiffusionPolicy":
        from policies.climb_diffusion.policy import ClimbDiffusionPolicy

        return ClimbDiffusionPolicy
    raise AttributeError(f"module 'policies.climb_diffusion' has no attribute {name!r}")

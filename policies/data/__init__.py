"""The synthetic climbing dataset: generation from the scripted expert, sharded storage, readers.

- `GenerateConfig`, `generate(config, out, workers=, use_ray=)`: episodes -> shards + manifest
  (resumable; local worker processes or Ray).
- `ClimbShards`, `ClimbDataset`, `ClimbIterableDataset`: read them (PyTorch, streaming).
- `export_minari(dir, dataset_id)`: replay stored episodes through ClimbRoute-v0 into Minari.
See `policies.data.store` for the on-disk format.
"""

from policies.data.dataset import ClimbDataset, ClimbIterableDataset, ClimbShards
from policies.data.generate import GenerateConfig, GenerateSummary, generate, make_tasks
from policies.data.store import DatasetConfigError, DatasetError

__all__ = [
    "ClimbDataset",
    "ClimbIterableDataset",
    "ClimbShards",
    "DatasetConfigError",
    "DatasetError",
    "GenerateConfig",
    "GenerateSummary",
    "generate",
    "make_tasks",
]

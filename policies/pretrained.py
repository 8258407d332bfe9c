"""Checkpoint I/O for learned methods: a directory of safetensors weights, a JSON config and a card.

A checkpoint directory holds

- ``model.safetensors``: the policy's state dict (weights and normaliser buffers), torch tensors,
  written with the `safetensors` library (never pickles: loading one cannot run code);
- ``config.json``: ``{"method": NAME, "config": {dataclass fields}, "navenv_version": V,
  "format": 1}``; NAME is a method registered with `register_method`;
- ``README.md``: the model card (data, training steps, figures), text given to `save_pretrained`.

`save_pretrained` writes the three files into a temporary directory next to the target and renames
it into place, so a reader never sees half a checkpoint. `load_pretrained` takes a shipped name
(``policies/checkpoints/<name>/``, package data) or a directory path, checks every file before it
builds anything, and raises `CheckpointError` (a ValueError) naming the file, the problem and what
is accepted. A method is a (config dataclass, build function) pair: ``build(config)`` returns the
policy module whose state dict the weights fill. torch and safetensors are imported when a
checkpoint is saved or loaded, not when this module is.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from scenes.atomic import write_atomic

FORMAT = 1
"""The checkpoint format version this module writes and reads."""
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")
"""Weight files in pickle-based formats (torch.save, pickle): refused, never opened."""
_ACCEPTED = (
    f"a checkpoint directory with {WEIGHTS_FILE} (safetensors), {CONFIG_FILE} and {CARD_FILE}, "
    "as written by policies.save_pretrained"
)
# Methods whose module registers them when imported; imported on first use so that loading a
# checkpoint by method name needs no import by the caller.
_BUILTIN_METHOD_MODULES = {
    "bc": "policies.bc",
    "behavior_path": "policies.behavior.path",
    "behavior_stage": "policies.behavior.stages",
    "climb_diffusion": "policies.climb_diffusion.diffusion",
    "navenv-cnn": "policies.encoders.cnn",
}


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded: the message names the path and the problem."""


@dataclass(frozen=True)
class Method:
    """A learned method: its config dataclass and ``build(config) -> policy module``."""

    name: str
    config_cls: type
    build: Callable[[Any], Any]


_METHODS: dict[str, Method] = {}


def register_method(
    name: str, config_cls: type, build: Callable[[Any], Any], *, overwrite: bool = False
) -> Method:
    """Register a learned method for `load_pretrained` (re-registering the same pair is a no-op)."""
    if not dataclasses.is_dataclass(config_cls) or not isinstance(config_cls, type):
        raise TypeError(f"method {name!r}: config_cls must be a dataclass type, got {config_cls!r}")
    method = Method(name, config_cls, build)
    old = _METHODS.get(name)
    if old is not None and old != method and not overwrite:
        raise ValueError(
            f"method {name!r} is already registered; pass overwrite=True to replace it"
        )
    _METHODS[name] = method
    return method


def list_methods() -> list[str]:
    """Names of the registered methods and of the built-in ones (registered on first use)."""
    return sorted(set(_METHODS) | set(_BUILTIN_METHOD_MODULES))


def get_method(name: str) -> Method:
    """The registered method `name` (built-in methods are imported on demand)."""
    if name not in _METHODS and name in _BUILTIN_METHOD_MODULES:
        importlib.import_module(_BUILTIN_METHOD_MODULES[name])
    if name not in _METHODS:
        raise KeyError(name)
    return _METHODS[name]


def shipped_checkpoints() -> list[str]:
    """Names of the checkpoints shipped in policies/checkpoints/."""
    root = resources.files("policies") / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / CONFIG_FILE).is_file())


# ---------------------------------------------------------------- save
def save_pretrained(
    policy: Any,
    directory: str | os.PathLike,
    *,
    card: str,
    method: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write `policy` (with ``.config`` and ``state_dict()``) as a checkpoint directory; returns it.

    `method` defaults to the policy's ``method`` attribute; `card` is the README.md model card.
    """
    from safetensors.torch import save as save_tensors

    import navenv

    name = method or getattr(policy, "method", None)
    if not isinstance(name, str):
        raise ValueError(
            f"save_pretrained: no method name (pass method=, or give {type(policy).__name__} "
            "a `method` attribute)"
        )
    try:
        spec = get_method(name)
    except KeyError:
        raise ValueError(
            f"save_pretrained: method {name!r} is not registered; known: {list_methods()}"
        ) from None
    config = getattr(policy, "config", None)
    if not isinstance(config, spec.config_cls):
        raise TypeError(
            f"save_pretrained: policy.config is {type(config).__name__}, method {name!r} "
            f"expects {spec.config_cls.__name__}"
        )
    if not isinstance(card, str) or not card.strip():
        raise ValueError("save_pretrained: card must be the model card text (README.md)")
    # safetensors refuses shared or non-contiguous storage: give it private CPU copies
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in policy.state_dict().items()}
    meta = {
        "method": name,
        "config": dataclasses.asdict(config),
        "navenv_version": navenv.__version__,
        "format": FORMAT,
    }
    files = {
        # one metadata key: safetensors keeps metadata in a hash map, so several keys would be
        # written in a random order and the same weights would not give the same bytes
        WEIGHTS_FILE: save_tensors(tensors, metadata={"format": "pt"}),
        CONFIG_FILE: (json.dumps(meta, indent=2) + "\n").encode(),
        CARD_FILE: card.encode(),
    }
    return write_directory(Path(directory), files, overwrite)


def write_directory(target: Path, files: dict[str, bytes], overwrite: bool) -> Path:
    """Write `files` (name -> bytes) as directory `target` atomically: all of them, or none."""
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target}: exists and is not a directory")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: a checkpoint is already there; pass overwrite=True")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the checkpoint from other users
        for name, data in files.items():
            write_atomic(tmp / name, data)
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# ---------------------------------------------------------------- load
def checkpoint_path(name_or_dir: str | os.PathLike) -> Path:
    """The directory a shipped checkpoint name or a path names (checked to exist)."""
    if (
        isinstance(name_or_dir, str)
        and name_or_dir
        and not any(sep in name_or_dir for sep in ("/", os.sep))
    ):
        shipped = resources.files("policies") / "checkpoints" / name_or_dir
        if shipped.is_dir():
            return Path(str(shipped))
        if not Path(name_or_dir).exists():
            raise CheckpointError(
                f"{name_or_dir!r}: no shipped checkpoint of that name (shipped: "
                f"{shipped_checkpoints() or 'none'}) and no such directory; pass a shipped "
                f"name or the path of {_ACCEPTED}"
            )
    path = Path(name_or_dir)
    if path.is_file():
        if path.suffix.lower() in PICKLE_SUFFIXES:
            raise CheckpointError(
                f"{path}: a {path.suffix} file is a pickle-based format, which can run code when "
                f"loaded; navenv loads only safetensors weights: expected {_ACCEPTED}"
            )
        raise CheckpointError(f"{path}: is a file; expected {_ACCEPTED}")
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such checkpoint directory; expected {_ACCEPTED}")
    return path


def load_config(name_or_dir: str | os.PathLike) -> tuple[Method, Any]:
    """The method and its validated config dataclass from a checkpoint's config.json."""
    directory = checkpoint_path(name_or_dir)
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(
            f"{path}: missing; a checkpoint needs {CONFIG_FILE} with "
            '{"method": ..., "config": {...}, "format": 1}'
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e}); expected a JSON object") from e
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(meta).__name__}")
    missing = [k for k in ("method", "config") if k not in meta]
    if missing:
        raise CheckpointError(
            f"{path}: lacks {missing}; expected keys method (a registered method name), "
            "config (its fields), navenv_version, format"
        )
    if meta.get("format", FORMAT) != FORMAT:
        raise CheckpointError(
            f"{path}: format {meta['format']!r} is not supported; this navenv reads format {FORMAT}"
        )
    name, fields = meta["method"], meta["config"]
    if not isinstance(name, str):
        raise CheckpointError(f"{path}: method must be a string, got {name!r}")
    try:
        method = get_method(name)
    except KeyError:
        raise CheckpointError(
            f"{path}: unknown method {name!r}; registered methods: {list_methods()} "
            "(a method registers itself with policies.register_method)"
        ) from None
    if not isinstance(fields, dict):
        raise CheckpointError(
            f"{path}: config must be a JSON object of {method.config_cls.__name__} fields"
        )
    accepted = [f.name for f in dataclasses.fields(method.config_cls) if f.init]
    unknown = sorted(set(fields) - set(accepted))
    if unknown:
        raise CheckpointError(
            f"{path}: config fields {unknown} are not fields of {method.config_cls.__name__} "
            f"(method {name!r}); accepted fields: {accepted}"
        )
    try:
        config = method.config_cls(**fields)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: invalid {method.config_cls.__name__}: {e}") from e
    return method, config


def load_pretrained(name_or_dir: str | os.PathLike, *, device: str = "cpu") -> Any:
    """The policy saved in a checkpoint (shipped name or directory), weights loaded, in eval mode."""
    directory = checkpoint_path(name_or_dir)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        pickles = sorted(p.name for p in directory.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            raise CheckpointError(
                f"{directory / pickles[0]}: a pickle-based weight file where {WEIGHTS_FILE} is "
                "expected; pickles can run code when loaded, so navenv reads safetensors only "
                "(convert with safetensors.torch.save_file)"
            )
        raise CheckpointError(f"{weights}: missing; expected {_ACCEPTED}")
    method, config = load_config(directory)
    _check_safetensors(weights)

    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(weights, device=device)
    except (SafetensorError, OSError, RuntimeError) as e:
        raise CheckpointError(f"{weights}: corrupt safetensors file ({e})") from e
    policy = method.build(config)
    _check_weights(weights, tensors, policy.state_dict(), method.name)
    policy.load_state_dict(tensors, strict=True)
    return policy.to(device).eval()


def _check_safetensors(path: Path) -> None:
    """Refuse pickles/zips by their magic bytes, and truncated or malformed safetensors files."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if head[:2] == b"PK":
            raise CheckpointError(
                f"{path}: is a zip archive (torch.save's format, which holds a pickle), not "
                "safetensors; navenv loads safetensors only (safetensors.torch.save_file)"
            )
        if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
            raise CheckpointError(
                f"{path}: is a pickle (protocol {head[1]}), not safetensors; pickles can run code "
                "when loaded, so navenv reads safetensors only (safetensors.torch.save_file)"
            )
        if len(head) < 8:
            raise CheckpointError(
                f"{path}: truncated ({size} bytes); a safetensors file starts "
                "with an 8-byte header length"
            )
        (n,) = struct.unpack("<Q", head)
        if n > size - 8:
            raise CheckpointError(
                f"{path}: truncated or not safetensors: header of {n} bytes declared, "
                f"{size - 8} present"
            )
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: corrupt safetensors header ({e})") from e
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt safetensors header (not a JSON object)")
    ends = [
        v["data_offsets"][1]
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v
    ]
    data = size - 8 - n
    if ends and max(ends) > data:
        raise CheckpointError(
            f"{path}: truncated: tensors need {max(ends)} data bytes, the file has {data}"
        )


def _check_weights(path: Path, tensors: dict, expected: dict, method: str) -> None:
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    shapes = {
        k: (tuple(tensors[k].shape), tuple(expected[k].shape))
        for k in sorted(set(tensors) & set(expected))
        if tuple(tensors[k].shape) != tuple(expected[k].shape)
    }
    if missing or unexpected or shapes:
        problems = []
        if missing:
            problems.append(f"missing {missing[:10]}")
        if unexpected:
            problems.append(f"unexpected {unexpected[:10]}")
        if shapes:
            problems.append(
                "shape mismatch "
                + ", ".join(
                    f"{k}: file {a} vs model {b}" for k, (a, b) in list(shapes.items())[:10]
                )
            )
        raise CheckpointError(
            f"{path}: weights do not match the model that method {method!r} builds from "
            f"{CONFIG_FILE}: {'; '.join(problems)}"
        )

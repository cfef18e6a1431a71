"""Read and write state dicts (PyTorch parameter names) in the Hub file layouts.

One canonical format serves every framework: ``model.safetensors`` (or shards with
``model.safetensors.index.json``) holding the Hugging Face PyTorch names. ``framework`` picks the
array type handed back ("pt" for torch tensors, "np" for numpy arrays), so TensorFlow and Flax
read the very same files through numpy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from albertlite.checkpoints.files import (
    MODEL_FILES,
    atomic_write,
    atomic_write_text,
    staged_directory,
    write_errors_as_os_errors,
)
from albertlite.checkpoints.hub import CheckpointNotFoundError, resolve_file
from albertlite.validation import dtype_kind

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
PT_WEIGHTS_NAME = "pytorch_model.bin"
PT_WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"
TF_WEIGHTS_NAME = "tf_model.h5"
FLAX_WEIGHTS_NAME = "flax_model.msgpack"

# Looked for in this order: the canonical format first, legacy formats only when it is absent.
WEIGHT_FILES = (
    SAFE_WEIGHTS_NAME,
    SAFE_WEIGHTS_INDEX_NAME,
    PT_WEIGHTS_NAME,
    PT_WEIGHTS_INDEX_NAME,
    TF_WEIGHTS_NAME,
    FLAX_WEIGHTS_NAME,
)


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be used (corrupt, unsafe, or not an ALBERT state dict)."""


def loaded_dtype(key: str, stored: str, model: str) -> str:
    """The dtype a checkpoint tensor takes in the model (dtype names as numpy spells them).

    A floating tensor takes the model's floating dtype (a float16 file loads into a float32 model); an integer or
    bool tensor keeps its own, so an integer buffer stays integer. A tensor of another kind than the model's entry is
    refused: casting a bool or integer tensor to floats (or weights to integers) would load something else than was
    saved, silently.
    """
    stored_kind, model_kind = dtype_kind(stored), dtype_kind(model)
    if stored_kind == model_kind:
        return model if stored_kind == "floating" else stored
    raise CheckpointError(
        f"Checkpoint tensor {key!r} has dtype {stored}, but the model's {key!r} is {model}: {stored_kind} values "
        f"cannot be loaded as {model_kind} ones. Was the checkpoint written for this model (config.json)?"
    )


def locate_weights(name_or_path: str | os.PathLike, **hub_kwargs: Any) -> tuple[str, list[Path]]:
    """The first weight format present and its files (shards resolved through their index)."""
    for name in WEIGHT_FILES:
        path = resolve_file(name_or_path, name, required=False, **hub_kwargs)
        if path is None:
            continue
        if name.endswith(".index.json"):
            return name, _resolve_shards(name_or_path, path, **hub_kwargs)
        return name, [path]
    raise CheckpointNotFoundError(f"No weights found for {str(name_or_path)!r}: expected one of {list(WEIGHT_FILES)}.")


def _resolve_shards(name_or_path: str | os.PathLike, index_path: Path, **hub_kwargs: Any) -> list[Path]:
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        shard_names = sorted(set(index["weight_map"].values()))
    except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as error:
        raise CheckpointError(f"{index_path} is not a valid shard index (weight_map missing): {error}") from error
    return [resolve_file(name_or_path, shard, **hub_kwargs) for shard in shard_names]


def read_safetensors(path: Path, framework: str = "np") -> dict[str, Any]:
    """All tensors of one safetensors file, as ``framework`` arrays ("pt" or "np")."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework=framework) as handle:
            return {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is not a readable safetensors file: {error}") from error


def read_pytorch_bin(path: Path) -> dict[str, Any]:
    """A pickled ``pytorch_model.bin``, loaded with ``weights_only=True`` so that no pickled code can run."""
    import pickle

    import torch

    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError, TypeError) as error:
        raise CheckpointError(
            f"Refusing to load {path}: it is not a plain tensor checkpoint ({_first_line(error)}). "
            "Only weights are read from pickle files (weights_only=True), so a file carrying code or "
            "arbitrary objects is rejected; convert it to model.safetensors from a trusted source."
        ) from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a state dict of tensors.")
    return state


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def read_weight_files(kind: str, files: list[Path], framework: str = "np") -> dict[str, Any]:
    """Merge the tensors of one format's files (shards) into a single dict."""
    state: dict[str, Any] = {}
    for path in files:
        if kind in (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME):
            state.update(read_safetensors(path, framework))
        elif kind in (PT_WEIGHTS_NAME, PT_WEIGHTS_INDEX_NAME):
            tensors = read_pytorch_bin(path)
            state.update(tensors if framework == "pt" else {k: _torch_to_numpy(v) for k, v in tensors.items()})
        elif kind == TF_WEIGHTS_NAME:
            from albertlite.checkpoints.tf_names import read_tf_h5

            state.update(_from_numpy(read_tf_h5(path), framework))
        elif kind == FLAX_WEIGHTS_NAME:
            from albertlite.checkpoints.flax_names import read_flax_msgpack

            state.update(_from_numpy(read_flax_msgpack(path), framework))
        else:
            raise CheckpointError(f"{path.name} is a {kind} file; read it with the legacy loader.")
    return state


def _from_numpy(state: dict[str, Any], framework: str) -> dict[str, Any]:
    if framework != "pt":
        return state
    import torch

    return {key: torch.from_numpy(value) for key, value in state.items()}


def _torch_to_numpy(tensor: Any) -> Any:
    import torch

    if tensor.dtype == torch.bfloat16:
        import ml_dtypes

        return tensor.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return tensor.numpy()


def write_safetensors(
    state: dict[str, Any],
    directory: str | os.PathLike,
    framework: str = "np",
    max_shard_bytes: int | None = None,
) -> list[Path]:
    """Write ``state`` as model.safetensors (or shards plus index when over ``max_shard_bytes``), atomically."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    shards = _split_shards(state, max_shard_bytes)
    names = (
        [SAFE_WEIGHTS_NAME]
        if len(shards) == 1
        else [f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))]
    )
    for name, shard in zip(names, shards):
        with write_errors_as_os_errors(directory / name):
            atomic_write(directory / name, lambda tmp, shard=shard: _save(shard, tmp, framework))
    for stale in (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME) if len(shards) > 1 else (SAFE_WEIGHTS_INDEX_NAME,):
        (directory / stale).unlink(missing_ok=True)
    if len(shards) > 1:
        weight_map = {key: name for name, shard in zip(names, shards) for key in shard}
        total = sum(_nbytes(v) for v in state.values())
        index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
        atomic_write_text(directory / SAFE_WEIGHTS_INDEX_NAME, json.dumps(index, indent=2) + "\n")
    return [directory / name for name in names]


def _save(state: dict[str, Any], path: Path, framework: str) -> None:
    metadata = {"format": "pt"}  # transformers refuses files without it
    if framework == "pt":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata=metadata)
    else:
        import numpy as np
        from safetensors.numpy import save_file

        save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(path), metadata=metadata)


def _nbytes(value: Any) -> int:
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    return int(value.numel() * value.element_size())


def _split_shards(state: dict[str, Any], max_shard_bytes: int | None) -> list[dict[str, Any]]:
    if not max_shard_bytes:
        return [state]
    shards: list[dict[str, Any]] = [{}]
    size = 0
    for key, value in state.items():
        nbytes = _nbytes(value)
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][key] = value
        size += nbytes
    return shards


def parse_shard_size(size: int | str | None) -> int | None:
    """A shard size in bytes from an int or a string such as "5GB", "200MB" or "1GiB" (None: no sharding)."""
    if size is None or isinstance(size, int):
        return size
    units = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
    text = size.strip().upper()
    for unit, factor in sorted(units.items(), key=lambda item: -len(item[0])):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"max_shard_size {size!r} is not a size: give bytes or e.g. '5GB', '200MB'.") from None


def save_model_directory(
    directory: str | os.PathLike,
    config: Any,
    class_name: str,
    state: dict[str, Any],
    *,
    framework: str,
    max_shard_size: int | str | None = None,
    write_weights: Any = None,
) -> Path:
    """What every framework's ``save_pretrained`` writes: config.json naming ``class_name`` and the weights.

    The config is written from a copy (the caller's stays as it was), and both replace the previous model files
    together, so a failed save leaves the old model loadable.

    Args:
        directory: the model directory (created when missing).
        config: the model's AlbertConfig.
        class_name: the PyTorch class name recorded in ``architectures``, whatever the framework.
        state: the weights under their PyTorch names (tied decoder keys left out).
        framework: "pt" or "np", the arrays' kind.
        max_shard_size: shard the safetensors into files of at most this size (see :func:`parse_shard_size`).
        write_weights: instead of safetensors, a function writing the weights into the staging directory.

    Returns:
        The directory.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"save_pretrained expects a directory, but {directory} is a file.")
    saved = config.copy(architectures=[class_name])
    with staged_directory(directory, replaces=MODEL_FILES) as staging:
        saved.save_pretrained(staging)
        if write_weights is not None:
            write_weights(staging)
        else:
            write_safetensors(state, staging, framework=framework, max_shard_bytes=parse_shard_size(max_shard_size))
    return directory

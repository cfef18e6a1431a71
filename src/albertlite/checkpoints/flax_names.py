"""Flax parameter names: the live rule between Flax paths and PyTorch state_dict names, and ``flax_model.msgpack``.

Flax parameters are a nested dict whose path, joined with dots, is the PyTorch state_dict name except for the
leaf: a Dense ``kernel`` is the PyTorch ``weight`` transposed (``[in, out]`` against ``[out, in]``), a LayerNorm
``scale`` and an Embed ``embedding`` are the PyTorch ``weight`` as they are. That single rule, below, converts in
both directions; it needs only numpy, so any framework can read a Flax file through it.

transformers 4.x saved Flax models as ``flax_model.msgpack`` (``flax.serialization.to_bytes`` of the params with
exactly this layout, e.g. ``albert/encoder/albert_layer_groups/0/albert_layers/0/attention/query/kernel``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

FlaxPath = tuple[str, ...]

# Flax leaf name -> PyTorch leaf name
_LEAF_TO_PT = {"kernel": "weight", "scale": "weight", "embedding": "weight", "bias": "bias"}


def flax_path_to_pt_name(path: FlaxPath) -> str:
    """``("albert", "pooler", "kernel")`` -> ``"albert.pooler.weight"``."""
    leaf = path[-1]
    if leaf not in _LEAF_TO_PT:
        raise ValueError(f"Flax parameter {'/'.join(path)} has an unknown leaf name {leaf!r}.")
    return ".".join((*path[:-1], _LEAF_TO_PT[leaf]))


def pt_shape(path: FlaxPath, flax_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The PyTorch shape of the Flax parameter at ``path``."""
    return tuple(reversed(flax_shape)) if path[-1] == "kernel" else tuple(flax_shape)


def to_pt_array(path: FlaxPath, value: Any) -> np.ndarray:
    """A Flax parameter as the PyTorch tensor (a writable numpy copy), kernels transposed."""
    array = np.asarray(value)
    # A copy: msgpack hands out read-only views, which torch.from_numpy refuses to share.
    return np.array(array.T if path[-1] == "kernel" else array, order="C", copy=True)


def from_pt_array(path: FlaxPath, value: Any) -> np.ndarray:
    """A PyTorch tensor (numpy) as the Flax parameter at ``path``, kernels transposed."""
    array = np.asarray(value)
    return np.ascontiguousarray(array.T) if path[-1] == "kernel" else array


def flatten(tree: Mapping[str, Any], prefix: FlaxPath = ()) -> dict[FlaxPath, Any]:
    """A nested dict as ``{path: leaf}``."""
    flat: dict[FlaxPath, Any] = {}
    for key, value in tree.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping):
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def unflatten(flat: Mapping[FlaxPath, Any]) -> dict[str, Any]:
    """``{path: leaf}`` as a nested dict."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return tree


def flax_params_to_state_dict(params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Nested Flax params -> ``{pytorch_name: numpy array}``."""
    return {flax_path_to_pt_name(path): to_pt_array(path, value) for path, value in flatten(params).items()}


def read_flax_msgpack(path: Path) -> dict[str, np.ndarray]:
    """A transformers 4.x ``flax_model.msgpack`` as a state dict with the PyTorch names (numpy arrays)."""
    from albertlite.checkpoints.state_dict import CheckpointError

    try:
        from flax.serialization import msgpack_restore
    except ModuleNotFoundError as error:
        raise ImportError(
            f"Reading {Path(path).name} needs flax, which is not installed. "
            "Install it with: pip install 'albertlite[flax]'"
        ) from error
    try:
        tree = msgpack_restore(Path(path).read_bytes())
    except Exception as error:  # msgpack raises its own exception types for corrupt data
        raise CheckpointError(f"{path} is not a readable Flax msgpack checkpoint: {error}") from error
    if not isinstance(tree, Mapping) or not tree:
        raise CheckpointError(f"{path} does not hold a dict of parameters.")
    if set(tree) == {"params"}:  # some tools save {"params": ...}; transformers saves the params themselves
        tree = tree["params"]
    try:
        return flax_params_to_state_dict(tree)
    except ValueError as error:
        raise CheckpointError(f"{path} is not an ALBERT Flax checkpoint: {error}") from error

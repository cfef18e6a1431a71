"""The TensorFlow variable-name rule (Keras paths <-> PyTorch state_dict keys), and Hugging Face's legacy
TensorFlow weights (``tf_model.h5``), which follow the same rule.

transformers 4.x saved its TensorFlow models with Keras' HDF5 format. Each dataset path reads
``<top layer>/<model scope>/<layer path>/<variable>:0``, for example
``albert/tf_albert_for_pre_training/albert/encoder/albert_layer_groups_._0/albert_layers_._1/ffn/kernel:0``.
The same rule maps both those names and albertlite's own Keras variable paths onto the PyTorch
state_dict keys, so it lives here, free of TensorFlow (h5py reads the file):

- ``_._N`` (a list element) becomes ``.N``, ``/`` becomes ``.``;
- ``kernel`` becomes ``weight``, transposed ([in, out] -> [out, in]);
- LayerNorm ``gamma``/``beta`` become ``weight``/``bias``; an embedding table (``embeddings``) becomes ``weight``.

The TF MLM head holds two vocabulary biases: ``predictions/decoder/bias`` is the one its logits use,
``predictions/bias`` is created but unused, so the former becomes ``predictions.bias``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from albertlite.checkpoints.state_dict import CheckpointError

_LEAF_NAMES = {"kernel": "weight", "gamma": "weight", "beta": "bias", "embeddings": "weight"}
_UNUSED_MLM_BIAS = "predictions.bias"
_USED_MLM_BIAS = "predictions.decoder.bias"


def tf_name_to_key(name: str) -> tuple[str, bool]:
    """PyTorch state_dict key for a TF variable path (model scope already removed); True when transposed.

    Example:
        >>> tf_name_to_key("albert/encoder/albert_layer_groups_._0/albert_layers_._0/ffn/kernel:0")
        ('albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight', True)
    """
    parts = name.split(":")[0].replace("_._", "/").split("/")
    leaf = parts[-1]
    parts[-1] = _LEAF_NAMES.get(leaf, leaf)
    return ".".join(parts), leaf == "kernel"


def read_tf_h5(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a transformers 4.x ``tf_model.h5`` under PyTorch names (numpy, PyTorch layout)."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            datasets = _datasets(handle)
    except OSError as error:
        raise CheckpointError(f"{path} is not a readable HDF5 (tf_model.h5) file: {error}") from error
    if not datasets:
        raise CheckpointError(f"{path} holds no weights.")
    state: dict[str, np.ndarray] = {}
    for name, value in datasets.items():
        key, transpose = tf_name_to_key(_strip_scope(name))
        value = value.T if transpose else value
        if key in state:
            # The MLM head saves the tied word embeddings a second time under its own scope: the same array.
            if state[key].shape != value.shape or not np.array_equal(state[key], value):
                raise CheckpointError(f"{path} holds two different tensors for {key}.")
            continue
        state[key] = np.ascontiguousarray(value)
    if _USED_MLM_BIAS in state:
        state[_UNUSED_MLM_BIAS] = state.pop(_USED_MLM_BIAS)
    return state


def _datasets(handle: Any) -> dict[str, np.ndarray]:
    import h5py

    found: dict[str, np.ndarray] = {}

    def visit(name: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset):
            found[name] = np.asarray(item[()])

    handle.visititems(visit)
    return found


def _strip_scope(name: str) -> str:
    # "<top layer>/<model scope>/rest": drop the top layer's group, then the model's name scope
    # (tf_albert_for_pre_training, tf_albert_model, ...) when present.
    parts = name.split("/")[1:]
    if parts and parts[0].startswith("tf_albert"):
        parts = parts[1:]
    return "/".join(parts)

"""Loading and saving TensorFlow ALBERT models in the shared checkpoint format.

:class:`TFCheckpointMixin` gives a Keras model ``state_dict``/``load_state_dict`` under the PyTorch names and
layouts (through :func:`albertlite.checkpoints.tf_names.tf_name_to_key`), ``save_pretrained`` (config.json +
model.safetensors, loadable by every framework) and ``from_pretrained`` (safetensors, pytorch_model.bin or
Hugging Face's legacy tf_model.h5).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from albertlite.checkpoints.hub import HUB_KWARGS
from albertlite.checkpoints.names import LoadReport, check_shapes, match_keys
from albertlite.checkpoints.state_dict import (
    loaded_dtype,
    locate_weights,
    read_weight_files,
    save_model_directory,
)
from albertlite.checkpoints.tf_names import tf_name_to_key
from albertlite.config import AlbertConfig

__all__ = ["TFCheckpointMixin"]

_Model = TypeVar("_Model", bound="TFCheckpointMixin")


class TFCheckpointMixin:
    """Checkpoint I/O for a Keras model with ``config``, ``name`` and ``weights``, built at construction.

    Example:
        >>> model = TFAlbertForSequenceClassification.from_pretrained("path/or/hub-id", num_labels=3)
        >>> model.save_pretrained("my-model")
    """

    config: AlbertConfig

    # --------------------------------------------------------------------------- checkpoint names
    def _variables_by_key(self) -> dict[str, tuple[Any, bool]]:
        """PyTorch state_dict key -> (variable, transposed) for every weight of the model."""
        found: dict[str, tuple[Any, bool]] = {}
        for variable in self.weights:
            parts = variable.path.split("/")
            if self.name not in parts:
                raise RuntimeError(f"Variable {variable.path} was not created under the model's scope {self.name!r}.")
            key, transposed = tf_name_to_key("/".join(parts[parts.index(self.name) + 1 :]))
            found[key] = (variable, transposed)
        return found

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights as numpy arrays under their PyTorch names and layouts (no tied decoder)."""
        return {
            key: (variable.numpy().T if transposed else variable.numpy())
            for key, (variable, transposed) in self._variables_by_key().items()
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> LoadReport:
        """Assign a PyTorch-named state dict (numpy arrays); returns what was missing or unused."""
        variables = self._variables_by_key()
        renamed, report = match_keys(dict(state), variables.keys(), self.config)
        shapes = {
            key: tuple(reversed(variable.shape)) if transposed else tuple(variable.shape)
            for key, (variable, transposed) in variables.items()
        }
        check_shapes(renamed, shapes)
        for key, value in renamed.items():
            variable, transposed = variables[key]
            array = np.asarray(value)
            array = array.astype(loaded_dtype(key, array.dtype.name, np.dtype(variable.dtype).name))
            variable.assign(array.T if transposed else array)
        return report

    # --------------------------------------------------------------------------- saving and loading
    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        *,
        max_shard_size: int | str | None = None,
        safe_serialization: bool = True,
    ) -> Path:
        """Write config.json and model.safetensors with the PyTorch names, loadable by every framework.

        Args:
            save_directory: directory to create or overwrite files in.
            max_shard_size: shard the weights into files of at most this size: bytes, or a string such as "200MB".
            safe_serialization: must stay True: TensorFlow models write safetensors only.

        Returns:
            The directory.
        """
        if not safe_serialization:
            raise ValueError(
                "TensorFlow models save safetensors only (safe_serialization=False would write pytorch_model.bin, "
                "which needs PyTorch): drop the argument, or save from the PyTorch model."
            )
        # the PyTorch class name, as transformers' TF models wrote it, so that every framework picks the same head
        return save_model_directory(
            save_directory, self.config, type(self).__name__.removeprefix("TF"), self.state_dict(), framework="np",
            max_shard_size=max_shard_size,
        )  # fmt: skip

    @classmethod
    def from_pretrained(
        cls: type[_Model],
        pretrained_model_name_or_path: str | os.PathLike,
        *,
        config: AlbertConfig | None = None,
        output_loading_info: bool = False,
        **kwargs: Any,
    ) -> _Model | tuple[_Model, dict[str, list[str]]]:
        """Load a model from a directory or Hub id holding config.json and weights.

        Reads model.safetensors (or shards), and otherwise pytorch_model.bin or Hugging Face's legacy tf_model.h5.

        Args:
            pretrained_model_name_or_path: a local directory or a Hub repository id.
            config: use this config instead of the checkpoint's config.json.
            output_loading_info: also return {"missing_keys": [...], "unexpected_keys": [...]}.
            **kwargs: Hub options (cache_dir, revision, token, local_files_only, force_download) and
                config overrides (e.g. num_labels=3).

        Returns:
            The model (and the loading info when asked).
        """
        hub_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in HUB_KWARGS}
        if config is None:
            config = AlbertConfig.from_pretrained(pretrained_model_name_or_path, **hub_kwargs, **kwargs)
        elif kwargs:
            config = config.copy(**kwargs)
        kind, files = locate_weights(pretrained_model_name_or_path, **hub_kwargs)
        state = read_weight_files(kind, files, framework="np")
        model = cls(config)
        report = model.load_state_dict(state)
        report.log(cls.__name__)
        if output_loading_info:
            return model, {"missing_keys": report.missing_keys, "unexpected_keys": report.unexpected_keys}
        return model

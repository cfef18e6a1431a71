"""Loading and saving the Flax models: ``from_pretrained`` / ``save_pretrained`` on the one checkpoint format.

Weights travel as a PyTorch-named state dict of numpy arrays (``config.json`` + ``model.safetensors``, or any
format :func:`~albertlite.checkpoints.state_dict.locate_weights` finds); :mod:`albertlite.checkpoints.flax_names`
converts between those names and the Flax parameter paths. :class:`FlaxCheckpointIO` is the base of
``FlaxAlbertPreTrainedModel`` (:mod:`albertlite.flax_wrappers`), which supplies ``config``, ``params``,
``param_shapes`` and ``init_weights``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from albertlite.checkpoints import flax_names
from albertlite.checkpoints.hub import HUB_KWARGS
from albertlite.checkpoints.names import LoadReport, check_shapes, match_keys
from albertlite.checkpoints.state_dict import (
    loaded_dtype,
    locate_weights,
    read_weight_files,
    save_model_directory,
)
from albertlite.config import AlbertConfig

Params = dict[str, Any]


class FlaxCheckpointIO:
    """``state_dict`` / ``load_state_dict`` under the PyTorch names, ``from_pretrained`` and ``save_pretrained``."""

    config: AlbertConfig
    params: Params
    _params: Params | None

    def state_dict(self, params: Params | None = None) -> dict[str, np.ndarray]:
        """The parameters as numpy arrays under the PyTorch state_dict names (kernels transposed)."""
        return flax_names.flax_params_to_state_dict(jax.device_get(self.params if params is None else params))

    def load_state_dict(self, state: Mapping[str, Any]) -> LoadReport:
        """Set ``params`` from a PyTorch-named state dict (numpy arrays); missing weights are initialised."""
        abstract = flax_names.flatten(self.param_shapes())
        paths = {flax_names.flax_path_to_pt_name(path): path for path in abstract}
        renamed, report = match_keys(dict(state), paths, self.config)
        check_shapes(renamed, {name: flax_names.pt_shape(path, abstract[path].shape) for name, path in paths.items()})
        flat: dict[tuple[str, ...], jax.Array] = {}
        if report.missing_keys:
            fresh = flax_names.flatten(self.init_weights(self.key, self.input_shape))
            flat.update({paths[name]: fresh[paths[name]] for name in report.missing_keys})
        for name, value in renamed.items():
            path = paths[name]
            array = flax_names.from_pt_array(path, value)
            flat[path] = jnp.asarray(array, dtype=loaded_dtype(name, array.dtype.name, abstract[path].dtype.name))
        self._params = flax_names.unflatten(flat)
        return report

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *,
        dtype: Any = jnp.float32,
        config: AlbertConfig | None = None,
        seed: int = 0,
        output_loading_info: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Load config.json and weights from a directory or Hub id.

        Reads model.safetensors (PyTorch names, as every framework here writes it), or, when a directory holds
        only those, pytorch_model.bin or transformers' flax_model.msgpack. Hub keyword arguments (cache_dir,
        revision, token, local_files_only, force_download) are passed on; any other keyword overrides a config
        field (e.g. ``num_labels=3``).

        Returns:
            The model, or ``(model, {"missing_keys": [...], "unexpected_keys": [...]})`` with output_loading_info.
        """
        hub_kwargs = {key: kwargs.pop(key) for key in list(kwargs) if key in HUB_KWARGS}
        if config is None:
            config = AlbertConfig.from_pretrained(pretrained_model_name_or_path, **hub_kwargs, **kwargs)
        elif kwargs:
            config = config.copy(**kwargs)
        kind, files = locate_weights(pretrained_model_name_or_path, **hub_kwargs)
        state = read_weight_files(kind, files, framework="np")
        model = cls(config, dtype=dtype, seed=seed, _do_init=False)
        report = model.load_state_dict(state)
        report.log(cls.__name__)
        if output_loading_info:
            return model, {"missing_keys": report.missing_keys, "unexpected_keys": report.unexpected_keys}
        return model

    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        *,
        max_shard_size: int | str | None = None,
        safe_serialization: bool = True,
        params: Params | None = None,
    ) -> Path:
        """Write config.json and model.safetensors (PyTorch names) into ``save_directory``.

        The tied MLM decoder is written as transformers writes it: ``predictions.bias`` and no
        ``predictions.decoder.*``. The files load unchanged in the PyTorch and TensorFlow models.

        Args:
            save_directory: created if missing; its previous model files are replaced all or nothing.
            max_shard_size: shard the weights into files of at most this size (bytes, or "5GB", "200MB", ...).
            safe_serialization: must be True: Flax writes safetensors only.
            params: parameters to save instead of ``self.params`` (as Hugging Face's Flax models).

        Returns:
            The directory written.
        """
        if not safe_serialization:
            raise ValueError("The Flax models save safetensors only; safe_serialization=False is not supported.")
        # like transformers' Flax models, record the PyTorch class name so that every framework finds the head
        return save_model_directory(
            save_directory, self.config, type(self).__name__.removeprefix("Flax"), self.state_dict(params),
            framework="np", max_shard_size=max_shard_size,
        )  # fmt: skip

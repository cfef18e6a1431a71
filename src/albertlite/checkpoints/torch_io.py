"""Loading and saving PyTorch ALBERT models: ``from_pretrained`` and ``save_pretrained``.

:class:`TorchCheckpointIO` is the mixin ``AlbertPreTrainedModel`` inherits; the key and layout rules it applies
are in ``names.py`` and ``state_dict.py``, shared with the TensorFlow and Flax loaders (``tf_io.py``,
``flax_io.py``), which have the same ``save_pretrained`` signature.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from albertlite.checkpoints.files import atomic_write
from albertlite.checkpoints.hub import HUB_KWARGS
from albertlite.checkpoints.names import TIED_DECODER_KEYS, LoadReport, check_shapes, match_keys
from albertlite.checkpoints.state_dict import (
    FLAX_WEIGHTS_NAME,
    PT_WEIGHTS_NAME,
    TF_WEIGHTS_NAME,
    loaded_dtype,
    locate_weights,
    read_weight_files,
    save_model_directory,
)
from albertlite.config import AlbertConfig
from albertlite.torch_model_utils import dtype_name


class TorchCheckpointIO:
    """``from_pretrained`` / ``save_pretrained`` for a ``torch.nn.Module`` ALBERT class built from a config.

    The class using it provides ``config``, ``state_dict``, ``tie_weights`` and ``set_attn_implementation``.
    """

    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        *,
        max_shard_size: int | str | None = None,
        safe_serialization: bool = True,
    ) -> Path:
        """Write config.json and model.safetensors (the tied decoder left out, as transformers does).

        Args:
            save_directory: the directory to write (replaced whole: a failed save leaves the old model loadable).
            max_shard_size: shard the weights into files of at most this size (bytes, or "5GB", "200MB" ...).
            safe_serialization: False writes ``pytorch_model.bin`` (a pickle, as old transformers did) instead.

        Returns:
            The directory.
        """
        state = {k: v.detach().cpu() for k, v in self.state_dict().items() if k not in TIED_DECODER_KEYS}

        def pickle_weights(staging: Path) -> None:
            atomic_write(staging / PT_WEIGHTS_NAME, lambda tmp: torch.save(state, tmp))

        return save_model_directory(
            save_directory, self.config, type(self).__name__, state, framework="pt", max_shard_size=max_shard_size,
            write_weights=None if safe_serialization else pickle_weights,
        )  # fmt: skip

    # --------------------------------------------------------------------------- loading
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *model_args: Any,
        config: AlbertConfig | None = None,
        dtype: torch.dtype | str | None = None,
        torch_dtype: torch.dtype | str | None = None,
        device: torch.device | str | None = None,
        output_loading_info: bool = False,
        attn_implementation: str = "sdpa",
        **kwargs: Any,
    ) -> Any:
        """Load a model from a directory or Hub id holding config.json and weights.

        Args:
            pretrained_model_name_or_path: a local directory or a Hub repository id.
            config: use this config instead of the checkpoint's config.json.
            dtype / torch_dtype: parameter dtype (a torch.dtype, its name, or "auto" for the stored dtype).
            device: where to put the model.
            output_loading_info: also return {"missing_keys": [...], "unexpected_keys": [...]}.
            attn_implementation: "sdpa" or "eager".
            **kwargs: Hub options (cache_dir, revision, token, local_files_only, force_download) and
                config overrides (e.g. num_labels=3).

        Returns:
            The model in eval mode (and the loading info when asked).
        """
        if model_args:
            raise TypeError("from_pretrained takes the model path as its only positional argument.")
        hub_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in HUB_KWARGS}
        if config is None:
            config = AlbertConfig.from_pretrained(pretrained_model_name_or_path, **hub_kwargs, **kwargs)
        elif kwargs:
            config = config.copy(**kwargs)
        state = _read_checkpoint(pretrained_model_name_or_path, hub_kwargs)
        model = cls(config)
        report = model._load_checkpoint_state(state)
        report.log(cls.__name__)
        target_dtype = _resolve_dtype(dtype if dtype is not None else torch_dtype, state)
        if target_dtype is not None:
            model.to(target_dtype)
        if device is not None:
            model.to(device)
        model.set_attn_implementation(attn_implementation)
        model.eval()
        if output_loading_info:
            return model, {"missing_keys": report.missing_keys, "unexpected_keys": report.unexpected_keys}
        return model

    def _load_checkpoint_state(self, state: dict[str, torch.Tensor]) -> LoadReport:
        model_state = self.state_dict()
        renamed, report = match_keys(state, model_state.keys(), self.config)
        check_shapes(renamed, {k: tuple(v.shape) for k, v in model_state.items()})
        with torch.no_grad():
            for key, value in renamed.items():
                target = model_state[key]
                loaded_dtype(key, dtype_name(value.dtype), dtype_name(target.dtype))  # refuses a kind mismatch
                target.copy_(value.to(target.dtype))  # floats to the model's dtype; an integer buffer stays integer
        self.tie_weights()
        return report


def _read_checkpoint(name_or_path: str | os.PathLike, hub_kwargs: dict[str, Any]) -> dict[str, torch.Tensor]:
    kind, files = locate_weights(name_or_path, **hub_kwargs)
    if kind in (TF_WEIGHTS_NAME, FLAX_WEIGHTS_NAME):
        import numpy as np

        state = read_weight_files(kind, files, framework="np")
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    return read_weight_files(kind, files, framework="pt")


def _resolve_dtype(dtype: torch.dtype | str | None, state: dict[str, torch.Tensor]) -> torch.dtype | None:
    if dtype is None:
        return None
    if dtype == "auto":
        floating = [v.dtype for v in state.values() if v.is_floating_point()]
        return floating[0] if floating else None
    if isinstance(dtype, str):
        resolved = getattr(torch, dtype, None)
        if not isinstance(resolved, torch.dtype):
            raise ValueError(f"Unknown dtype {dtype!r}; use e.g. 'float32', 'bfloat16', 'float16' or 'auto'.")
        return resolved
    return dtype

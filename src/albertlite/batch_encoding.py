"""``BatchEncoding``, the tokenizers' output: a dict of encoded fields, and its conversion to framework tensors.

PyTorch, TensorFlow and JAX are imported only when their tensors are asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

TENSOR_TYPES = ("pt", "tf", "np", "jax")


class BatchEncoding(dict):
    """The tokenizers' output: a dict of ``input_ids``, ``attention_mask``... with attribute access.

    Args:
        data: The encoded fields.
        encodings: The ``tokenizers`` encodings behind each row (fast tokenizer only), for ``word_ids`` etc.
        tensor_type: Convert the fields to "pt", "tf", "np" or "jax" tensors.
        prepend_batch_axis: Add a batch dimension of 1 while converting (one unbatched text).
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        encodings: list[Any] | None = None,
        tensor_type: str | None = None,
        prepend_batch_axis: bool = False,
    ) -> None:
        super().__init__(data or {})
        self._encodings = encodings
        self.convert_to_tensors(tensor_type, prepend_batch_axis=prepend_batch_axis)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getstate__(self) -> dict[str, Any]:
        return {"data": dict(self), "encodings": self._encodings}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.update(state["data"])
        self._encodings = state["encodings"]

    @property
    def encodings(self) -> list[Any] | None:
        """The ``tokenizers.Encoding`` of each row (fast tokenizer), else None."""
        return self._encodings

    @property
    def is_fast(self) -> bool:
        return self._encodings is not None

    def _encoding(self, batch_index: int) -> Any:
        if self._encodings is None:
            raise ValueError("word_ids, sequence_ids and tokens need the fast tokenizer (AlbertTokenizerFast).")
        return self._encodings[batch_index]

    def tokens(self, batch_index: int = 0) -> list[str]:
        """The tokens of row ``batch_index``."""
        return self._encoding(batch_index).tokens

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token of row ``batch_index``, the index of its word (None for special and pad tokens)."""
        return self._encoding(batch_index).word_ids

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token of row ``batch_index``: 0 (text), 1 (text_pair) or None (special and pad tokens)."""
        return self._encoding(batch_index).sequence_ids

    def convert_to_tensors(self, tensor_type: str | None = None, prepend_batch_axis: bool = False) -> BatchEncoding:
        """Turn every field into a tensor of ``tensor_type`` ("pt", "tf", "np", "jax"); None leaves lists."""
        if tensor_type is None:
            return self
        if tensor_type not in TENSOR_TYPES:
            raise ValueError(f"return_tensors must be one of {TENSOR_TYPES} or None, got {tensor_type!r}.")
        as_tensor = _tensor_factory(tensor_type)
        for key, value in self.items():
            if prepend_batch_axis:
                value = [value]
            if isinstance(value, (list, tuple)) and _is_ragged(value):
                raise ValueError(
                    f"Unable to create tensors: the rows of {key!r} have different lengths. Pass padding=True "
                    f"(and truncation=True) to get rectangular batches."
                )
            self[key] = as_tensor(value)
        return self

    def to(self, device: Any) -> BatchEncoding:
        """Move PyTorch tensors to ``device`` (other fields stay as they are)."""
        for key, value in self.items():
            if hasattr(value, "to") and callable(value.to):
                self[key] = value.to(device=device)
        return self


def _is_ragged(value: Sequence[Any]) -> bool:
    if not value or not isinstance(value[0], (list, tuple)):
        return False
    lengths = {len(row) for row in value}
    return len(lengths) > 1 or any(_is_ragged(row) for row in value)


def _tensor_factory(tensor_type: str) -> Any:
    # dtypes follow transformers: int64 for torch and numpy, TensorFlow's and JAX's default int32
    if tensor_type == "np":
        return lambda value: np.asarray(value, dtype=np.int64 if _is_empty(value) else None)
    if tensor_type == "pt":
        import torch

        return lambda value: torch.tensor(value, dtype=torch.int64 if _is_empty(value) else None)
    if tensor_type == "tf":
        import tensorflow as tf

        return lambda value: tf.constant(value, dtype=tf.int32 if _is_empty(value) else None)
    import jax.numpy as jnp

    return lambda value: jnp.array(value, dtype=jnp.int32 if _is_empty(value) else None)


def _is_empty(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_empty(v) for v in value)
    return False

"""How every TensorFlow ALBERT model is called: weights built at construction, inputs converted and checked once.

``TFAlbertPreTrainedModel`` in ``modeling_tf.py`` inherits :class:`TFModelCalls` (beside the checkpoint and Keras
training mixins); it needs the model's ``config``, ``spec`` (its ``albertlite.heads`` entry) and ``albert`` layer.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from albertlite import tf_ops
from albertlite.fast import fast_path
from albertlite.heads import check_head_config
from albertlite.validation import (
    ID_INPUTS,
    check_attention_mask_values,
    check_choices,
    check_input_dtypes,
    stray_mask_value,
)


def _casts(tensors: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """head_mask as float32, and ids of a narrow integer dtype (checked) as int32, the dtype tf.gather indexes with."""
    casts = {name: tf.cast(tensors[name], tf.int32) for name in ID_INPUTS
             if name in tensors and tensors[name].dtype not in (tf.int32, tf.int64)}  # fmt: skip
    if "head_mask" in tensors:
        casts["head_mask"] = tf.cast(tensors["head_mask"], tf.float32)
    return casts


class TFModelCalls:
    """``__call__`` for a Keras ALBERT model: one dict or keywords in, tensors and checked labels to ``call``."""

    def _build_weights(self) -> None:
        """Refuse a config the head cannot follow, then create every weight now (so that they can be loaded) and
        zero the padding row, as PyTorch does."""
        check_head_config(self.spec, self.config, type(self).__name__)
        with fast_path(False):  # the weights are created by the plain path; nothing to compile yet
            self._dummy_call()
        pad = self.config.pad_token_id
        if pad is not None:
            table = self.albert.embeddings.word_embeddings.embeddings
            table.assign(tf.tensor_scatter_nd_update(table, [[pad]], tf.zeros((1, table.shape[1]), table.dtype)))

    def _dummy_call(self) -> None:
        # One tiny eager call creates every weight under its final name (Keras names variables when built).
        seq_len = min(2, self.config.max_position_embeddings)
        self(input_ids=tf.zeros((1, seq_len), tf.int32), training=False)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Keras (fit, predict) passes one dict of inputs: spread it into keyword arguments.
        if args and isinstance(args[0], Mapping):
            kwargs = {**args[0], **kwargs}
            args = args[1:]
        arguments = inspect.signature(self.call).bind(*args, **kwargs).arguments
        # numpy arrays and lists become tensors once, here, so that ``call`` and the base layer get tensors; their
        # dtypes are checked before any cast.
        tensors = {name: tf_ops.as_tensor(arguments[name]) for name in (*tf_ops.INPUT_NAMES, *self.label_names)
                   if arguments.get(name) is not None}  # fmt: skip
        # float32: the dtype of the embedding table inputs_embeds is added to
        check_input_dtypes({name: t.dtype.name for name, t in tensors.items() if name in tf_ops.INPUT_NAMES}, "float32")
        arguments.update(tensors, **_casts(tensors))
        self._check_call(arguments)
        if any(arguments.get(name) is not None for name in self.label_names):
            # Labels may sit at padded positions, where the fast path leaves zeros: losses use the plain path.
            with fast_path(False):
                return super().__call__(**arguments)
        return super().__call__(**arguments)

    @property
    def label_names(self) -> tuple[str, ...]:
        return self.spec.label_names

    def _check_call(self, arguments: dict[str, Any]) -> None:
        """Raise the shared ValueErrors for bad inputs and labels (values only when they are concrete)."""
        mask = arguments.get("attention_mask")
        if mask is not None and not tf.is_symbolic_tensor(mask):
            check_attention_mask_values(stray_mask_value(mask.numpy()))
        if self.spec.name == "ForMultipleChoice":
            reference = arguments.get("input_ids")
            check_choices(tuple((reference if reference is not None else arguments.get("inputs_embeds")).shape))
        tf_ops.check_inputs(self.config, **self._base_inputs(arguments))
        tf_ops.check_labels(self.spec, self.config, arguments)

    def _base_inputs(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The inputs as the base model sees them (multiple choice folds its choices into the batch)."""
        return {name: arguments.get(name) for name in tf_ops.INPUT_NAMES}

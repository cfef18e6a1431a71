"""TensorFlow SavedModel export of every albertlite TensorFlow model, with a ``serving_default`` signature."""

from __future__ import annotations

import os
from pathlib import Path

import tensorflow as tf

from albertlite.modeling_tf import TFAlbertForMultipleChoice, TFAlbertPreTrainedModel

__all__ = ["export_saved_model"]


def export_saved_model(model: TFAlbertPreTrainedModel, path: str | os.PathLike) -> Path:
    """Export ``model`` as a SavedModel whose ``serving_default`` signature runs inference.

    The signature takes int32 ``input_ids``, ``attention_mask`` and ``token_type_ids`` of shape (B, S)
    ((B, C, S) for multiple choice), with any batch size and sequence length, and returns a dict of the output's
    tensors (logits, or start_logits/end_logits, ...; no loss, hidden states or attentions).

    Args:
        model: any TFAlbert model.
        path: the SavedModel directory to write.

    Returns:
        The path. Reload with ``tf.saved_model.load(path).signatures["serving_default"]``.

    Example:
        >>> export_saved_model(model, "exported")
        >>> serve = tf.saved_model.load("exported").signatures["serving_default"]
        >>> serve(input_ids=ids, attention_mask=mask, token_type_ids=types)["logits"]
    """
    rank = 3 if isinstance(model, TFAlbertForMultipleChoice) else 2
    spec = tf.TensorSpec([None] * rank, tf.int32)

    @tf.function(input_signature=[spec, spec, spec])
    def serve(input_ids: tf.Tensor, attention_mask: tf.Tensor, token_type_ids: tf.Tensor) -> dict[str, tf.Tensor]:
        outputs = model(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, training=False
        )
        return {
            name: value
            for name, value in outputs.items()
            if name not in ("loss", "hidden_states", "attentions") and value is not None
        }

    module = tf.Module()
    # The variables, not the Keras model: saving a Keras model as a child also traces Keras' own default
    # signature from the inputs it was first built with.
    module.weights = list(model.weights)
    module.serve = serve
    tf.saved_model.save(module, str(path), signatures={"serving_default": serve})
    return Path(path)

"""Padding-free ALBERT inference for TensorFlow: several sequences per packed row (the TF side of
:mod:`albertlite.fast.packed`).

:func:`packing_plan` decides whether an inference call can be packed (:mod:`albertlite.fast.packing_plan` places the
tokens), and :func:`packed_forward` runs the encoder on the packed rows under a block-diagonal attention mask and
unpacks its outputs. Padded positions of ``last_hidden_state`` (and of ``hidden_states``) are zeros. See
docs/fast_inference.md.

Axis legend: B batch, S sequence length, H hidden_size, R packed rows, P slots per row.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from albertlite.fast import fast_path_enabled
from albertlite.fast.packing_plan import PackPlan, plan_packing
from albertlite.tf_ops import TFBaseModelOutputWithPooling

if TYPE_CHECKING:
    from albertlite.modeling_tf import TFAlbertMainLayer

__all__ = ["PACKED_JIT_COMPILE", "packed_encoder", "packed_forward", "packing_plan"]

#: XLA-compile the packed encoder (ALBERTLITE_TF_JIT=1). Off by default: on 2-core AMD EPYC, ALBERT-base, 6 x 128
#: packed rows took 1.36-1.40 s with and without XLA, and XLA's first call compiled a second longer.
PACKED_JIT_COMPILE = os.environ.get("ALBERTLITE_TF_JIT", "0") == "1"
_PACKED_ENCODERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def packing_plan(
    layer: TFAlbertMainLayer,
    input_ids: tf.Tensor | None,
    attention_mask: tf.Tensor | None,
    token_type_ids: tf.Tensor | None,
    position_ids: tf.Tensor | None,
) -> PackPlan | None:
    """The packing of this inference call, or None when the plain path must run.

    The caller has ruled out training, attentions, head_mask and inputs_embeds; packing also needs eager,
    concrete (B, S) ids and mask, since it reads their values.
    """
    if not fast_path_enabled() or input_ids is None or input_ids.shape.rank != 2 or not tf.executing_eagerly():
        return None
    given = [t for t in (input_ids, attention_mask, token_type_ids, position_ids) if t is not None]
    if any(tf.is_symbolic_tensor(t) for t in given):
        return None  # traced by the caller's tf.function
    mask = np.ones(input_ids.shape, bool) if attention_mask is None else attention_mask.numpy()
    if mask.shape != tuple(input_ids.shape):
        return None
    relative = layer.config.position_embedding_type != "absolute"
    return plan_packing(
        mask,
        input_ids.numpy(),
        None if token_type_ids is None else token_type_ids.numpy(),
        None if position_ids is None else position_ids.numpy(),
        max_row_len=layer.config.max_position_embeddings if relative else max(512, mask.shape[1]),
        first_real=layer.pooler is not None,
        contiguous=relative,
    )


def packed_forward(
    layer: TFAlbertMainLayer, plan: PackPlan, shape: tuple[int, int], output_hidden_states: bool
) -> TFBaseModelOutputWithPooling:
    """``layer``'s encoder on packed rows (compiled once per (R, P) shape), unpacked to (B, S, H), zeros at padding."""
    encode = packed_encoder(layer, output_hidden_states)
    last, hidden = encode(
        input_ids=tf.constant(plan.input_ids),
        token_type_ids=tf.constant(plan.token_type_ids),
        position_ids=tf.constant(plan.position_ids),
        segments=tf.constant(plan.segments),
    )
    index, width = tf.constant(plan.index), layer.config.hidden_size

    def unpack(states: tf.Tensor) -> tf.Tensor:
        # One zero row after the R * P slots: the index of every padded position points at it.
        flat = tf.concat([tf.reshape(states, (-1, width)), tf.zeros((1, width), states.dtype)], axis=0)
        return tf.reshape(tf.gather(flat, index), (*shape, width))  # (B, S, H)

    pooled = None
    if layer.pooler is not None:
        pooled = layer.pooler(tf.gather(tf.reshape(last, (-1, width)), tf.constant(plan.first)))  # (B, H)
    return TFBaseModelOutputWithPooling(
        last_hidden_state=unpack(last),
        pooler_output=pooled,
        hidden_states=tuple(unpack(h) for h in hidden) if output_hidden_states else None,
        attentions=None,
    )


def packed_encoder(layer: TFAlbertMainLayer, output_hidden_states: bool) -> Callable[..., Any]:
    """A tf.function running ``layer``'s embeddings and encoder on packed (R, P) rows; one per layer and flag.

    Attention is kept within each sequence by a block-diagonal mask built from the segment ids; it retraces (and
    compiles) once per packed shape, of which a plan uses few.
    """
    cache = _PACKED_ENCODERS.setdefault(layer, {})
    if output_hidden_states not in cache:
        owner = weakref.ref(layer)  # a strong reference from the cached function would keep the model alive

        def encode(
            input_ids: tf.Tensor, token_type_ids: tf.Tensor, position_ids: tf.Tensor, segments: tf.Tensor
        ) -> tuple:
            layer = owner()
            embeddings = layer.embeddings(
                input_ids, token_type_ids=token_type_ids, position_ids=position_ids, training=False
            )
            same = tf.equal(segments[:, :, None], segments[:, None, :])[:, None]  # (R, 1, P, P)
            mask = tf.where(same, tf.zeros((), embeddings.dtype), tf.constant(embeddings.dtype.min, embeddings.dtype))
            last, hidden, _ = layer.encoder(
                embeddings, attention_mask=mask, output_hidden_states=output_hidden_states, training=False
            )
            return last, (hidden if output_hidden_states else ())

        cache[output_hidden_states] = tf.function(encode, jit_compile=PACKED_JIT_COMPILE)
    return cache[output_hidden_states]

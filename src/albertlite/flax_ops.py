"""Flax numerics outside the model: activations, dropout rates, losses, masked mean, label checks, output pytrees.

The modules of :mod:`albertlite.modeling_flax` compute with these; the wrappers of :mod:`albertlite.flax_wrappers`
check labels with them before a call. Each function reproduces the PyTorch model's rule (named in its docstring), so
the three frameworks agree on losses and on the errors they raise.

Axis legend: B batch, C choices, S sequence length, H hidden_size.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from albertlite import heads
from albertlite.config import AlbertConfig
from albertlite.heads import HEADS, HeadSpec, LabelValues
from albertlite.outputs import OUTPUT_CLASSES, AlbertForPreTrainingOutput

Array = jax.Array


# ----------------------------------------------------------------------------------------------- outputs
@dataclasses.dataclass
class FlaxAlbertForPreTrainingOutput(AlbertForPreTrainingOutput):
    """Output of ``FlaxAlbertForPreTraining``: loss (when both label kinds are given), MLM and SOP logits."""


def _register_pytrees() -> None:
    # Registered so that jitted functions can return the output dataclasses.
    for cls in (*OUTPUT_CLASSES, FlaxAlbertForPreTrainingOutput):
        names = [f.name for f in dataclasses.fields(cls)]
        with contextlib.suppress(ValueError):  # already registered, e.g. when this module is re-imported
            jax.tree_util.register_dataclass(cls, data_fields=names, meta_fields=[])


_register_pytrees()


# ----------------------------------------------------------------------------------------------- activations
def gelu_fast(x: Array) -> Array:
    return 0.5 * x * (1.0 + jnp.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


# Hugging Face's activation names; "gelu" is the exact erf form there, "gelu_new" the tanh approximation.
ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "gelu": partial(jax.nn.gelu, approximate=False),
    "gelu_new": partial(jax.nn.gelu, approximate=True),
    "gelu_pytorch_tanh": partial(jax.nn.gelu, approximate=True),
    "gelu_fast": gelu_fast,
    "quick_gelu": lambda x: x * jax.nn.sigmoid(1.702 * x),
    "relu": jax.nn.relu,
    "silu": jax.nn.silu,
    "swish": jax.nn.silu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "linear": lambda x: x,
}


# ----------------------------------------------------------------------------------------------- dropout rates
def classifier_dropout(config: AlbertConfig) -> float:
    return float(config.classifier_dropout_prob or 0.0)


def token_classifier_dropout(config: AlbertConfig) -> float:
    # As PyTorch: only the token classifier falls back to hidden_dropout_prob when classifier_dropout_prob is None.
    rate = config.classifier_dropout_prob
    return float(config.hidden_dropout_prob if rate is None else rate)


def uses_dropout(config: AlbertConfig) -> bool:
    """Whether any module of any head drops out at training time (then a call with train=True needs a key)."""
    rates = (
        config.hidden_dropout_prob,
        config.attention_probs_dropout_prob,
        classifier_dropout(config),
        token_classifier_dropout(config),
    )
    return any(rate > 0 for rate in rates)


# ----------------------------------------------------------------------------------------------- pooling
def masked_mean(hidden_states: Array, attention_mask: Array) -> Array:
    """Mean of (B, S, H) states over the real tokens (attention_mask 1) -> (B, H).

    Summed in float32 and returned in the states' dtype; a row with no real token gives zeros. Padded positions are
    excluded by selection, so the plain path's values there and the fast path's zeros give the same mean.
    """
    keep = attention_mask.astype(bool)[..., None]  # (B, S, 1)
    total = jnp.where(keep, hidden_states.astype(jnp.float32), 0.0).sum(axis=1)  # (B, H)
    count = jnp.maximum(keep.sum(axis=1), 1).astype(jnp.float32)  # (B, 1)
    return (total / count).astype(hidden_states.dtype)


# ----------------------------------------------------------------------------------------------- losses
def cross_entropy(logits: Array, labels: Array, ignore_index: int = -100) -> Array:
    """Mean cross-entropy over labels != ignore_index (NaN when none is left, as PyTorch)."""
    logits = logits.astype(jnp.float32)
    labels = labels.astype(jnp.int32)
    valid = labels != ignore_index
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    picked = jnp.take_along_axis(log_probs, jnp.where(valid, labels, 0)[..., None], axis=-1)[..., 0]
    return -jnp.sum(jnp.where(valid, picked, 0.0)) / jnp.sum(valid)


def sequence_classification_loss(logits: Array, labels: Array, config: AlbertConfig) -> Array:
    """MSE, cross-entropy or BCE with logits, by :func:`albertlite.heads.problem_type` (dtypes are static under jit)."""
    spec = HEADS["ForSequenceClassification"]
    problem_type = heads.problem_type(spec, config, jnp.issubdtype(labels.dtype, jnp.integer))
    logits = logits.astype(jnp.float32)
    if problem_type == "regression":
        if config.num_labels == 1:
            logits, labels = jnp.squeeze(logits), jnp.squeeze(labels)
        return jnp.mean((logits - labels.astype(jnp.float32)) ** 2)
    if problem_type == "single_label_classification":
        return cross_entropy(logits.reshape(-1, config.num_labels), labels.reshape(-1))
    targets = labels.astype(jnp.float32)
    return jnp.mean(jax.nn.softplus(logits) - logits * targets)  # BCEWithLogits, numerically stable


def question_answering_loss(start_logits: Array, end_logits: Array, start: Array, end: Array) -> Array:
    """Mean of the start and end cross-entropies over (B, S) logits."""
    ignored = start_logits.shape[1]  # positions outside the input are clamped to S and ignored, as PyTorch
    start = jnp.clip(start.reshape(-1), 0, ignored)
    end = jnp.clip(end.reshape(-1), 0, ignored)
    return (cross_entropy(start_logits, start, ignored) + cross_entropy(end_logits, end, ignored)) / 2


# ----------------------------------------------------------------------------------------------- label checks
def check_labels(spec: HeadSpec, config: AlbertConfig, labels: dict[str, Array], input_shape: tuple[int, ...]) -> None:
    """:func:`albertlite.heads.check_labels` before a call; traced labels (under the caller's jit) cannot be read and
    pass. ``input_shape`` is the call's input_ids shape ((B, C, S) for multiple choice)."""
    values = {
        name: LabelValues(
            tuple(x.shape),
            bool(jnp.issubdtype(x.dtype, jnp.integer)),
            lambda x=x: None if isinstance(x, jax.core.Tracer) else np.asarray(x),
        )
        for name, x in labels.items()
    }
    num_choices = input_shape[1] if len(input_shape) == 3 else None
    heads.check_labels(spec, config, values, batch_size=input_shape[0], num_choices=num_choices)

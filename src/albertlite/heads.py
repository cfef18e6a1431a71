"""What each ALBERT head is, written once for the three frameworks: its label arguments and their bounds, its
problem type, its pooling and its output class.

The model files of PyTorch, TensorFlow and Flax read their head's entry of :data:`HEADS`; their ops modules turn
tensors into :class:`LabelValues` (values only where they can be read: not under tf.function or jax tracing) and
call :func:`check_labels`, so the three raise the same ValueErrors, and decide losses by :func:`problem_type`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from albertlite.config import AlbertConfig
from albertlite.validation import validate_class_labels

Shape = tuple[int | None, ...]  # None: a size unknown while tracing


@dataclass(frozen=True)
class LabelArg:
    """One label keyword argument of a head.

    Args:
        name: the keyword (``labels``, ``sentence_order_label``, ``start_positions``, ...).
        bound: what its class ids must stay below: a config field (``vocab_size``, ``num_labels``), ``num_choices``
            (the input's second axis), or None where the loss clamps out-of-range values itself (span positions).
    """

    name: str
    bound: str | None


@dataclass(frozen=True)
class HeadSpec:
    """One head, as every framework builds it.

    Args:
        name: the class name after the framework prefix (``ForMaskedLM`` in ``AlbertForMaskedLM``,
            ``TFAlbertForMaskedLM``, ``FlaxAlbertForMaskedLM``); ``Model`` for the bare encoder.
        output: the output class name of :mod:`albertlite.outputs` it returns (TF's adds a ``TF`` prefix).
        labels: its label arguments, in the order of the call's signature.
        all_labels: the loss (and so the label check) needs every label argument; with some missing, none is used.
        pooler: the base model builds the tanh pooler.
        sentence_pooling: the head's sentence vector follows ``config.classifier_pooling``.
        problem_type: the loss follows ``config.problem_type`` (regression / single- / multi-label, see
            :func:`problem_type`); otherwise it is always single-label cross-entropy.
        outputs: the number of outputs per token the head has whatever the config says (2 for the span head: start
            and end); None where ``config.num_labels`` decides.

    Example:
        >>> HEADS["ForMultipleChoice"].labels
        (LabelArg(name='labels', bound='num_choices'),)
    """

    name: str
    output: str
    labels: tuple[LabelArg, ...] = ()
    all_labels: bool = False
    pooler: bool = True
    sentence_pooling: bool = False
    problem_type: bool = False
    outputs: int | None = None

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(arg.name for arg in self.labels)


_CLASS_LABELS = (LabelArg("labels", "num_labels"),)

HEADS: dict[str, HeadSpec] = {
    spec.name: spec
    for spec in (
        HeadSpec("Model", "BaseModelOutputWithPooling"),
        HeadSpec(
            "ForPreTraining",
            "AlbertForPreTrainingOutput",
            labels=(LabelArg("labels", "vocab_size"), LabelArg("sentence_order_label", "num_labels")),
            all_labels=True,
        ),
        HeadSpec("ForMaskedLM", "MaskedLMOutput", labels=(LabelArg("labels", "vocab_size"),), pooler=False),
        HeadSpec(
            "ForSequenceClassification",
            "SequenceClassifierOutput",
            labels=_CLASS_LABELS,
            sentence_pooling=True,
            problem_type=True,
        ),
        HeadSpec(
            "ForMultipleChoice",
            "MultipleChoiceModelOutput",
            labels=(LabelArg("labels", "num_choices"),),
            sentence_pooling=True,
        ),
        HeadSpec("ForTokenClassification", "TokenClassifierOutput", labels=_CLASS_LABELS, pooler=False),
        HeadSpec(
            "ForQuestionAnswering",
            "QuestionAnsweringModelOutput",
            labels=(LabelArg("start_positions", None), LabelArg("end_positions", None)),
            all_labels=True,
            pooler=False,
            outputs=2,
        ),
    )
}


def check_head_config(spec: HeadSpec, config: AlbertConfig, class_name: str) -> None:
    """Raise ValueError, when a model is built, for a config its head cannot follow (a span head of 3 labels)."""
    if spec.outputs is not None and config.num_labels != spec.outputs:
        raise ValueError(
            f"{class_name} is a span head with {spec.outputs} outputs per token (start and end logits), but "
            f"config.num_labels={config.num_labels}; build it with num_labels={spec.outputs}."
        )


@dataclass(frozen=True)
class LabelValues:
    """What a label check needs of one label tensor, read by the framework's ops module.

    Args:
        shape: its shape (None for sizes unknown while tracing).
        integer: its dtype counts as integer for the problem-type rule (each framework's own test).
        read: returns the values as numpy, or None where they cannot be read (traced); called only where a bound
            is checked, so that float targets are never copied to the host.
    """

    shape: Shape
    integer: bool
    read: Callable[[], np.ndarray | None]


def problem_type(spec: HeadSpec, config: AlbertConfig, labels_dtype_is_integer: bool) -> str:
    """Hugging Face's rule when config.problem_type is unset: 1 label regresses, integer labels classify, else
    multi-label. Heads without a problem type always classify single-label."""
    if not spec.problem_type:
        return "single_label_classification"
    if config.problem_type is not None:
        return config.problem_type
    if config.num_labels == 1:
        return "regression"
    return "single_label_classification" if labels_dtype_is_integer else "multi_label_classification"


def check_labels(
    spec: HeadSpec,
    config: AlbertConfig,
    labels: Mapping[str, LabelValues | None],
    batch_size: int | None = None,
    num_choices: int | None = None,
) -> None:
    """Raise the heads' ValueError for labels the loss cannot use: class ids outside their bound (-100 is ignored)
    or multi-label targets not shaped like the (batch_size, num_labels) logits.

    Labels missing from ``labels`` (or None) are not checked, nor any when ``spec.all_labels`` and one is missing;
    values that cannot be read (traced) and bounds unknown while tracing (``num_choices=None``) pass.
    """
    given = {arg.name: labels.get(arg.name) for arg in spec.labels}
    if spec.all_labels and any(value is None for value in given.values()):
        return
    for arg in spec.labels:
        label = given[arg.name]
        if label is None or arg.bound is None:
            continue
        kind = problem_type(spec, config, label.integer)
        if kind == "multi_label_classification":
            _check_multi_label_shape(label.shape, (batch_size, config.num_labels))
        elif kind == "single_label_classification":
            bound = num_choices if arg.bound == "num_choices" else getattr(config, arg.bound)
            values = None if bound is None else label.read()
            if values is not None:
                validate_class_labels(values, bound, arg.name)


def _check_multi_label_shape(shape: Shape, logits_shape: Shape) -> None:
    # One 0/1 column per label; a size unknown while tracing matches any.
    matches = len(shape) == 2 and all(a is None or b is None or a == b for a, b in zip(shape, logits_shape))
    if not matches:
        raise ValueError(
            f"multi_label_classification expects labels shaped like the logits {logits_shape} "
            f"(one 0/1 column per label), got {shape}."
        )

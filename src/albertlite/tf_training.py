"""Keras ``fit``/``evaluate``/``predict`` for the TensorFlow ALBERT models, on each model's own loss.

Labels come inside the input dict or as ``y`` (a tensor, a tuple in the order of the model's ``label_names``, or a
dict); compile with an optimizer only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # read once, when keras is first imported

import keras
import tensorflow as tf

from albertlite.outputs import ModelOutput

__all__ = ["KerasTrainingMixin"]


class KerasTrainingMixin:
    """Keras train, test and predict steps for a keras.Model whose call returns an output with ``loss``.

    Example:
        >>> model.compile(optimizer=keras.optimizers.Adam(3e-5))
        >>> model.fit(dataset, epochs=2)  # dataset yields ({"input_ids": ..., "attention_mask": ...}, labels)
    """

    #: the label arguments of ``call``, in the order a tuple ``y`` is matched to them
    label_names: tuple[str, ...] = ("labels",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loss_tracker = keras.metrics.Mean(name="loss")

    def _fit_inputs(self, data: Any) -> dict[str, Any]:
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if sample_weight is not None:
            raise ValueError(
                "sample_weight is not supported: the loss is the model's own (labels of -100 are ignored)."
            )
        inputs = dict(x) if isinstance(x, Mapping) else {"input_ids": x}
        if isinstance(y, Mapping):
            inputs.update(y)
        elif isinstance(y, (tuple, list)):
            inputs.update(zip(self.label_names, y))
        elif y is not None:
            inputs[self.label_names[0]] = y
        return inputs

    def _loss_of(self, outputs: ModelOutput) -> tf.Tensor:
        if outputs.loss is None:
            raise ValueError(
                f"{type(self).__name__} computed no loss: give {', '.join(self.label_names)} in the input dict or as y."
            )
        return outputs.loss

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        inputs = self._fit_inputs(data)
        with tf.GradientTape() as tape:
            loss = self._loss_of(self(**inputs, training=True))
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self._loss_tracker.update_state(loss)
        return {"loss": self._loss_tracker.result()}

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        self._loss_tracker.update_state(self._loss_of(self(**self._fit_inputs(data), training=False)))
        return {"loss": self._loss_tracker.result()}

    def predict_step(self, data: Any) -> dict[str, Any]:
        # A plain dict: Keras' structure utilities, which concatenate predict batches, know no dataclasses.
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return dict(self(x if isinstance(x, Mapping) else {"input_ids": x}, training=False).items())

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self._loss_tracker]

"""Model outputs: dataclasses readable by attribute, by key and by index, as Hugging Face's.

Index access skips fields that are None, so ``outputs[0]`` is the loss when labels were given
and the logits otherwise, exactly as ``transformers`` users expect. The classes are
framework-neutral; each framework registers them with its tracing machinery as needed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class ModelOutput:
    def to_tuple(self) -> tuple[Any, ...]:
        return tuple(value for _, value in self.items())

    def keys(self) -> list[str]:
        return [key for key, _ in self.items()]

    def values(self) -> list[Any]:
        return [value for _, value in self.items()]

    def items(self) -> list[tuple[str, Any]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None]

    def __getitem__(self, key: int | slice | str) -> Any:
        if isinstance(key, str):
            return dict(self.items())[key]
        return self.to_tuple()[key]

    def __contains__(self, key: str) -> bool:
        return key in self.keys()

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.items())


@dataclass
class BaseModelOutputWithPooling(ModelOutput):
    last_hidden_state: Any = None
    pooler_output: Any = None
    hidden_states: tuple[Any, ...] | None = None
    attentions: tuple[Any, ...] | None = None


@dataclass
class AlbertForPreTrainingOutput(ModelOutput):
    """Output of the pretraining head: MLM logits over the vocabulary and sentence-order logits."""

    loss: Any = None
    prediction_logits: Any = None
    sop_logits: Any = None
    hidden_states: tuple[Any, ...] | None = None
    attentions: tuple[Any, ...] | None = None


@dataclass
class MaskedLMOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: tuple[Any, ...] | None = None
    attentions: tuple[Any, ...] | None = None


@dataclass
class SequenceClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: tuple[Any, ...] | None = None
    attentions: tuple[Any, ...] | None = None


@dataclass
class TokenClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: tuple[Any, ...] | None = None
    attentions: tuple[Any, ...] | None = None


@dataclass
class MultipleChoiceModelOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: tuple[Any, ...] | None = None
    attentions: tuple[Any, ...] | None = None


@dataclass
class QuestionAnsweringModelOutput(ModelOutput):
    loss: Any = None
    start_logits: Any = None
    end_logits: Any = None
    hidden_states: tuple[Any, ...] | None = None
    attentions: tuple[Any, ...] | None = None


OUTPUT_CLASSES = (
    BaseModelOutputWithPooling,
    AlbertForPreTrainingOutput,
    MaskedLMOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
)


class LayerRecord:
    """What a transformer returns of its applied layers when asked: hidden states (its input first) and attentions.

    The PyTorch and TensorFlow transformers loop over the same execution order and record the same way.
    """

    def __init__(self, first_hidden: Any, hidden_states: bool, attentions: bool) -> None:
        self.hidden = [first_hidden] if hidden_states else None
        self.attentions: list[Any] | None = [] if attentions else None

    def add(self, hidden: Any, probs: Any) -> None:
        if self.hidden is not None:
            self.hidden.append(hidden)
        if self.attentions is not None:
            self.attentions.append(probs)

    def result(self, last: Any) -> tuple[Any, tuple | None, tuple | None]:
        """(last hidden state, every hidden state or None, every attention map or None)."""
        as_tuple = lambda items: tuple(items) if items is not None else None  # noqa: E731
        return last, as_tuple(self.hidden), as_tuple(self.attentions)

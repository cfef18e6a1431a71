"""The head specification (albertlite.heads): its rules, and that every framework's heads read it."""

from __future__ import annotations

import numpy as np
import pytest

from albertlite import heads
from albertlite.heads import HEADS, LabelValues

from .helpers.models import tiny_config

FRAMEWORK_PREFIXES = {"modeling_torch": "Albert", "modeling_tf": "TFAlbert", "modeling_flax": "FlaxAlbert"}


def _module(name: str):
    pytest.importorskip({"modeling_torch": "torch", "modeling_tf": "tensorflow", "modeling_flax": "flax"}[name])
    return pytest.importorskip(f"albertlite.{name}")


def _given(array: np.ndarray, readable: bool = True) -> LabelValues:
    return LabelValues(array.shape, np.issubdtype(array.dtype, np.integer), lambda: array if readable else None)


@pytest.mark.parametrize("module_name", FRAMEWORK_PREFIXES)
def test_every_head_class_has_a_spec(module_name):
    module = _module(module_name)
    prefix = FRAMEWORK_PREFIXES[module_name]
    base = getattr(module, f"{prefix}PreTrainedModel")
    classes = [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, base) and c is not base]
    assert {c.__name__.removeprefix(prefix) for c in classes if c.__module__ == module.__name__} == set(HEADS)
    for name, spec in HEADS.items():
        cls = getattr(module, prefix + name)
        assert cls.spec is spec
        call = {"modeling_torch": "forward", "modeling_tf": "call", "modeling_flax": None}[module_name]
        returned = (getattr(cls, call) if call else cls.module_class.__call__).__annotations__["return"]
        assert spec.output in returned


def test_flax_modules_build_the_pooler_the_spec_names():
    modeling_flax = _module("modeling_flax")
    for name, spec in HEADS.items():
        assert getattr(modeling_flax, f"FlaxAlbert{name}").module_class.add_pooling_layer == spec.pooler


def test_torch_heads_build_the_pooler_the_spec_names():
    modeling_torch = _module("modeling_torch")
    config = tiny_config()
    for name, spec in HEADS.items():
        model = getattr(modeling_torch, f"Albert{name}")(config)
        base = model if name == "Model" else model.albert
        assert (base.pooler is not None) == spec.pooler, name


@pytest.mark.parametrize(
    ("config_problem_type", "num_labels", "integer", "expected"),
    [
        (None, 1, False, "regression"),
        (None, 1, True, "regression"),
        (None, 3, True, "single_label_classification"),
        (None, 3, False, "multi_label_classification"),
        ("regression", 3, True, "regression"),
        ("multi_label_classification", 3, True, "multi_label_classification"),
    ],
)
def test_problem_type_rule(config_problem_type, num_labels, integer, expected):
    config = tiny_config(num_labels=num_labels, problem_type=config_problem_type)
    assert heads.problem_type(HEADS["ForSequenceClassification"], config, integer) == expected
    # heads without a problem type always classify single-label, whatever the config says
    assert heads.problem_type(HEADS["ForTokenClassification"], config, False) == "single_label_classification"


def test_check_labels_rules():
    config = tiny_config()  # vocab_size 99, num_labels 2
    spec = HEADS["ForPreTraining"]
    with pytest.raises(ValueError, match=r"^sentence_order_label holds 2; expected values in \[0, 2\) or -100"):
        both = {"labels": _given(np.array([[-100, 98]])), "sentence_order_label": _given(np.array([2]))}
        heads.check_labels(spec, config, both)
    # the pretraining loss needs both label kinds, so one alone is not checked (as the loss ignores it)
    heads.check_labels(spec, config, {"sentence_order_label": _given(np.array([2]))})
    # values that cannot be read (traced) pass, as do bounds unknown while tracing
    heads.check_labels(HEADS["ForMaskedLM"], config, {"labels": _given(np.array([[99]]), readable=False)})
    heads.check_labels(HEADS["ForMultipleChoice"], config, {"labels": _given(np.array([7]))}, num_choices=None)
    # span positions are clamped by the loss, not checked
    far = _given(np.array([1000]))
    heads.check_labels(HEADS["ForQuestionAnswering"], config, {"start_positions": far, "end_positions": far})
    multi = {"labels": _given(np.zeros((3, 2), np.float32))}
    heads.check_labels(HEADS["ForSequenceClassification"], config, multi, batch_size=None)  # unknown batch matches
    with pytest.raises(ValueError, match=r"expects labels shaped like the logits \(4, 2\) .* got \(3, 2\)"):
        heads.check_labels(HEADS["ForSequenceClassification"], config, multi, batch_size=4)


def test_spec_reads_the_label_names_in_signature_order():
    assert HEADS["ForPreTraining"].label_names == ("labels", "sentence_order_label")
    assert HEADS["ForQuestionAnswering"].label_names == ("start_positions", "end_positions")
    assert HEADS["Model"].label_names == ()


IDS = np.array([[2, 5, 7, 3], [2, 6, 3, 0]])
CHOICE_IDS = np.array([[[2, 5, 3], [2, 6, 3]]])
BAD_LABELS = [
    ("ForMaskedLM", IDS, {"labels": np.array([[-100, 99, -100, -100], [-100] * 4])}, "labels holds 99"),
    ("ForPreTraining", IDS, {"labels": np.full((2, 4), -100), "sentence_order_label": np.array([0, 2])},
     "sentence_order_label holds 2"),
    ("ForSequenceClassification", IDS, {"labels": np.array([1, 5])}, "labels holds 5"),
    ("ForSequenceClassification", IDS, {"labels": np.ones((2, 3), np.float32)}, "multi_label_classification expects"),
    ("ForTokenClassification", IDS, {"labels": np.array([[0, 1, -7, 1], [0, 0, 0, -100]])}, "labels holds -7"),
    ("ForMultipleChoice", CHOICE_IDS, {"labels": np.array([2])}, "labels holds 2; expected values in [0, 2)"),
]  # fmt: skip


def _message(module_name: str, head: str, ids: np.ndarray, labels: dict[str, np.ndarray]) -> str:
    model = getattr(_module(module_name), FRAMEWORK_PREFIXES[module_name] + head)(tiny_config())
    if module_name == "modeling_torch":
        import torch

        ids, labels = torch.tensor(ids), {k: torch.tensor(v) for k, v in labels.items()}
    with pytest.raises(ValueError) as raised:
        model(ids, **labels) if module_name == "modeling_flax" else model(input_ids=ids, **labels)
    return str(raised.value)


@pytest.mark.parametrize(("head", "ids", "labels", "expected"), BAD_LABELS)
def test_same_bad_labels_raise_the_same_message_in_every_framework(head, ids, labels, expected):
    messages = {name: _message(name, head, ids, labels) for name in FRAMEWORK_PREFIXES}
    assert expected in messages["modeling_torch"]
    assert len(set(messages.values())) == 1, messages

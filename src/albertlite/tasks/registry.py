"""The task registry: one entry per task, and the only place that tells tasks apart by name.

An entry holds everything the library does differently per task: its names, the model head, the columns its
examples have, how they become features, what the model's output per feature is, how those outputs are scored,
which pipeline turns them into results, and the routes a server offers for it. ``albertlite.pipeline``,
``albertlite predict``, fine-tuning and the server look tasks up here; a new task is a new entry plus its
featurizer, its scores and its pipeline.

Example:
    >>> get_task("ner").name
    'token-classification'
    >>> get_task("squad").head
    'AlbertForQuestionAnswering'
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albertlite.tasks import evaluation, examples, features, labels

if TYPE_CHECKING:
    from albertlite.tokenization_base import Tokenizer

TASK_FILE = "task.json"  # what a fine-tuned directory records of its task: name, labels, regression, metrics
COMMON_ROUTES = ("/embed", "/v1/embeddings", "/tokenize", "/decode")  # every model serves the encoder's routes


@dataclass(frozen=True)
class Task:
    """One task and everything that differs by task.

    Args:
        name: the canonical name (Hugging Face's where it has one).
        aliases: other names accepted everywhere a task is named.
        head: the PyTorch model class (``TFAlbert...``/``FlaxAlbert...`` carry the same suffix).
        description: one line for help texts.
        columns: canonical column -> accepted names in data files, first found wins.
        optional: columns a file may leave out.
        normalise: checks and tidies one example (``examples.*_example``).
        label_column: the column that holds the labels (prediction files may leave it out).
        named_labels: the labels are names the model learns (classes, tags).
        allows_regression: float labels make it a regression (one output).
        label_order: the sort key of label names.
        featurize: examples -> unpadded features (``features.*_features``); None: not fine-tunable.
        output: what the forward pass keeps per feature (see ``albertlite.inference.forward.OUTPUTS``).
        masked_inputs: inputs are masked before the forward pass (masked-LM training and evaluation).
        metric: the validation metric that picks the best epoch.
        regression_metric: the metric instead when the task runs as a regression.
        score: per-feature outputs -> validation metrics (``evaluation.*_scores``).
        check_validation: checks validation examples before training (they must be scorable).
        pipeline: the class in ``albertlite.inference.pipelines`` that turns outputs into results.
        stacked_column: a list column that a training batch stacks (multiple choice: batch x choices x tokens),
            so every training example must hold as many items as the first.
        result_key: the key of a prediction row whose pipeline result is not a dict.
        predict_defaults: call parameters ``predict`` uses unless given (one embedding per row, not per token).
        routes: the server's routes for this task, beside :data:`COMMON_ROUTES`.
        any_model: every checkpoint can run it (the encoder alone), whatever its head.
    """

    name: str
    aliases: tuple[str, ...]
    head: str
    description: str
    columns: Mapping[str, tuple[str, ...]]
    optional: frozenset[str]
    normalise: Callable[[dict[str, Any], str, int], dict[str, Any]]
    pipeline: str
    label_column: str | None = None
    named_labels: bool = False
    allows_regression: bool = False
    label_order: Callable[[str], Any] = labels.natural_order
    stacked_column: str | None = None
    featurize: Callable[..., list[dict[str, Any]]] | None = None
    output: str = "sequence"
    masked_inputs: bool = False
    metric: str | None = None
    regression_metric: str | None = None
    score: Callable[..., dict[str, float]] | None = None
    check_validation: Callable[..., None] | None = None
    result_key: str = "result"
    predict_defaults: Mapping[str, Any] = field(default_factory=dict)
    routes: tuple[str, ...] = ()
    any_model: bool = False

    @property
    def trainable(self) -> bool:
        """Whether ``albertlite finetune`` can train it."""
        return self.featurize is not None

    def head_class(self, framework: str = "torch") -> type:
        """The model class: ``framework`` "torch" (``Albert...``), "tf" (``TFAlbert...``) or "flax"."""
        import albertlite

        prefix = {"torch": "", "tf": "TF", "flax": "Flax"}[framework]
        return getattr(albertlite, prefix + self.head)

    def pipeline_class(self) -> type:
        """The inference pipeline class of this task."""
        return getattr(importlib.import_module("albertlite.inference.pipelines"), self.pipeline)


_SENTENCES = {
    "text": ("text", "sentence", "sentence1", "premise", "question1"),
    "text_pair": ("text_pair", "sentence2", "hypothesis", "question2"),
    "label": ("label", "labels", "score"),
}

REGISTRY: tuple[Task, ...] = (
    Task(
        name="text-classification",
        aliases=("classification", "sequence-classification", "sentiment-analysis", "regression"),
        head="AlbertForSequenceClassification",
        description="a label (or a score) per sentence or sentence pair",
        columns=_SENTENCES,
        optional=frozenset({"text_pair", "label"}),
        normalise=examples.text_example,
        label_column="label",
        named_labels=True,
        allows_regression=True,
        featurize=features.classification_features,
        metric="accuracy",
        regression_metric="pearson",
        score=evaluation.classification_scores,
        pipeline="TextClassificationPipeline",
        routes=("/predict", "/rerank"),
    ),
    Task(
        name="token-classification",
        aliases=("ner", "tagging"),
        head="AlbertForTokenClassification",
        description="a tag per word (named entities, parts of speech)",
        columns={"tokens": ("tokens", "words"), "tags": ("tags", "ner_tags", "labels", "label")},
        optional=frozenset({"tags"}),
        normalise=examples.tagged_example,
        label_column="tags",
        named_labels=True,
        label_order=labels.tag_order,
        featurize=features.token_features,
        output="tokens",
        metric="f1",
        score=evaluation.tagging_scores,
        pipeline="TokenClassificationPipeline",
        result_key="entities",
        routes=("/token-classification",),
    ),
    Task(
        name="question-answering",
        aliases=("qa", "squad"),
        head="AlbertForQuestionAnswering",
        description="the span of a context that answers a question (SQuAD)",
        columns={"id": ("id",), "question": ("question",), "context": ("context",), "answers": ("answers",)},
        optional=frozenset({"id", "answers"}),
        normalise=examples.question_example,
        label_column="answers",
        featurize=features.qa_features,
        output="span",
        metric="f1",
        score=evaluation.answer_scores,
        check_validation=evaluation.check_answerable,
        pipeline="QuestionAnsweringPipeline",
        routes=("/question-answering",),
    ),
    Task(
        name="multiple-choice",
        aliases=("mc", "choice"),
        head="AlbertForMultipleChoice",
        description="the best of several choices for a context and question (RACE, SWAG)",
        columns={
            "context": ("context", "article", "sent1"),
            "question": ("question", "sent2"),
            "choices": ("choices", "options", "endings", "ending*"),
            "label": ("label", "answer"),
        },
        optional=frozenset({"context", "question", "label"}),
        normalise=examples.choice_example,
        label_column="label",
        stacked_column="choices",
        featurize=features.choice_features,
        metric="accuracy",
        score=evaluation.choice_scores,
        pipeline="MultipleChoicePipeline",
        routes=("/multiple-choice",),
    ),
    Task(
        name="masked-lm",
        aliases=("fill-mask", "mlm"),
        head="AlbertForMaskedLM",
        description="the likeliest pieces for each [MASK] (and masked-LM fine-tuning on in-domain text)",
        columns={"text": ("text", "sentence")},
        optional=frozenset(),
        normalise=examples.text_example,
        featurize=features.mlm_features,
        output="masked",
        masked_inputs=True,
        metric="accuracy",
        score=evaluation.masked_lm_scores,
        pipeline="FillMaskPipeline",
        result_key="predictions",
        routes=("/fill-mask",),
    ),
    Task(
        name="feature-extraction",
        aliases=("embeddings", "embedding", "embed", "base"),
        head="AlbertModel",
        description="token features or one sentence embedding per text (any model's encoder)",
        columns={"text": ("text", "sentence")},
        optional=frozenset(),
        normalise=examples.text_example,
        output="hidden",
        pipeline="FeatureExtractionPipeline",
        result_key="embedding",
        predict_defaults={"pooling": "mean"},
        any_model=True,
    ),
)

_BY_NAME = {task.name: task for task in REGISTRY}
_BY_ALIAS = {alias: task for task in REGISTRY for alias in (task.name, *task.aliases)}
TASKS = tuple(task.name for task in REGISTRY)
TRAINABLE_TASKS = tuple(task.name for task in REGISTRY if task.trainable)


def get_task(task: str | Task) -> Task:
    """The entry of a task name or alias (``"squad"``, ``"ner"``, ``"fill-mask"`` ...); a Task is returned as is."""
    if isinstance(task, Task):
        return task
    key = str(task).strip().lower().replace("_", "-")
    if key not in _BY_ALIAS:
        raise ValueError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    return _BY_ALIAS[key]


def canonical_task(task: str | Task) -> str:
    """The canonical name of a task name or alias."""
    return get_task(task).name


def trainable_task(task: str | Task) -> Task:
    """The entry of a task fine-tuning can train, or a ValueError naming those it can."""
    entry = get_task(task)
    if not entry.trainable:
        raise ValueError(
            f"{entry.name} has nothing to fine-tune (it runs any model's encoder); "
            f"fine-tune one of {', '.join(TRAINABLE_TASKS)}."
        )
    return entry


PRETRAINING = "pretraining"  # not a task: the head pair pretraining trains (masked LM + sentence order)
PRETRAINING_HEAD = "AlbertForPreTraining"


def head_for(name: str) -> str:
    """The PyTorch class for a task name or alias, or for "pretraining" (``AlbertForPreTraining``)."""
    return PRETRAINING_HEAD if name == PRETRAINING else get_task(name).head


def task_for_head(class_name: str) -> Task | None:
    """The task whose head is ``class_name`` (with or without a TF/Flax prefix), or None (base, pretraining)."""
    bare = class_name.removeprefix("TF").removeprefix("Flax")
    return next((task for task in REGISTRY if task.head == bare and not task.any_model), None)


# --------------------------------------------------------------------------- the task a model directory records


def read_task_file(path: str | os.PathLike) -> dict[str, Any]:
    """A task.json file's contents (task, labels, regression, metrics), checked to name a task."""
    path = Path(path)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}).") from None
    if not isinstance(info, dict) or not isinstance(info.get("task"), str):
        raise ValueError(f"{path} does not name a task (expected {{'task': ..., ...}}).")
    return info


def directory_task(name_or_path: str | os.PathLike) -> tuple[Task | None, str]:
    """The task a model directory or Hub repository was saved for, and where that was read.

    task.json (written by fine-tuning) wins; otherwise config.json's ``architectures`` name a task head.

    Returns:
        ``(task, source)``; task is None when nothing records one (a base or pretraining checkpoint).

    Raises:
        CheckpointNotFoundError: a Hub id that cannot be resolved (no such repository, not cached offline, the Hub
            unreachable), as loading the model would.
        ValueError: an empty name, or a file instead of its directory.
    """
    from albertlite.checkpoints.hub import resolve_file

    task_file = resolve_file(name_or_path, TASK_FILE, required=False)
    config = None if task_file is not None else resolve_file(name_or_path, "config.json", required=False)
    if task_file is not None:
        return get_task(read_task_file(task_file)["task"]), str(task_file)
    try:
        architectures = json.loads(config.read_text(encoding="utf-8")).get("architectures") or [] if config else []
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        architectures = []  # a malformed config.json is reported by the model loader, with its path
    for name in architectures:
        task = task_for_head(str(name))
        if task is not None:
            return task, f"{config} names {name}"
    return None, ""


def model_task(model: Any) -> Task | None:
    """The task of a model object, from its class (None for a base or pretraining model)."""
    return task_for_head(type(model).__name__)


def resolve_task(requested: str | Task | None, recorded: Task | None, where: str, model_name: str) -> Task:
    """The task to run: the one named, checked against the one the model records, or the recorded one.

    A model that records a task runs that task, or any task that needs only the encoder (feature extraction);
    asking it for another would run a head it was never trained with, so that is refused, naming both.

    Raises:
        ValueError: no task named and none recorded, or the two conflict.
    """
    if requested is None:
        if recorded is None:
            raise ValueError(
                f"{model_name} records no task (no {TASK_FILE} and no task head in config.json): name one of "
                f"{', '.join(TASKS)}."
            )
        return recorded
    task = get_task(requested)
    if recorded is not None and task is not recorded and not task.any_model:
        raise ValueError(
            f"{model_name} is a {recorded.name} model ({where}), not a {task.name} one: leave the task out, or "
            f"give a {task.name} model (fine-tune one with albertlite finetune --task {task.name})."
        )
    return task


# --------------------------------------------------------------------------- examples, labels and features by task


def load_examples(source: Any, task: str | Task, *, require_labels: bool = True) -> list[dict[str, Any]]:
    """Read a task's examples (see :func:`albertlite.tasks.examples.read_examples`)."""
    entry = get_task(task)
    others = [other for other in REGISTRY if other is not entry and not other.any_model]
    return examples.read_examples(source, entry, require_labels=require_labels, others=others)


def dataset_label_names(source: Any, task: str | Task) -> list[str] | None:
    """The ClassLabel names of a ``datasets.Dataset``'s label column, in id order (None otherwise)."""
    return examples.dataset_label_names(source, get_task(task))


def label_names(examples_: Sequence[Mapping[str, Any]], task: str | Task) -> list[str] | None:
    """The sorted label names of training examples, or None for regression and label-free tasks."""
    return labels.label_names(examples_, get_task(task))


def check_labels(
    examples_: Sequence[Mapping[str, Any]], task: str | Task, names: Sequence[str] | None, source: str
) -> None:
    """Raise ValueError naming ``source`` and the example when a label is not one of ``names``."""
    labels.check_labels(examples_, get_task(task), names, source)


def prepare_features(
    task: str | Task,
    examples_: Sequence[Mapping[str, Any]],
    tokenizer: Tokenizer,
    label2id: Mapping[str, int] | None = None,
    settings: features.FeatureSettings | None = None,
    *,
    training: bool = True,
) -> list[dict[str, Any]]:
    """Tokenize examples into unpadded features for ``task``.

    Args:
        task: the task name or entry.
        examples_: canonical examples from :func:`load_examples`.
        tokenizer: an ALBERT tokenizer; question answering needs the fast one (character offsets).
        label2id: label name -> id for classification and tagging (unseen labels raise ValueError).
        settings: lengths and strides.
        training: question answering: label each window with its answer span. Otherwise keep the
            offsets needed to decode predictions. Labels are attached whenever examples have them.

    Returns:
        One dict per feature: ``input_ids``, ``token_type_ids`` and the task's labels (``labels``,
        ``start_positions``/``end_positions``); QA features also carry ``example_index`` and
        ``offset_mapping`` (None outside the context), tagging features ``word_ids``.
    """
    featurize = trainable_task(task).featurize
    settings = settings or features.FeatureSettings()
    if settings.max_length < features.MIN_LENGTH:
        raise ValueError(f"max_length must be at least {features.MIN_LENGTH}, got {settings.max_length}.")
    return featurize(examples_, tokenizer, label2id or {}, settings, training)  # type: ignore[misc]

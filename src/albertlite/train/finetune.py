"""Fine-tune ALBERT (PyTorch) on one of the tasks of the registry, from data files to a directory that loads with
from_pretrained (and runs with ``albertlite.pipeline(model=dir)``, which reads the task it records).

What is fine-tuning's own: labels from the data, the epoch loop with evaluation after every epoch, keeping the
best epoch (by the task's metric) in ``output_dir``, early stopping, and what a resumed run must share with the
stopped one. Everything else is the shared toolkit: the task's featurizer, scores and outputs from
:mod:`albertlite.tasks`, the forward pass of :mod:`albertlite.inference.forward`, AdamW over
:func:`albertlite.optim.parameter_groups` with :class:`~albertlite.optim.LearningRateSchedule` (linear warm-up and
decay, as transformers'), the pickle-free checkpoints of :mod:`albertlite.train.checkpointing` (the end of every
epoch, in ``output_dir/checkpoints/``), and :class:`~albertlite.train.metrics_log.MetricsLogger` (metrics.jsonl,
TensorBoard, curves.png). The output directory is locked for the run, never one of its inputs, and every save
(model, tokenizer and task.json together) replaces the previous one in one rename.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from albertlite.checkpoints.files import MODEL_FILES, TOKENIZER_FILES, atomic_write_text, staged_directory
from albertlite.checkpoints.run_dir import (
    OutputLock,
    check_apart,
    claim_output,
    clear_directory,
    directory_kind,
    option,
)
from albertlite.config import AlbertConfig
from albertlite.data.masking import NgramMasker
from albertlite.devices import bf16_pays_off, resolve_device
from albertlite.inference.forward import forward_features
from albertlite.inference.pipelines import default_max_length
from albertlite.optim import LearningRateSchedule, build_optimizer, clip_grad_norm
from albertlite.progress import Progress
from albertlite.recipes import get_recipe
from albertlite.tasks import registry
from albertlite.tasks.batching import batch_indices, collate, mask_batch
from albertlite.tasks.decoding import DecodeSettings
from albertlite.tasks.evaluation import ScoreOptions
from albertlite.tasks.features import FeatureSettings
from albertlite.tasks.labels import is_regression, label_values
from albertlite.tokenization_auto import load_tokenizer
from albertlite.train import checkpointing as ckpt
from albertlite.train import options
from albertlite.train.metrics_log import CURVES_FILE, METRICS_FILE, MetricsLogger, plot_curves
from albertlite.validation import check_number

if TYPE_CHECKING:
    from albertlite.tokenization_base import Tokenizer

logger = logging.getLogger(__name__)

RESULTS_FILE = "finetune_results.json"
TASK_FILE = registry.TASK_FILE
RESUME_DIR = "checkpoints"  # the end of every epoch, removed when the run ends
LEGACY_RESUME_FILE = "last-epoch/state.pt"  # albertlite 0.x's pickled resume point: refused, never loaded
KEEP_RESUME_POINTS = 2  # the newest intact one is used; the one before is the fallback
ADAMW_EPS = 1e-8  # torch's and transformers' AdamW default (pretraining's LAMB uses the authors' 1e-6)
# settings a resumed run must share with the stopped one, and how the user names them
FIXED_SETTINGS = {
    "task": "--task", "model": "--model", "train": "--train (its contents)",
    "validation": "--validation (its contents)", "labels": "the labels", "regression": "regression",
    "learning_rate": "--lr", "batch_size": "--batch-size", "gradient_accumulation_steps": "--grad-accum",
    "warmup": "--warmup-ratio", "weight_decay": "weight_decay", "max_grad_norm": "max_grad_norm",
    "max_length": "--max-length", "doc_stride": "--doc-stride", "max_query_length": "max_query_length",
    "dropout": "dropout", "classifier_dropout": "classifier_dropout", "classifier_pooling": "--classifier-pooling",
    "group_by_length": "group_by_length", "seed": "--seed", "metric": "--metric", "mlm_probability": "mlm_probability",
    "version_2": "--version-2",
}  # fmt: skip
# settings that count something, and the flag that sets each
_COUNTS = {"batch_size": "--batch-size", "gradient_accumulation_steps": "--grad-accum", "max_length": "--max-length",
           "doc_stride": "--doc-stride", "max_query_length": "max_query_length", "eval_batch_size": "eval_batch_size",
           "n_best": "n_best", "max_answer_length": "max_answer_length"}  # fmt: skip
# what a resume point does not record: how the run is shown, and the resume switches themselves
_UNRECORDED = ("extra", "resume", "overwrite", "progress", "tensorboard", "plot", "warmup_ratio", "warmup_steps")


@dataclass
class FinetuneSettings:
    """Hyper-parameters of a fine-tuning run (defaults suit a small GLUE task).

    Args:
        learning_rate: AdamW's peak rate.
        batch_size: examples per optimizer step (split into ``gradient_accumulation_steps`` micro-batches).
        epochs: passes over the training data (ignored when ``max_steps`` is set).
        max_steps: stop after this many optimizer steps.
        warmup_ratio / warmup_steps: linear warm-up length (steps win when both are set).
        weight_decay: AdamW weight decay (not on biases and LayerNorm).
        gradient_accumulation_steps: micro-batches per optimizer step.
        max_grad_norm: gradient clipping (0 turns it off).
        max_length / doc_stride / max_query_length: feature building (see FeatureSettings).
        regression: text classification with float labels (auto-detected when None).
        dropout: ALBERT hidden and attention dropout (None keeps the checkpoint's).
        classifier_dropout: the head's dropout (None keeps the checkpoint's).
        classifier_pooling: "cls" (ALBERT's pooler on the first token) or "mean" (the pooler on the mean of
            the real tokens) for text classification and multiple choice (None keeps the checkpoint's).
        group_by_length: batches of similar lengths.
        bf16: bfloat16 autocast for forward and loss (:meth:`from_recipe` turns it on where the device has bf16
            arithmetic that measures faster than float32, :func:`albertlite.devices.bf16_pays_off`).
        eval_batch_size: batch size for evaluation.
        metric: the validation metric that picks the best epoch (the task default when None).
        early_stopping_patience: stop after this many epochs without improvement (None: never).
        n_best / max_answer_length / null_score_threshold / version_2: question answering decoding.
        mlm_probability: masked-LM fine-tuning: fraction of tokens to predict.
        seed: seed of initialisation, shuffling and masking.
        device: "cpu", "cuda", "cuda:N" or "mps" (default: CUDA when available); one this machine lacks is refused.
        progress: show progress: a bar on a terminal, a line every few seconds in a log (:mod:`albertlite.progress`).
        tensorboard: also write TensorBoard events (needs the ``tensorboard`` package).
        plot: draw ``curves.png`` (training loss, learning rate, the validation metric) at the end.
        resume: continue from the newest intact end-of-epoch checkpoint in ``output_dir`` when there is one. The
            data, model, labels, batch, seed and optimizer settings must be the stopped run's (a difference is
            refused, naming it); epochs, steps, patience, evaluation batch, device and bf16 may change.
        overwrite: replace ``output_dir`` whole when it holds another kind of model or run (and start over).
        recipe: the recipe the settings came from (recorded in the results).
        packed: train on the real tokens only when at least 20% of a batch is padding
            (:mod:`albertlite.fast.packed_training`; the same gradients as the padded step, to float rounding); False
            computes the padded positions too.
            Question answering always trains padded (its span loss reads every position).
    """

    learning_rate: float = 3e-5
    batch_size: int = 32
    epochs: float | None = 3.0  # None: max_steps decides (a recipe)
    max_steps: int | None = None
    warmup_ratio: float = 0.1
    warmup_steps: int | None = None
    weight_decay: float = 0.01
    gradient_accumulation_steps: int = 1
    max_grad_norm: float = 1.0
    max_length: int = 128
    doc_stride: int = 128
    max_query_length: int = 64
    regression: bool | None = None
    dropout: float | None = None
    classifier_dropout: float | None = None
    classifier_pooling: str | None = None
    group_by_length: bool = True
    bf16: bool = False
    eval_batch_size: int = 64
    metric: str | None = None
    early_stopping_patience: int | None = None
    n_best: int = 20
    max_answer_length: int = 30
    null_score_threshold: float = 0.0
    version_2: bool = False
    mlm_probability: float = 0.15
    seed: int = 42
    device: str | None = None
    progress: bool = True
    tensorboard: bool = True
    plot: bool = True
    resume: bool = True
    overwrite: bool = False
    recipe: str | None = None
    packed: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse settings that would train something else than asked (0 epochs trained a step, batch 0 ran as 1)."""
        check_number("learning_rate (--lr)", self.learning_rate, above=0)
        for name, flag in _COUNTS.items():
            check_number(f"{name} ({flag})", getattr(self, name), minimum=1)
            if getattr(self, name) != int(getattr(self, name)):
                raise ValueError(f"{name} ({flag}) must be a whole number, got {getattr(self, name)}.")
        if self.max_steps is not None:
            check_number("max_steps (--max-steps)", self.max_steps, minimum=1)
        elif self.epochs is not None:
            check_number("epochs (--epochs)", self.epochs, above=0)
        check_number("warmup_ratio (--warmup-ratio)", self.warmup_ratio, minimum=0, maximum=1)
        if self.warmup_steps is not None:
            check_number("warmup_steps", self.warmup_steps, minimum=0)
        check_number("weight_decay", self.weight_decay, minimum=0)
        check_number("max_grad_norm", self.max_grad_norm, minimum=0)
        check_number("mlm_probability", self.mlm_probability, above=0, maximum=1)
        resolve_device(self.device, name="device")  # refused before the data is read, not mid-run
        accum = int(self.gradient_accumulation_steps)
        if self.batch_size % accum:  # micro-batches of batch // accum rows would train a smaller batch unsaid
            nearest = max(accum, self.batch_size // accum * accum)
            raise ValueError(f"--batch-size {self.batch_size} is not a multiple of --grad-accum {accum}; "
                             f"use e.g. --batch-size {nearest}.")  # fmt: skip
        # the rest by type (a bf16 of "no" would be true): after the range checks, whose messages name the flags
        options.check_option_types(FinetuneSettings, {f.name: getattr(self, f.name) for f in fields(self)},
                                   "FinetuneSettings")  # fmt: skip

    @classmethod
    def from_recipe(cls, name: str, **overrides: Any) -> FinetuneSettings:
        """The paper's recipe ``name`` (see albertlite.recipes), with ``overrides`` on top (None values ignored)."""
        recipe = get_recipe(name)
        device = resolve_device(overrides.get("device"), name="device", default="auto")
        base = {
            # the recipes train ALBERT-base or larger, where bf16 autocast is about 2x faster and learns the same
            # (docs/finetuning.md, "bf16"); only where the device has bf16 arithmetic that measures faster
            "bf16": bf16_pays_off(device),
            "learning_rate": recipe.learning_rate,
            "batch_size": recipe.batch_size,
            "max_steps": recipe.max_steps,
            "warmup_steps": recipe.warmup_steps,
            "max_length": recipe.max_length,
            "dropout": recipe.dropout,
            "classifier_dropout": 0.1,
            "metric": recipe.metric,
            "recipe": recipe.name,
        }
        known = {f.name for f in fields(cls)}
        base.update({k: v for k, v in recipe.extra.items() if k in known})
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)


@dataclass
class FinetuneResult:
    """What a run produced.

    Args:
        output_dir: the directory holding the best model, tokenizer and results.
        best_metric: the best validation value of ``metric``.
        metric: the selection metric's name.
        history: per epoch, the training loss and validation metrics.
        epochs_run: epochs finished (an early stop ends before ``epochs``).
    """

    output_dir: Path
    best_metric: float | None
    metric: str
    history: list[dict[str, Any]]
    epochs_run: int


def finetune(
    task: str,
    model: str | os.PathLike,
    train: Any,
    validation: Any | None,
    output_dir: str | os.PathLike,
    settings: FinetuneSettings | None = None,
    *,
    tokenizer: Tokenizer | None = None,
) -> FinetuneResult:
    """Fine-tune ``model`` on ``task`` and keep the best epoch in ``output_dir``.

    Args:
        task: a trainable registry task: "text-classification", "token-classification", "question-answering",
            "multiple-choice" or "masked-lm" (aliases such as "squad", "ner", "mlm" work).
        model: a directory or Hub id holding an ALBERT checkpoint (any head) and its tokenizer.
        train: training examples: a file path, a list of dicts or a ``datasets.Dataset`` (whose ClassLabel
            names, when the label column has them, become the model's labels in the dataset's order).
        validation: validation examples in the same forms (None: the last epoch is kept).
        output_dir: where the model, tokenizer, task.json, ``finetune_results.json`` and the metrics go.
        settings: hyper-parameters (defaults: FinetuneSettings()). ``max_length`` is capped by the model's
            maximum (its position table, or the tokenizer's ``model_max_length``), with a warning.
        tokenizer: a tokenizer object to use instead of the model's.

    Returns:
        A FinetuneResult.

    Example:
        >>> finetune("text-classification", "albert/albert-base-v2", "tr.jsonl", "dev.jsonl", "out")  # doctest: +SKIP
    """
    entry = registry.trainable_task(task)
    settings = settings or FinetuneSettings()
    output = Path(output_dir)
    check_apart(output, "--output", {"--model": model, "--train": train, "--validation": validation})
    with OutputLock(output, "albertlite finetune"):
        cleared = claim_output(output, _kind(entry), overwrite=settings.overwrite)
        if settings.overwrite and not cleared and directory_kind(output) == _kind(entry):
            clear_directory(output)
        run = _Run(entry, settings, load_tokenizer(model if tokenizer is None else tokenizer), output)
        run.fit_length(AlbertConfig.from_pretrained(model))
        train_examples = registry.load_examples(train, entry)
        eval_examples = registry.load_examples(validation, entry) if validation is not None else None
        run.build_labels(train_examples, registry.dataset_label_names(train, entry))
        if eval_examples is not None:
            source = str(validation) if isinstance(validation, (str, os.PathLike)) else "validation data"
            registry.check_labels(eval_examples, entry, run.label_list, source)
            if entry.check_validation is not None:
                entry.check_validation(eval_examples, run.score_options(), source)
        run.identity = {"model": _model_identity(model), "train": ckpt.fingerprint(train),
                        "validation": None if validation is None else ckpt.fingerprint(validation)}  # fmt: skip
        # every input is featurized (and so checked against the maximum length) before training starts
        train_features = run.features(train_examples, training=True)
        eval_features = run.features(eval_examples, training=False) if eval_examples is not None else None
        run.load_model(model)
        return run.train(train_features, eval_examples, eval_features)


def _start_over() -> str:
    return f"pass {option('--no-resume', 'resume=False')} to start over"


def _kind(task: registry.Task) -> str:
    return f"a fine-tuned {task.name} model"


def _model_identity(model: str | os.PathLike) -> str:
    """What a resumed run checks of the starting checkpoint: its config's contents (or its Hub id)."""
    config = Path(model) / "config.json"
    return ckpt.fingerprint(config) if config.is_file() else str(model)


class _Run:
    """One fine-tuning run's state: settings, labels, model, optimizer."""

    def __init__(self, task: registry.Task, settings: FinetuneSettings, tokenizer: Tokenizer, output: Path) -> None:
        self.task, self.settings, self.tokenizer, self.output = task, settings, tokenizer, output
        self.metric = settings.metric or task.metric
        self.max_length = settings.max_length
        self.identity: dict[str, Any] = {}
        self.label_list: list[str] | None = None
        self.regression = bool(settings.regression) and task.allows_regression
        self.device = resolve_device(settings.device, name="device", default="auto")
        self.warmup = 0

    def fit_length(self, config: AlbertConfig) -> None:
        """Cap ``max_length`` at what the model accepts (the default 128 is longer than some small models)."""
        limit = default_max_length(config, self.tokenizer)
        if self.max_length > limit:
            logger.warning("max_length %d is longer than the model accepts: using %d (longer inputs are truncated)",
                           self.max_length, limit)  # fmt: skip
            self.max_length = limit
        self.masker = NgramMasker.from_tokenizer(
            self.tokenizer, masked_lm_prob=self.settings.mlm_probability, max_predictions_per_seq=self.max_length
        )

    def build_labels(self, examples: Sequence[Mapping[str, Any]], names: list[str] | None = None) -> None:
        """Labels seen in ``examples``, sorted; a dataset's ClassLabel ``names`` win, in the dataset's order."""
        if self.task.allows_regression and self.settings.regression is None:
            values = [value for example in examples for value in label_values(example, self.task)]
            self.regression = names is None and is_regression(values)
        if self.regression:
            self.metric = self.settings.metric or self.task.regression_metric or self.metric
            return
        self.label_list = names if names is not None else registry.label_names(examples, self.task)

    @property
    def label2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.label_list or [])}

    def features(self, examples: Sequence[Mapping[str, Any]], training: bool) -> list[dict[str, Any]]:
        feature_settings = FeatureSettings(
            max_length=self.max_length,
            doc_stride=self.settings.doc_stride,
            max_query_length=self.settings.max_query_length,
            regression=self.regression,
        )
        return registry.prepare_features(
            self.task, examples, self.tokenizer, self.label2id, feature_settings, training=training
        )

    def score_options(self) -> ScoreOptions:
        s = self.settings
        decode = DecodeSettings(n_best=s.n_best, max_answer_length=s.max_answer_length,
                                null_score_threshold=s.null_score_threshold, allow_no_answer=s.version_2)  # fmt: skip
        return ScoreOptions(label_list=self.label_list, decode=decode, version_2=s.version_2)

    def load_model(self, name_or_path: str | os.PathLike) -> None:
        torch.manual_seed(self.settings.seed)
        overrides: dict[str, Any] = {}
        if self.label_list is not None:
            overrides["id2label"] = dict(enumerate(self.label_list))
            overrides["label2id"] = self.label2id
        elif self.regression:
            overrides.update(id2label={0: "LABEL_0"}, label2id={"LABEL_0": 0}, problem_type="regression")
        if self.settings.dropout is not None:
            overrides.update(
                hidden_dropout_prob=self.settings.dropout, attention_probs_dropout_prob=self.settings.dropout
            )
        if self.settings.classifier_dropout is not None:
            overrides["classifier_dropout_prob"] = self.settings.classifier_dropout
        if self.settings.classifier_pooling is not None:
            overrides["classifier_pooling"] = self.settings.classifier_pooling
        self.model = self.task.head_class().from_pretrained(name_or_path, **overrides).to(self.device)
        base = self.model.base_model
        base.packed_training = base.packed_training and self.settings.packed  # QA's head keeps its own False

    # ----------------------------------------------------------------------- training
    def train(
        self,
        train_features: list[dict[str, Any]],
        eval_examples: list[dict[str, Any]] | None,
        eval_features: list[dict[str, Any]] | None,
    ) -> FinetuneResult:
        s = self.settings
        micro = max(1, s.batch_size // s.gradient_accumulation_steps)
        steps_per_epoch = math.ceil(math.ceil(len(train_features) / micro) / s.gradient_accumulation_steps)
        total_steps = s.max_steps or max(1, math.ceil(steps_per_epoch * s.epochs))
        epochs = math.ceil(total_steps / steps_per_epoch)
        self.warmup = s.warmup_steps if s.warmup_steps is not None else int(total_steps * s.warmup_ratio)
        optimizer = build_optimizer(self.model, "adamw", lr=s.learning_rate, weight_decay=s.weight_decay,
                                    eps=ADAMW_EPS)  # fmt: skip
        checkpoint = self._resume_point()
        if checkpoint is not None:  # a longer or shorter run keeps the stopped run's warm-up
            self.warmup = int(checkpoint.state["settings"]["warmup"])
        schedule = LearningRateSchedule(s.learning_rate, total_steps, self.warmup, kind="linear")
        state = {"epoch": 0, "step": 0, "best": None, "stale": 0, "history": []}
        if checkpoint is not None:
            checkpoint.restore(self.model, optimizer, self._settings(), FIXED_SETTINGS, _start_over())
            state = {k: checkpoint.state[k] for k in ("epoch", "step", "best", "stale", "history")}
        metrics = MetricsLogger(self.output, state["step"], s.tensorboard)
        with contextlib.closing(metrics), Progress(total_steps, desc="fine-tuning", initial=state["step"],
                                                   enabled=s.progress) as progress:  # fmt: skip
            while state["epoch"] < epochs and state["step"] < total_steps:
                rng = np.random.default_rng(s.seed + state["epoch"])  # per epoch, so a resumed run masks the same
                loss = self._epoch(train_features, micro, optimizer, schedule, state, progress, metrics, rng)
                record, improved = self._end_epoch(loss, state, eval_examples, eval_features, metrics)
                progress.set_values(**{k: round(v, 4) for k, v in record.items() if isinstance(v, float)})
                self._save_resume_point(optimizer, schedule, state)
                if not improved and self._patience_spent(state):
                    logger.info("early stop after epoch %d", state["epoch"])
                    break
        if eval_features is None and state["history"]:
            self.save(self.output, state["history"][-1])
        self._write_results(state)
        self._remove_resume_points()
        return FinetuneResult(self.output, state["best"], self.metric, state["history"], state["epoch"])

    def _epoch(self, features, micro, optimizer, schedule, state, progress, metrics, rng) -> float:
        s = self.settings
        self.model.train()
        batches = batch_indices(
            features, micro, shuffle=True, group_by_length=s.group_by_length, seed=s.seed + state["epoch"]
        )
        losses, pending = [], []
        for number, indices in enumerate(batches, 1):
            batch = collate([features[i] for i in indices], self.tokenizer.pad_token_id)
            if self.task.masked_inputs:
                batch = mask_batch(batch, self.masker, rng)
            loss = self._loss(batch) / s.gradient_accumulation_steps
            loss.backward()
            pending.append(loss.item() * s.gradient_accumulation_steps)
            if len(pending) == s.gradient_accumulation_steps or number == len(batches):
                self._step(optimizer, schedule, state, metrics, pending)
                progress.update(1, loss=round(float(np.mean(pending)), 4))
                losses += pending
                pending = []
                if state["step"] >= schedule.total_steps:
                    break
        return float(np.mean(losses)) if losses else float("nan")

    def _end_epoch(self, loss, state, eval_examples, eval_features, metrics) -> tuple[dict[str, Any], bool]:
        """Evaluate, record and keep the epoch when it is the best so far; returns the record and whether it was."""
        record = {"epoch": state["epoch"] + 1, "train_loss": loss, "step": state["step"]}
        if eval_features is not None:
            record.update(self.evaluate(eval_examples, eval_features))
            metrics.log(state["step"], "eval", {k: v for k, v in record.items() if k != "step"})
        state["epoch"] += 1
        state["history"].append(record)
        improved = self._select(record, state)
        logger.info("epoch %d: %s", state["epoch"], record)
        return record, improved

    def _patience_spent(self, state: dict[str, Any]) -> bool:
        patience = self.settings.early_stopping_patience
        return patience is not None and state["stale"] >= patience

    def _loss(self, batch: dict[str, np.ndarray]) -> torch.Tensor:
        inputs = {k: torch.as_tensor(v, device=self.device) for k, v in batch.items()}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.settings.bf16):
            return self.model(**inputs).loss

    def _step(self, optimizer, schedule, state, metrics, losses) -> None:
        lr = schedule.apply(optimizer, state["step"])
        grad_norm = clip_grad_norm(self.model.parameters(), self.settings.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        state["step"] += 1
        metrics.log(state["step"], "train", {"loss": float(np.mean(losses)), "lr": lr, "grad_norm": grad_norm})

    def _select(self, record: dict[str, Any], state: dict[str, Any]) -> bool:
        if self.metric not in record:
            if "train_loss" in record and len(record) <= 3:
                return True  # no validation data: nothing to select on
            raise ValueError(f"metric {self.metric!r} is not among the validation metrics {sorted(record)}.")
        value = record[self.metric]
        if state["best"] is None or value > state["best"]:
            state["best"], state["stale"] = value, 0
            self.save(self.output, record)
            return True
        state["stale"] += 1
        return False

    # ----------------------------------------------------------------------- evaluation
    def evaluate(self, examples: list[dict[str, Any]], features: list[dict[str, Any]]) -> dict[str, float]:
        """The task's validation scores; masked-LM evaluation masks with a fixed seed (the same masks each epoch)."""
        prepare = None
        if self.task.masked_inputs:
            rng = np.random.default_rng(0)

            def prepare(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
                return mask_batch(batch, self.masker, rng)

        outputs = forward_features(
            self.model, features, self.task.output, pad_token_id=self.tokenizer.pad_token_id,
            batch_size=self.settings.eval_batch_size, prepare=prepare,
        )  # fmt: skip
        return self.task.score(examples, features, outputs, self.score_options())

    # ----------------------------------------------------------------------- saving and resuming
    def save(self, directory: Path, record: Mapping[str, Any]) -> None:
        """Model, tokenizer and task.json, replacing the previous ones together (the resume points stay)."""
        info = {"task": self.task.name, "labels": self.label_list, "regression": self.regression,
                "metrics": dict(record)}  # fmt: skip
        with staged_directory(directory, replaces=(*MODEL_FILES, *TOKENIZER_FILES, TASK_FILE)) as staging:
            self.model.save_pretrained(staging)
            self.tokenizer.save_pretrained(staging)
            (staging / TASK_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    def _write_results(self, state: dict[str, Any]) -> None:
        results = {
            "task": self.task.name,
            "metric": self.metric,
            "best": state["best"],
            "history": state["history"],
            "settings": {
                **{k: v for k, v in asdict(self.settings).items() if k != "extra"},
                "max_length": self.max_length,
            },
        }
        atomic_write_text(self.output / RESULTS_FILE, json.dumps(results, indent=2, default=str) + "\n")
        if self.settings.plot:
            panels = (("training loss", "loss"), ("learning rate", "lr"), (f"validation {self.metric}", self.metric))
            plot_curves(self.output / METRICS_FILE, self.output / CURVES_FILE, panels)

    def _settings(self) -> dict[str, Any]:
        """What a resume point records of the run, to compare on resume (see FIXED_SETTINGS)."""
        recorded = {k: v for k, v in asdict(self.settings).items() if k not in _UNRECORDED}
        return {**recorded, **self.identity, "task": self.task.name, "labels": self.label_list,
                "regression": self.regression, "metric": self.metric, "warmup": self.warmup,
                "max_length": self.max_length}  # fmt: skip

    def _save_resume_point(self, optimizer, schedule, state) -> None:
        directory = self.output / RESUME_DIR
        directory.mkdir(parents=True, exist_ok=True)
        kind = _kind(self.task)
        record = {**state, "kind": kind, "schedule": asdict(schedule), "settings": self._settings()}
        summary = {"step": state["step"], "epoch": state["epoch"], "kind": kind}
        ckpt.save_checkpoint(directory, self.model, optimizer, record, summary, keep=KEEP_RESUME_POINTS)

    def _resume_point(self) -> ckpt.Checkpoint | None:
        """The newest intact resume point when resuming; otherwise the old ones are deleted (a fresh start)."""
        legacy = self.output / LEGACY_RESUME_FILE
        if not self.settings.resume or self.settings.overwrite:
            self._remove_resume_points()
            return None
        if legacy.exists():
            raise ckpt.CheckpointError(f"{ckpt.LegacyCheckpointError(legacy)}: {_start_over()}")
        directory = self.output / RESUME_DIR
        ckpt.clean_checkpoint_dir(directory)
        return ckpt.load_latest(directory, 0, _start_over())

    def _remove_resume_points(self) -> None:
        for path in (self.output / RESUME_DIR, (self.output / LEGACY_RESUME_FILE).parent):
            if path.is_dir():
                ckpt.retire(path)

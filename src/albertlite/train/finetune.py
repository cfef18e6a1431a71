"""Fine-tune ALBERT (PyTorch) on one of the five tasks, from data files to a directory that loads with from_pretrained.

The loop: AdamW with linear warm-up then linear decay (LayerNorm weights and biases excluded from weight
decay), dynamic padding, length-grouped batches, gradient accumulation, optional bf16 autocast, an
evaluation after every epoch, the best epoch (by the task's metric) kept in ``output_dir``, early stopping,
and resumption of an interrupted run from its last finished epoch (``output_dir/checkpoints/``, the pickle-free
format of :mod:`albertlite.train.checkpointing`). The output directory is locked for the run, never one of its
inputs, and every save (model, tokenizer and task.json together) replaces the previous one in one rename.

The data side is :mod:`albertlite.data.tasks`; the same features feed TensorFlow and Flax loops.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from albertlite import metrics
from albertlite.checkpoints.files import MODEL_FILES, TOKENIZER_FILES, atomic_write_text, staged_directory
from albertlite.checkpoints.run_dir import OutputLock, check_apart, claim_output, clear_directory, directory_kind
from albertlite.data import tasks
from albertlite.data.masking import NgramMasker
from albertlite.recipes import get_recipe
from albertlite.train import checkpointing as ckpt

logger = logging.getLogger(__name__)

MODEL_CLASSES = {
    "text-classification": "AlbertForSequenceClassification",
    "token-classification": "AlbertForTokenClassification",
    "question-answering": "AlbertForQuestionAnswering",
    "multiple-choice": "AlbertForMultipleChoice",
    "masked-lm": "AlbertForMaskedLM",
}
DEFAULT_METRICS = {
    "text-classification": "accuracy",
    "token-classification": "f1",
    "question-answering": "f1",
    "multiple-choice": "accuracy",
    "masked-lm": "accuracy",
}
RESULTS_FILE = "finetune_results.json"
TASK_FILE = "task.json"
RESUME_DIR = "checkpoints"  # the end of every epoch, removed when the run ends
LEGACY_RESUME_FILE = "last-epoch/state.pt"  # albertlite 0.x's pickled resume point: refused, never loaded
KEEP_RESUME_POINTS = 2  # the newest intact one is used; the one before is the fallback
START_OVER = "pass --no-resume to start over"
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
        bf16: bfloat16 autocast for forward and loss.
        eval_batch_size: batch size for evaluation.
        metric: the validation metric that picks the best epoch (the task default when None).
        early_stopping_patience: stop after this many epochs without improvement (None: never).
        n_best / max_answer_length / null_score_threshold / version_2: question answering decoding.
        mlm_probability: masked-LM fine-tuning: fraction of tokens to predict.
        seed: seed of initialisation, shuffling and masking.
        device: "cpu", "cuda", ... (default: CUDA when available).
        progress: show tqdm progress bars.
        resume: continue from the newest intact end-of-epoch checkpoint in ``output_dir`` when there is one. The
            data, model, labels, batch, seed and optimizer settings must be the stopped run's (a difference is
            refused, naming it); epochs, steps, patience, evaluation batch, device and bf16 may change.
        overwrite: replace ``output_dir`` whole when it holds another kind of model or run (and start over).
        recipe: the recipe the settings came from (recorded in the results).
    """

    learning_rate: float = 3e-5
    batch_size: int = 32
    epochs: float = 3.0
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
    resume: bool = True
    overwrite: bool = False
    recipe: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_recipe(cls, name: str, **overrides: Any) -> FinetuneSettings:
        """The paper's recipe ``name`` (see albertlite.recipes), with ``overrides`` on top (None values ignored)."""
        recipe = get_recipe(name)
        base = {
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


def load_tokenizer(name_or_path: str | os.PathLike) -> Any:
    """The fast tokenizer of a model directory or Hub id, or the SentencePiece one without ``tokenizers``."""
    try:
        from albertlite.tokenization_fast import AlbertTokenizerFast
    except ImportError:
        from albertlite.tokenization import AlbertTokenizer

        return AlbertTokenizer.from_pretrained(name_or_path)
    return AlbertTokenizerFast.from_pretrained(name_or_path)


def model_class(task: str) -> type:
    """The PyTorch head class for a task."""
    import albertlite

    return getattr(albertlite, MODEL_CLASSES[tasks.canonical_task(task)])


def finetune(
    task: str,
    model: str | os.PathLike,
    train: Any,
    validation: Any | None,
    output_dir: str | os.PathLike,
    settings: FinetuneSettings | None = None,
    *,
    tokenizer: Any = None,
) -> FinetuneResult:
    """Fine-tune ``model`` on ``task`` and keep the best epoch in ``output_dir``.

    Args:
        task: "text-classification", "token-classification", "question-answering", "multiple-choice" or
            "masked-lm" (aliases such as "squad", "ner", "mlm" work).
        model: a directory or Hub id holding an ALBERT checkpoint (any head) and its tokenizer.
        train: training examples: a file path, a list of dicts or a ``datasets.Dataset`` (whose ClassLabel
            names, when the label column has them, become the model's labels in the dataset's order).
        validation: validation examples in the same forms (None: the last epoch is kept).
        output_dir: where the model, tokenizer, labels and ``finetune_results.json`` go.
        settings: hyper-parameters (defaults: FinetuneSettings()).
        tokenizer: a tokenizer object to use instead of the model's.

    Returns:
        A FinetuneResult.

    Example:
        >>> finetune("text-classification", "albert/albert-base-v2", "tr.jsonl", "dev.jsonl", "out")  # doctest: +SKIP
    """
    task = tasks.canonical_task(task)
    settings = settings or FinetuneSettings()
    output = Path(output_dir)
    check_apart(output, "--output", {"--model": model, "--train": train, "--validation": validation})
    kind = f"a fine-tuned {task} model"
    with OutputLock(output, "albertlite finetune"):
        cleared = claim_output(output, kind, overwrite=settings.overwrite)
        if settings.overwrite and not cleared and directory_kind(output) == kind:
            clear_directory(output)
        tokenizer = tokenizer if tokenizer is not None else load_tokenizer(model)
        train_examples = tasks.load_examples(train, task)
        eval_examples = tasks.load_examples(validation, task) if validation is not None else None
        run = _Run(task, settings, tokenizer, output)
        run.build_labels(train_examples, tasks.dataset_label_names(train, task))
        if eval_examples is not None:
            source = str(validation) if isinstance(validation, (str, os.PathLike)) else "validation data"
            tasks.check_labels(eval_examples, task, run.label_list, source)
            if task == "question-answering" and not settings.version_2:
                _check_answerable(eval_examples, source)
        run.identity = {"model": _model_identity(model), "train": ckpt.fingerprint(train),
                        "validation": None if validation is None else ckpt.fingerprint(validation)}  # fmt: skip
        train_features = run.features(train_examples, training=True)
        eval_features = run.features(eval_examples, training=False) if eval_examples is not None else None
        run.load_model(model)
        return run.train(train_features, eval_examples, eval_features)


def _model_identity(model: str | os.PathLike) -> str:
    """What a resumed run checks of the starting checkpoint: its config's contents (or its Hub id)."""
    config = Path(model) / "config.json"
    return ckpt.fingerprint(config) if config.is_file() else str(model)


def _check_answerable(examples: Sequence[Mapping[str, Any]], source: str) -> None:
    """SQuAD v1 scoring needs a gold answer for every question: say so before training, not after an epoch."""
    for index, example in enumerate(examples):
        answers = example.get("answers")
        if answers is not None and not answers["text"]:
            raise ValueError(
                f"{source}, example {index}: a question without an answer, which SQuAD v1 cannot score; "
                "set version_2=True (--recipe squad2) to train and score unanswerable questions."
            )


class _Run:
    """One fine-tuning run's state: settings, labels, model, optimizer."""

    def __init__(self, task: str, settings: FinetuneSettings, tokenizer: Any, output: Path) -> None:
        self.task, self.settings, self.tokenizer, self.output = task, settings, tokenizer, output
        self.metric = settings.metric or DEFAULT_METRICS[task]
        self.identity: dict[str, Any] = {}
        self.label_list: list[str] | None = None
        self.regression = bool(settings.regression)
        self.device = torch.device(settings.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.masker = NgramMasker.from_tokenizer(
            tokenizer, masked_lm_prob=settings.mlm_probability, max_predictions_per_seq=settings.max_length
        )

    def build_labels(self, examples: Sequence[Mapping[str, Any]], names: list[str] | None = None) -> None:
        """Labels seen in ``examples``, sorted; a dataset's ClassLabel ``names`` win, in the dataset's order."""
        if self.task == "text-classification" and self.settings.regression is None:
            self.regression = names is None and tasks.is_regression([e["label"] for e in examples])
        if self.task == "text-classification" and self.regression:
            self.metric = self.settings.metric or "pearson"
            return
        self.label_list = names if names is not None else tasks.label_names(examples, self.task)

    @property
    def label2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.label_list or [])}

    def features(self, examples: Sequence[Mapping[str, Any]], training: bool) -> list[dict[str, Any]]:
        feature_settings = tasks.FeatureSettings(
            max_length=self.settings.max_length,
            doc_stride=self.settings.doc_stride,
            max_query_length=self.settings.max_query_length,
            regression=self.regression,
        )
        return tasks.prepare_features(
            self.task, examples, self.tokenizer, self.label2id, feature_settings, training=training
        )

    def load_model(self, name_or_path: str | os.PathLike) -> None:
        torch.manual_seed(self.settings.seed)
        overrides: dict[str, Any] = {}
        if self.label_list is not None:
            overrides["id2label"] = dict(enumerate(self.label_list))
            overrides["label2id"] = self.label2id
        elif self.task == "text-classification":
            overrides.update(id2label={0: "LABEL_0"}, label2id={"LABEL_0": 0}, problem_type="regression")
        if self.settings.dropout is not None:
            overrides.update(
                hidden_dropout_prob=self.settings.dropout, attention_probs_dropout_prob=self.settings.dropout
            )
        if self.settings.classifier_dropout is not None:
            overrides["classifier_dropout_prob"] = self.settings.classifier_dropout
        if self.settings.classifier_pooling is not None:
            overrides["classifier_pooling"] = self.settings.classifier_pooling
        self.model = model_class(self.task).from_pretrained(name_or_path, **overrides).to(self.device)

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
        warmup = s.warmup_steps if s.warmup_steps is not None else int(total_steps * s.warmup_ratio)
        optimizer = torch.optim.AdamW(_parameter_groups(self.model, s.weight_decay), lr=s.learning_rate)
        checkpoint = self._resume_point()
        if checkpoint is not None:  # a longer or shorter run keeps the stopped run's warm-up
            warmup = int(checkpoint.state["settings"]["warmup"])
        self.warmup = warmup
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _linear_schedule(warmup, total_steps))
        state = {"epoch": 0, "step": 0, "best": None, "stale": 0, "history": []}
        if checkpoint is not None:
            state = self._resume(checkpoint, optimizer, scheduler)
        progress = tqdm(total=total_steps, initial=state["step"], desc="fine-tuning", disable=not s.progress)
        while state["epoch"] < epochs and state["step"] < total_steps:
            rng = np.random.default_rng(s.seed + state["epoch"])  # per epoch, so a resumed run masks the same
            loss = self._epoch(train_features, micro, optimizer, scheduler, state, total_steps, progress, rng)
            record = {"epoch": state["epoch"] + 1, "train_loss": loss, "step": state["step"]}
            if eval_features is not None:
                record.update(self.evaluate(eval_examples, eval_features))
            state["epoch"] += 1
            state["history"].append(record)
            improved = self._select(record, state)
            logger.info("epoch %d: %s", state["epoch"], record)
            progress.set_postfix({k: round(v, 4) for k, v in record.items() if isinstance(v, float)})
            self._save_resume_point(optimizer, scheduler, state)
            if not improved and s.early_stopping_patience is not None and state["stale"] >= s.early_stopping_patience:
                logger.info("early stop after epoch %d", state["epoch"])
                break
        progress.close()
        if eval_features is None and state["history"]:
            self.save(self.output, state["history"][-1])
        self._write_results(state)
        self._remove_resume_points()
        return FinetuneResult(self.output, state["best"], self.metric, state["history"], state["epoch"])

    def _epoch(self, features, micro, optimizer, scheduler, state, total_steps, progress, rng) -> float:
        s = self.settings
        self.model.train()
        batches = tasks.batch_indices(
            features, micro, shuffle=True, group_by_length=s.group_by_length, seed=s.seed + state["epoch"]
        )
        losses, pending = [], 0
        for indices in batches:
            batch = tasks.collate([features[i] for i in indices], self.tokenizer.pad_token_id)
            if self.task == "masked-lm":
                batch = tasks.mask_batch(batch, self.masker, rng)
            loss = self._loss(batch) / s.gradient_accumulation_steps
            loss.backward()
            losses.append(loss.item() * s.gradient_accumulation_steps)
            pending += 1
            if pending == s.gradient_accumulation_steps:
                self._step(optimizer, scheduler)
                pending = 0
                state["step"] += 1
                progress.update(1)
                if state["step"] >= total_steps:
                    break
        if pending:
            self._step(optimizer, scheduler)
            state["step"] += 1
            progress.update(1)
        return float(np.mean(losses)) if losses else float("nan")

    def _loss(self, batch: dict[str, np.ndarray]) -> torch.Tensor:
        inputs = {k: torch.as_tensor(v, device=self.device) for k, v in batch.items()}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.settings.bf16):
            return self.model(**inputs).loss

    def _step(self, optimizer, scheduler) -> None:
        if self.settings.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)

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
        batch_size = self.settings.eval_batch_size
        if self.task == "masked-lm":
            return _mlm_accuracy(self.model, features, self.tokenizer, self.masker, batch_size, self.device)
        outputs = predict_outputs(self.model, features, self.task, self.tokenizer.pad_token_id, batch_size)
        return compute_metrics(self.task, examples, features, outputs, self.settings, self.label_list)

    # ----------------------------------------------------------------------- saving and resuming
    def save(self, directory: Path, record: Mapping[str, Any]) -> None:
        """Model, tokenizer and task.json, replacing the previous ones together (the resume points stay)."""
        info = {"task": self.task, "labels": self.label_list, "regression": self.regression, "metrics": dict(record)}
        with staged_directory(directory, replaces=(*MODEL_FILES, *TOKENIZER_FILES, TASK_FILE)) as staging:
            self.model.save_pretrained(staging)
            self.tokenizer.save_pretrained(staging)
            (staging / TASK_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    def _write_results(self, state: dict[str, Any]) -> None:
        results = {
            "task": self.task,
            "metric": self.metric,
            "best": state["best"],
            "history": state["history"],
            "settings": {k: v for k, v in asdict(self.settings).items() if k != "extra"},
        }
        atomic_write_text(self.output / RESULTS_FILE, json.dumps(results, indent=2, default=str) + "\n")

    def _settings(self) -> dict[str, Any]:
        """What a resume point records of the run, to compare on resume (see FIXED_SETTINGS)."""
        recorded = {k: v for k, v in asdict(self.settings).items() if k not in ("extra", "resume", "overwrite")}
        recorded.pop("warmup_ratio"), recorded.pop("warmup_steps")
        return {**recorded, **self.identity, "task": self.task, "labels": self.label_list,
                "regression": self.regression, "metric": self.metric, "warmup": self.warmup}  # fmt: skip

    def _save_resume_point(self, optimizer, scheduler, state) -> None:
        directory = self.output / RESUME_DIR
        directory.mkdir(parents=True, exist_ok=True)
        temp = ckpt.temp_dir_for(directory, state["step"])
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir()
        kind = f"a fine-tuned {self.task} model"
        record = {**state, "kind": kind, "scheduler": scheduler.state_dict(), "settings": self._settings()}
        with ckpt.discard_on_failure(temp):
            ckpt.write_rng_state(temp, 0)
            ckpt.write_training_state(temp, self.model, optimizer, record)
            ckpt.finish_checkpoint(temp, {"step": state["step"], "epoch": state["epoch"], "kind": kind})
        ckpt.prune_checkpoints(directory, KEEP_RESUME_POINTS)

    def _resume_point(self) -> ckpt.Checkpoint | None:
        """The newest intact resume point when resuming; otherwise the old ones are deleted (a fresh start)."""
        legacy = self.output / LEGACY_RESUME_FILE
        if not self.settings.resume or self.settings.overwrite:
            self._remove_resume_points()
            return None
        if legacy.exists():
            raise ckpt.CheckpointError(f"{ckpt.LegacyCheckpointError(legacy)}: {START_OVER}")
        directory = self.output / RESUME_DIR
        ckpt.clean_checkpoint_dir(directory)
        return ckpt.load_latest(directory, 0, START_OVER)

    def _resume(self, checkpoint: ckpt.Checkpoint, optimizer, scheduler) -> dict[str, Any]:
        recorded = checkpoint.state["settings"]
        ckpt.check_resume_settings(checkpoint.path, recorded, self._settings(), FIXED_SETTINGS, START_OVER)
        checkpoint.load_into(self.model, optimizer)
        scheduler.load_state_dict(checkpoint.state["scheduler"])
        if checkpoint.rng is not None:
            ckpt.set_rng_state(checkpoint.rng)
        state = {k: checkpoint.state[k] for k in ("epoch", "step", "best", "stale", "history")}
        logger.info("resuming after epoch %d (step %d)", state["epoch"], state["step"])
        return state

    def _remove_resume_points(self) -> None:
        for path in (self.output / RESUME_DIR, (self.output / LEGACY_RESUME_FILE).parent):
            if path.is_dir():
                ckpt.retire(path)


def _parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        (no_decay if name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _linear_schedule(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)  # never a zero rate on the first step
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


# --------------------------------------------------------------------------- inference and metrics


@torch.no_grad()
def predict_outputs(
    model: torch.nn.Module, features: Sequence[Mapping[str, Any]], task: str, pad_token_id: int, batch_size: int = 64
) -> list[Any]:
    """Run the model over features, longest first, and return one unpadded output per feature.

    Returns:
        Per feature: class logits (classification, multiple choice), token logits (tagging), or a pair
        (start logits, end logits) for question answering, as numpy float32 arrays.
    """
    task = tasks.canonical_task(task)
    model.eval()
    device = next(model.parameters()).device
    outputs: list[Any] = [None] * len(features)
    for indices in tasks.batch_indices(features, batch_size, group_by_length=True):
        batch = tasks.collate([features[i] for i in indices], pad_token_id)
        inputs = {k: torch.as_tensor(batch[k], device=device) for k in tasks.MODEL_INPUTS}
        result = model(**inputs)
        for row, index in enumerate(indices):
            length = tasks.feature_length(features[index])
            if task == "question-answering":
                outputs[index] = (
                    result.start_logits[row, :length].float().cpu().numpy(),
                    result.end_logits[row, :length].float().cpu().numpy(),
                )
            elif task in ("token-classification", "masked-lm"):
                outputs[index] = result.logits[row, :length].float().cpu().numpy()
            else:
                outputs[index] = result.logits[row].float().cpu().numpy()
    return outputs


def compute_metrics(
    task: str,
    examples: Sequence[Mapping[str, Any]],
    features: Sequence[Mapping[str, Any]],
    outputs: Sequence[Any],
    settings: FinetuneSettings,
    label_list: Sequence[str] | None,
) -> dict[str, float]:
    """The task's validation metrics from the model outputs of :func:`predict_outputs`."""
    task = tasks.canonical_task(task)
    if task == "text-classification":
        labels = [f["labels"] for f in features]
        if label_list is None:
            return metrics.regression_metrics(labels, [float(o[0]) for o in outputs])
        return metrics.classification_metrics(labels, [int(np.argmax(o)) for o in outputs], len(label_list))
    if task == "multiple-choice":
        labels = [f["labels"] for f in features]
        return {"accuracy": metrics.accuracy(labels, [int(np.argmax(o)) for o in outputs])}
    if task == "token-classification":
        true_tags = [list(map(str, e["tags"])) for e in examples]
        predicted = [
            word_tags(f["word_ids"], o, label_list, len(e["tokens"])) for e, f, o in zip(examples, features, outputs)
        ]
        scores = metrics.entity_scores(true_tags, predicted)
        return {k: float(v) for k, v in scores.items() if k != "per_type"}
    answers = tasks.decode_answers(
        examples, features, [o[0] for o in outputs], [o[1] for o in outputs], _decode_settings(settings)
    )
    predictions = {e["id"]: a["answer"] for e, a in zip(examples, answers)}
    references = {e["id"]: e["answers"]["text"] for e in examples}
    scores = (
        metrics.squad_v2(predictions, references) if settings.version_2 else metrics.squad_v1(predictions, references)
    )
    return {"exact_match": scores["exact_match"], "f1": scores["f1"]}


def _decode_settings(settings: FinetuneSettings) -> tasks.DecodeSettings:
    return tasks.DecodeSettings(
        n_best=settings.n_best,
        max_answer_length=settings.max_answer_length,
        null_score_threshold=settings.null_score_threshold,
        allow_no_answer=settings.version_2,
    )


def word_tags(
    word_ids: Sequence[int | None], logits: np.ndarray, label_list: Sequence[str], num_words: int
) -> list[str]:
    """One tag per word from the logits of its first piece ("O" for words cut off by the maximum length)."""
    tags = ["O"] * num_words
    previous = None
    for position, word in enumerate(word_ids):
        if word is not None and word != previous:
            tags[word] = label_list[int(np.argmax(logits[position]))]
        previous = word
    return tags


@torch.no_grad()
def _mlm_accuracy(model, features, tokenizer, masker, batch_size, device) -> dict[str, float]:
    """Accuracy and loss on the masked positions, with a fixed seed so every epoch sees the same masks."""
    model.eval()
    rng = np.random.default_rng(0)
    correct = total = 0
    losses = []
    for indices in tasks.batch_indices(features, batch_size):
        batch = tasks.mask_batch(tasks.collate([features[i] for i in indices], tokenizer.pad_token_id), masker, rng)
        inputs = {k: torch.as_tensor(v, device=device) for k, v in batch.items()}
        result = model(**inputs)
        labels = inputs["labels"]
        chosen = labels != tasks.IGNORE_INDEX
        correct += int((result.logits.argmax(-1)[chosen] == labels[chosen]).sum())
        total += int(chosen.sum())
        losses.append(float(result.loss) * int(chosen.sum()))
    loss = sum(losses) / max(1, total)
    return {"accuracy": correct / max(1, total), "loss": loss, "perplexity": float(math.exp(min(loss, 50)))}


def predict(
    task: str,
    model: str | os.PathLike,
    inputs: Any,
    *,
    batch_size: int = 32,
    max_length: int | None = None,
    settings: FinetuneSettings | None = None,
) -> list[dict[str, Any]]:
    """Predictions of a fine-tuned model directory on examples (a file, a list of dicts or a Dataset).

    Args:
        task: the model's task (masked-LM models predict through the fill-mask pipeline instead).
        model: a directory or Hub id written by :func:`finetune` (or any checkpoint with that head).
        inputs: examples with the task's input columns; labels are not needed.
        batch_size: examples per forward pass.
        max_length: the longest sequence (default: the settings', capped by the model's position table).
        settings: QA decoding and feature settings (defaults: FinetuneSettings()).

    Returns:
        One dict per example: ``label``/``score`` (classification; ``score`` alone for regression), ``tags``
        (tagging), ``answer``/``start``/``end``/``score`` (question answering), ``label``/``scores`` (multiple
        choice), plus the example's ``id`` when it has one.
    """
    task = tasks.canonical_task(task)
    if task == "masked-lm":
        raise ValueError("masked-lm models predict with the fill-mask pipeline (albertlite fill-mask).")
    settings = settings or FinetuneSettings()
    network = model_class(task).from_pretrained(model)
    tokenizer = load_tokenizer(model)
    limit = max_length or min(settings.max_length, network.config.max_position_embeddings)
    examples = tasks.load_examples(inputs, task, require_labels=False)
    for example in examples:  # labels in a prediction file are not needed, and may be unseen
        for key in ("label", "tags", "answers"):
            example.pop(key, None)
    feature_settings = tasks.FeatureSettings(
        max_length=limit,
        doc_stride=settings.doc_stride,
        max_query_length=settings.max_query_length,
        regression=network.config.num_labels == 1,
    )
    features = tasks.prepare_features(task, examples, tokenizer, settings=feature_settings, training=False)
    outputs = predict_outputs(network, features, task, tokenizer.pad_token_id, batch_size)
    id2label = network.config.id2label
    if task == "question-answering":
        decoded = tasks.decode_answers(
            examples, features, [o[0] for o in outputs], [o[1] for o in outputs], _decode_settings(settings)
        )
        rows = [{k: a[k] for k in ("answer", "start", "end", "score")} for a in decoded]
    elif task == "token-classification":
        labels = [id2label[i] for i in range(len(id2label))]
        rows = [
            {"tokens": e["tokens"], "tags": word_tags(f["word_ids"], o, labels, len(e["tokens"]))}
            for e, f, o in zip(examples, features, outputs)
        ]
    elif task == "multiple-choice":
        rows = [{"label": int(np.argmax(o)), "scores": [float(x) for x in o]} for o in outputs]
    elif network.config.num_labels == 1:
        rows = [{"score": float(o[0])} for o in outputs]
    else:
        rows = []
        for o in outputs:
            probabilities = np.exp(o - o.max()) / np.exp(o - o.max()).sum()
            rows.append({"label": id2label[int(np.argmax(o))], "score": float(probabilities.max())})
    for example, row in zip(examples, rows):
        if example.get("id") is not None:
            row["id"] = example["id"]
    return rows

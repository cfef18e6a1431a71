"""Pretraining side by side with transformers' documented path: the same model, data and wall-clock budget.

transformers ships no ALBERT pretraining recipe; what its documentation and ``run_mlm.py`` show is
``AlbertForMaskedLM`` trained by ``Trainer`` on text tokenized line by line, concatenated and cut into blocks of
128, masked by ``DataCollatorForLanguageModeling`` (15%), with AdamW and a linear schedule. Here it gets the best of
three learning rates, each run for the same training time as albertlite's ``pretrain --max-time`` on the recipe
``pretrain_recipes.py`` chose. Both start from the same architecture (the 4-layer, hidden-128 model of
``pretrain_quality.py``), tokenizer and training text (the standard library's docstrings; held-out files apart).

Snapshots of both are taken during training at every 5% of the budget (the saving time is not counted) and
scored afterwards on the same pre-masked held-out instances, twice: by ``albertlite evaluate`` (the authors'
masking, whole words in n-grams up to 3, which albertlite trains on), and with single pieces masked (15%, as
transformers' collator masks in training), so that neither is scored only on the masks it trained on.

Writes benchmarks/results/pretrain_vs_transformers/<cpu kind>.{json,md,png} and the index .md beside them.

Run: ``.venv/bin/python benchmarks/pretrain_vs_transformers.py [--budget 240]``; about 5 x the budget on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers

from albertlite.train import PretrainConfig, pretrain
from albertlite.train.checkpointing import list_checkpoints, load_checkpoint
from albertlite.train.evaluation import evaluate_model, load_masked_lm, score_samples, summarize, text_samples
from albertlite.train.metrics_log import read_metrics

sys.path.insert(0, str(Path(__file__).parent))
import machine_info
import pretrain_recipes

RESULTS = Path(__file__).parent / "results"
BLOCK = 128
SNAPSHOTS = 20  # one every 5% of the budget
# the recipe pretrain_recipes.py measured best (see docs/pretraining.md)
ALBERTLITE_RECIPE = "batch-16"
TRANSFORMERS_LRS = (5e-4, 1e-3, 2e-3)


# --------------------------------------------------------------------------- transformers


def transformers_blocks(text: Path, tokenizer: Any) -> list[dict[str, list[int]]]:
    """run_mlm.py's data: every line tokenized (special tokens included), all concatenated, cut into blocks."""
    lines = [line for line in text.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [token for encoded in tokenizer(lines)["input_ids"] for token in encoded]
    usable = len(ids) // BLOCK * BLOCK
    return [{"input_ids": ids[i : i + BLOCK]} for i in range(0, usable, BLOCK)]


def run_transformers(work: Path, lr: float, budget_s: float, threads: int) -> list[dict[str, Any]]:
    """Train AlbertForMaskedLM with Trainer for ``budget_s`` seconds; snapshot directories with their times."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(work / "tokenizer"))
    blocks = transformers_blocks(work / "train.txt", tokenizer)
    collator = transformers.DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    step_s = _calibrate(work, blocks, collator, lr, threads)
    steps = max(10, int(budget_s / step_s))
    out = work / "transformers" / f"lr-{lr:g}"
    shutil.rmtree(out, ignore_errors=True)
    snapshots = SnapshotCallback(out, budget_s, tokenizer)
    trainer = transformers.Trainer(
        model=_hf_model(work, seed=0),
        args=_hf_arguments(out, lr, steps, threads),
        train_dataset=blocks,
        data_collator=collator,
        callbacks=[snapshots],
    )
    trainer.train()
    snapshots.save(trainer.model, final=True)
    return snapshots.taken


def _hf_model(work: Path, seed: int) -> Any:
    from albertlite.train.pretrain import resolve_model_config

    vocab = json.loads((work / "held_out" / "manifest.json").read_text())["tokenizer"]
    config = resolve_model_config(json.dumps(pretrain_recipes.MODEL), vocab_size=vocab["vocab_size"],
                                  pad_token_id=vocab["pad_token_id"]).to_dict()  # fmt: skip
    torch.manual_seed(seed)
    return transformers.AlbertForMaskedLM(transformers.AlbertConfig(**config))


def _hf_arguments(out: Path, lr: float, steps: int, threads: int) -> Any:
    return transformers.TrainingArguments(
        output_dir=str(out), max_steps=steps, per_device_train_batch_size=32, learning_rate=lr, weight_decay=0.01,
        warmup_steps=max(1, steps // 20), lr_scheduler_type="linear", optim="adamw_torch", save_strategy="no",
        report_to="none", logging_steps=max(1, steps // 20), disable_tqdm=True, use_cpu=True, seed=0,
        dataloader_num_workers=0,
    )  # fmt: skip


def _calibrate(work: Path, blocks: list, collator: Any, lr: float, threads: int) -> float:
    """The median seconds of a Trainer step (steps 6-30 of a throwaway run), to size the schedule to the budget."""
    ends: list[float] = []

    class Clock(transformers.TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            ends.append(time.perf_counter())  # between two step ends: data, forward, backward, optimizer

    out = work / "transformers" / "calibration"
    trainer = transformers.Trainer(model=_hf_model(work, seed=0), args=_hf_arguments(out, lr, 30, threads),
                                   train_dataset=blocks, data_collator=collator, callbacks=[Clock()])  # fmt: skip
    trainer.train()
    shutil.rmtree(out, ignore_errors=True)
    return float(np.median(np.diff(ends)[5:]))


class SnapshotCallback(transformers.TrainerCallback):
    """Saves the model at every 5% of the training time (saving excluded) and stops the run at the budget."""

    def __init__(self, out: Path, budget_s: float, tokenizer: Any) -> None:
        self.out, self.budget_s, self.tokenizer = out, budget_s, tokenizer
        self.taken: list[dict[str, Any]] = []
        self.trained_s, self.mark, self.step = 0.0, budget_s / SNAPSHOTS, 0
        self.last: float | None = None

    def on_step_begin(self, args, state, control, **kwargs):
        if self.last is None:
            self.last = time.perf_counter()

    def on_step_end(self, args, state, control, model=None, **kwargs):
        # from one step's end to the next: the collator's batch, forward, backward and optimizer step
        self.trained_s += time.perf_counter() - self.last
        self.step = state.global_step
        if self.trained_s >= self.mark:
            self.save(model)
            self.mark += self.budget_s / SNAPSHOTS
        if self.trained_s >= self.budget_s:
            control.should_training_stop = True
        self.last = time.perf_counter()  # the snapshot's saving is not training time

    def save(self, model: Any, final: bool = False) -> None:
        if final and self.taken and self.taken[-1]["step"] == self.step:
            return
        directory = self.out / f"snapshot-{len(self.taken):02d}"
        model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        self.taken.append({"step": self.step, "train_s": round(self.trained_s, 1), "model": str(directory)})


# --------------------------------------------------------------------------- albertlite


def run_albertlite(work: Path, budget_s: float, threads: int) -> list[dict[str, Any]]:
    """``pretrain --max-time`` on the chosen recipe, a checkpoint every few steps; snapshots at every 5%."""
    output = work / "albertlite"
    options = pretrain_recipes.pretrain_options(work, ALBERTLITE_RECIPE, output, budget_s, threads)
    options.update(save_every=50, keep_checkpoints=0)
    pretrain(PretrainConfig(**options))
    seconds = {r["step"]: r["elapsed_s"] for r in read_metrics(output / "metrics.jsonl") if r["split"] == "train"}
    saved = [step for step, _ in list_checkpoints(output / "checkpoints")]
    snapshots = []
    for k in range(1, SNAPSHOTS + 1):  # the last checkpoint at or before each 5% mark
        step = max((s for s in saved if seconds[s] <= k * budget_s / SNAPSHOTS + 1e-9), default=None)
        if step is not None and (not snapshots or snapshots[-1]["step"] != step):
            snapshots.append({"step": step, "train_s": round(seconds[step], 1),
                              "model": str(_model_directory(output, step, work))})  # fmt: skip
    return snapshots


def _model_directory(run: Path, step: int, work: Path) -> Path:
    """A model directory (weights, config, tokenizer, unigram counts) of one checkpoint, for evaluate_model."""
    from albertlite import AlbertConfig
    from albertlite.modeling_torch import AlbertForPreTraining

    directory = work / "albertlite-snapshots" / f"step-{step:06d}"
    model = AlbertForPreTraining(AlbertConfig.from_pretrained(run))
    model.load_state_dict(load_checkpoint(run / "checkpoints" / f"step-{step:08d}", rank=0).model, strict=False)
    model.save_pretrained(directory)
    for item in run.iterdir():
        if item.is_file() and item.name not in ("model.safetensors", "config.json", "metrics.jsonl"):
            shutil.copyfile(item, directory / item.name)
    return directory


# --------------------------------------------------------------------------- scoring and report


def score(snapshots: list[dict[str, Any]], held_out: Path, pieces: list[dict[str, np.ndarray]]) -> list[dict]:
    """Each snapshot's held-out figures: ``albertlite evaluate``'s, and ``piece_*`` on single-piece masks."""
    for snapshot in snapshots:
        figures = evaluate_model(snapshot["model"], [held_out], max_seq_length=BLOCK, batch_size=128)
        model = load_masked_lm(snapshot["model"], torch.device("cpu"))
        stats = score_samples(model, pieces, batch_size=128, pad_token_id=model.config.pad_token_id,
                              device=torch.device("cpu"))  # fmt: skip
        piece = summarize(stats)
        snapshot.update(mlm_loss=round(figures["mlm_loss"], 4), mlm_acc=round(figures["mlm_acc"], 4),
                        instances=figures["instances"], piece_mlm_loss=round(piece["mlm_loss"], 4),
                        piece_mlm_acc=round(piece["mlm_acc"], 4))  # fmt: skip
    return snapshots


def piece_samples(held_out: Path, tokenizer_dir: Path) -> list[dict[str, np.ndarray]]:
    """The held-out text's instances with single pieces masked (no whole words, no n-grams), a fixed seed."""
    from albertlite.tokenization_auto import load_tokenizer

    return text_samples([held_out], load_tokenizer(str(tokenizer_dir)), max_seq_length=BLOCK, ngram=1,
                        do_whole_word_mask=False)  # fmt: skip


METRICS = {"mlm_loss": "whole-word n-gram masks (albertlite evaluate)", "piece_mlm_loss": "single-piece masks"}


def verdict(ours: list[dict[str, Any]], theirs: list[dict[str, Any]], budget_s: float, key: str) -> dict[str, Any]:
    """The issue's two conditions on one metric: lower at every evaluation after 10% of the budget, and
    transformers' final loss reached within half the budget."""

    def ours_at(seconds: float) -> float:
        return min((p[key] for p in ours if p["train_s"] <= seconds), default=float("inf"))

    later = [p for p in theirs if p["train_s"] > 0.1 * budget_s]
    final = theirs[-1][key]
    reached = min((p["train_s"] for p in ours if p[key] <= final), default=None)
    return {
        "lower_at_every_evaluation_after_10pct": all(ours_at(p["train_s"]) < p[key] for p in later),
        "transformers_final_loss": final,
        "albertlite_reaches_it_at_s": reached,
        "within_half_the_budget": reached is not None and reached <= budget_s / 2,
    }


def best_lr(results: dict[str, Any], key: str) -> str:
    return min(results["transformers"], key=lambda lr: results["transformers"][lr][-1][key])


def markdown(results: dict[str, Any]) -> str:
    ours = results["albertlite"]
    lines = [
        *machine_info.heading(results),
        "",
        f"Budget {results['budget_s']:g} s of training each; {ours[-1]['instances']:,} held-out instances (fixed "
        "seeds), held-out MLM loss at 10% / 50% / 100% of the budget:",
        "",
        "| | final step | whole-word n-gram masks | single-piece masks | final MLM acc (whole / piece) |",
        "|---|---:|---|---|---|",
    ]
    series = [(f"albertlite ({ALBERTLITE_RECIPE})", ours)]
    series += [(f"transformers Trainer, AdamW lr {lr}", pts) for lr, pts in results["transformers"].items()]
    for name, points in series:
        cells = [" / ".join(_at(points, share * results["budget_s"], key) for share in (0.1, 0.5, 1.0))
                 for key in METRICS]  # fmt: skip
        accuracy = f"{points[-1]['mlm_acc']:.3f} / {points[-1]['piece_mlm_acc']:.3f}"
        lines.append(f"| {name} | {points[-1]['step']} | {cells[0]} | {cells[1]} | {accuracy} |")
    lines.append("")
    for key, title in METRICS.items():
        v = results["verdict"][key]
        lower = "yes" if v["lower_at_every_evaluation_after_10pct"] else "no"
        within = "within" if v["within_half_the_budget"] else "not within"
        lines.append(
            f"- {title}: best transformers lr {results['best_lr'][key]} (final {v['transformers_final_loss']:.3f}); "
            f"albertlite lower at every evaluation after 10%: {lower}; reaches that loss after "
            f"{v['albertlite_reaches_it_at_s']} s ({within} half the budget)."
        )
    return "\n".join(lines) + "\n"


def _at(points: list[dict[str, Any]], seconds: float, key: str) -> str:
    before = [p for p in points if p["train_s"] <= seconds + 1e-6]
    return f"{before[-1][key]:.3f}" if before else "-"


def plot(results: dict[str, Any], path: Path) -> None:
    series = [(f"albertlite ({ALBERTLITE_RECIPE})", results["albertlite"])]
    series += [(f"transformers lr {lr}", points) for lr, points in results["transformers"].items()]
    panels = [(f"held-out MLM loss, {title}", key) for key, title in METRICS.items()]
    pretrain_recipes.plot_against_seconds(panels, series, path, legend_size=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=240.0, help="Training seconds per run.")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/albertlite-pretrain-recipes"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)  # Trainer's steps run on torch's pool (albertlite's run sets it too)
    results: dict[str, Any] = {"machine": machine_info.machine(), "date": time.strftime("%Y-%m-%d")}
    results["corpus"] = pretrain_recipes.prepare(args.work, args.threads)
    results["budget_s"] = args.budget
    held_out = args.work / "held_out.txt"
    pieces = piece_samples(held_out, args.work / "tokenizer")
    results["albertlite"] = score(run_albertlite(args.work, args.budget, args.threads), held_out, pieces)
    print(json.dumps(results["albertlite"][-1]), flush=True)
    results["transformers"] = {}
    for lr in TRANSFORMERS_LRS:
        snapshots = run_transformers(args.work, lr, args.budget, args.threads)
        results["transformers"][str(lr)] = score(snapshots, held_out, pieces)
        print(lr, json.dumps(results["transformers"][str(lr)][-1]), flush=True)
    results["best_lr"] = {key: best_lr(results, key) for key in METRICS}
    results["verdict"] = {
        key: verdict(results["albertlite"], results["transformers"][results["best_lr"][key]], args.budget, key)
        for key in METRICS
    }
    results["machine"]["load_average_end"] = os.getloadavg()
    title = (
        "Pretraining against transformers' Trainer: held-out loss for the same training time, one section per CPU kind"
    )
    written = machine_info.write_results(args.output, "pretrain_vs_transformers", results, markdown(results), title)
    plot(results, written.with_suffix(".png"))
    print(written.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()

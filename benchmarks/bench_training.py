"""The training step on a varied-length batch: transformers, albertlite padded and albertlite packed, fp32 and bf16.

One step is forward, backward and AdamW on a sequence-classification model with the same weights for every contender.
The batch is the inference benchmark's varied batch (16 sequences, lengths lognormal around 40, at most 128; 45% of
the padded positions real). bf16 rows run the step under ``torch.autocast("cpu", torch.bfloat16)`` (weights and
optimizer in fp32). Contenders warm up, then alternate; medians. Results per CPU kind in
benchmarks/results/training/<cpu kind>.{json,md}.

Run: ``.venv/bin/python benchmarks/bench_training.py [--rounds N] [--shapes base tiny]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import transformers

import albertlite

sys.path.insert(0, str(Path(__file__).parent))
import machine_info
from bench_models import BASE, TINY, alternate, varied_batch

RESULTS = Path(__file__).parent / "results"


def build(shapes: dict, directory: Path) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    hf = transformers.AlbertForSequenceClassification(transformers.AlbertConfig(**shapes, num_labels=2))
    hf.save_pretrained(directory)
    ours = albertlite.AlbertForSequenceClassification.from_pretrained(directory)
    return hf.train(), ours.train()


def step_fn(model: torch.nn.Module, batch: dict, labels: torch.Tensor, bf16: bool) -> Callable[[], float]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        context = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with context:
            loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        return float(loss)

    return step


class Packed:
    """A copy of albertlite's model whose base trains packed (or padded): separate weights, the same values."""

    def __init__(self, model: torch.nn.Module, packed: bool) -> None:
        import copy

        self.model = copy.deepcopy(model)
        self.model.albert.packed_training = packed


def training_steps(shapes: dict, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        hf, ours = build(shapes, Path(tmp))
    batch = varied_batch(16, seed=0, vocab=shapes["vocab_size"])
    labels = torch.arange(16) % 2
    contenders = {}
    for precision, bf16 in (("fp32", False), ("bf16", True)):
        contenders[f"transformers {precision}"] = step_fn(hf, batch, labels, bf16)
        contenders[f"albertlite padded {precision}"] = step_fn(Packed(ours, False).model, batch, labels, bf16)
        contenders[f"albertlite packed {precision}"] = step_fn(Packed(ours, True).model, batch, labels, bf16)
    timings = alternate(contenders, rounds)
    real = int(batch["attention_mask"].sum())
    for name, entry in timings.items():
        entry["real_tokens_per_s"] = real / entry["median_s"]
        reference = timings[f"transformers {name.split()[-1]}"]["median_s"]
        entry["vs_transformers_same_precision"] = reference / entry["median_s"]
        entry["vs_transformers_fp32"] = timings["transformers fp32"]["median_s"] / entry["median_s"]
    mask = batch["attention_mask"]
    return {"batch": {"sequences": 16, "padded_length": int(mask.shape[1]), "real_tokens": real,
                      "real_fraction": real / mask.numel()}, "contenders": timings}  # fmt: skip


def markdown(results: dict) -> str:
    lines = [*machine_info.heading(results), ""]
    for shapes, r in results["steps"].items():
        b = r["batch"]
        lines += [
            f"### Training step, {shapes} shapes: {b['sequences']} x {b['padded_length']} padded, {b['real_tokens']} "
            f"real tokens ({b['real_fraction']:.0%})",
            "",
            "| contender | median ms | real tokens/s | vs transformers, same precision | vs transformers fp32 |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {name} | {e['median_s'] * 1e3:.0f} | {e['real_tokens_per_s']:.0f} | "
            f"{e['vs_transformers_same_precision']:.2f}x | {e['vs_transformers_fp32']:.2f}x |"
            for name, e in r["contenders"].items()
        ]
        lines.append("")
    return "\n".join(lines) + "\n"


def write(results: dict, out: Path) -> Path:
    title = "Training step: albertlite packed and padded against transformers, one section per CPU kind"
    return machine_info.write_results(out, "training", results, markdown(results), title)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--shapes", nargs="+", choices=("base", "tiny"), default=["base", "tiny"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results: dict = {"machine": machine_info.machine(), "date": time.strftime("%Y-%m-%d"), "steps": {}}
    for name in args.shapes:
        results["steps"][name] = training_steps(BASE if name == "base" else TINY, args.rounds)
        print(re.sub(r"\n+", "\n", markdown(results)))
    results["machine"]["load_average_end"] = os.getloadavg()
    print(write(results, args.out).with_suffix(".md").read_text())


if __name__ == "__main__":
    main()

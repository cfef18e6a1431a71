"""The training step on a varied-length batch: transformers, albertlite padded and albertlite packed, fp32 and bf16.

One step is forward, backward and AdamW on a sequence-classification model with the same weights for every contender.
The batch is the inference benchmark's varied batch (16 sequences, lengths lognormal around 40, at most 128; 45% of
the padded positions real). bf16 rows run the step under ``torch.autocast("cpu", torch.bfloat16)`` (weights and
optimizer in fp32). Contenders warm up, then alternate; medians. Results per CPU kind in
benchmarks/results/training/<cpu kind>.{json,md}.

Two more sections say where packing pays. ``sweep``: the packed against the padded step at 5-50% padding for three
widths (the threshold ``albertlite.fast.packed_training.MIN_PADDING_SHARE`` comes from it). ``pretrain``: ``albertlite
pretrain`` tokens/s on the demo's corpus and model, padded (the first release), packed on every padded batch, and the
default (packed from the threshold on).

Run: ``.venv/bin/python benchmarks/bench_training.py [--rounds N] [--shapes base tiny]
[--sections steps sweep pretrain]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import transformers

import albertlite
from albertlite.fast import packed_training

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


SWEEP = {  # name: (hidden size, layers, heads, batch, padded length)
    "128 wide, 4 layers": (128, 4, 2, 32, 64),
    "256 wide, 4 layers": (256, 4, 4, 32, 128),
    "ALBERT-base": (768, 12, 12, 8, 128),
}
SHARES = (0.05, 0.1, 0.2, 0.35, 0.5)


def padded_batch(batch: int, length: int, share: float) -> dict:
    """Random ids with ``share`` of the positions padding, taken from the ends of the rows as evenly as possible."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 4000, (batch, length), generator=generator)
    per_row = torch.full((batch,), round(batch * length * share) // batch)
    per_row[: round(batch * length * share) % batch] += 1
    mask = (torch.arange(length) < (length - per_row)[:, None]).long()
    return {"input_ids": ids * mask, "attention_mask": mask}


def padding_sweep(rounds: int) -> dict:
    """Packed against padded training steps (fp32, the same weights) by padding share, for three widths."""
    out = {}
    for name, (hidden, layers, heads, batch, length) in SWEEP.items():
        config = albertlite.AlbertConfig(vocab_size=4000, hidden_size=hidden, num_hidden_layers=layers,
                                         num_attention_heads=heads, intermediate_size=4 * hidden)  # fmt: skip
        torch.manual_seed(0)
        model = albertlite.AlbertForSequenceClassification(config).train()
        labels = torch.zeros(batch, dtype=torch.long)
        out[name] = {}
        for share in SHARES:
            inputs = padded_batch(batch, length, share)
            steps = {f"packed {packed}": step_fn(Packed(model, packed).model, inputs, labels, False)
                     for packed in (True, False)}  # fmt: skip
            with unthresholded():
                timings = alternate(steps, max(2, rounds // 2) if hidden > 256 else rounds)
            out[name][f"{share:.2f}"] = timings["packed False"]["median_s"] / timings["packed True"]["median_s"]
    return out


@contextlib.contextmanager
def unthresholded():
    """Pack every padded batch, whatever its padding share."""
    saved = packed_training.MIN_PADDING_SHARE
    packed_training.MIN_PADDING_SHARE = 0.0
    try:
        yield
    finally:
        packed_training.MIN_PADDING_SHARE = saved


def pretrain_speed(rounds: int, steps: int) -> dict:
    """``albertlite pretrain`` real tokens/s on the demo's corpus and model: padded, always packed, the default."""
    from albertlite import demo
    from albertlite.train.pretrain import pretrain

    with tempfile.TemporaryDirectory() as tmp:
        settings = demo.DemoSettings(output=Path(tmp), pretrain_time=None)
        corpus = demo.build_corpus(Path(tmp) / "corpus", settings)
        manifest = demo.pretraining_data(corpus, settings)
        modes = {"padded (--no-packed)": (False, False), "packed on every padded batch": (True, True),
                 "default (packed from 20% padding)": (True, False)}  # fmt: skip
        speeds: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(rounds):
            for name, (packed, always) in modes.items():
                config = demo.pretrain_config(settings, steps=steps, packed=packed, progress=False, save_every=steps,
                                              output=str(Path(tmp) / "run"), eval_data=None, plot=False)  # fmt: skip
                with unthresholded() if always else contextlib.nullcontext():
                    history = pretrain(config).history
                rates = [r["tokens_per_s"] for r in history if r.get("split") == "train"][10:]
                speeds[name].append(float(statistics.median(rates)))
    length = demo.RECIPE.data["max_seq_length"]
    real = manifest["num_tokens"] / (manifest["num_instances"] * length)
    return {"model": demo.DEMO_MODEL, "batch": demo.RECIPE.settings["batch_size"], "max_seq_length": length,
            "steps_per_run": steps, "real_fraction": real,
            "tokens_per_s": {name: statistics.median(v) for name, v in speeds.items()}}  # fmt: skip


def markdown(results: dict) -> str:
    lines = [*machine_info.heading(results), ""]
    for shapes, r in results.get("steps", {}).items():
        b = r["batch"]
        lines += [
            f"### Training step, {shapes} shapes: {b['sequences']} x {b['padded_length']} padded, {b['real_tokens']} "
            f"real tokens ({b['real_fraction']:.0%})",
            "",
            *measured_line(results, f"steps {shapes}"),
            "| contender | median ms | real tokens/s | vs transformers, same precision | vs transformers fp32 |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {name} | {e['median_s'] * 1e3:.0f} | {e['real_tokens_per_s']:.0f} | "
            f"{e['vs_transformers_same_precision']:.2f}x | {e['vs_transformers_fp32']:.2f}x |"
            for name, e in r["contenders"].items()
        ]
        lines.append("")
    if "sweep" in results:
        lines += sweep_markdown(results["sweep"], measured_line(results, "sweep"))
    if "pretrain" in results:
        lines += pretrain_markdown(results["pretrain"], measured_line(results, "pretrain"))
    return "\n".join(lines) + "\n"


def sweep_markdown(sweep: dict, stamp: list[str]) -> list[str]:
    lines = ["### Where packing pays: packed step time against padded, fp32, by padding share", "", *stamp,
             "| model | " + " | ".join(f"{float(s):.0%} padding" for s in next(iter(sweep.values()))) + " |",
             "|---|" + "---:|" * len(next(iter(sweep.values())))]  # fmt: skip
    lines += [f"| {name} | " + " | ".join(f"{r:.2f}x" for r in row.values()) + " |" for name, row in sweep.items()]
    return [*lines, ""]


def pretrain_markdown(p: dict, stamp: list[str]) -> list[str]:
    lines = [f"### `albertlite pretrain`: the demo's model ({p['model']['hidden_size']} wide, "
             f"{p['model']['num_hidden_layers']} layers), {p['batch']} x {p['max_seq_length']}, "
             f"{p['real_fraction']:.0%} of positions real, median over steps 11-{p['steps_per_run']} of each run", "",
             *stamp,
             "| mode | real tokens/s | vs padded |", "|---|---:|---:|"]  # fmt: skip
    padded = p["tokens_per_s"]["padded (--no-packed)"]
    lines += [f"| {name} | {v:.0f} | {v / padded:.2f}x |" for name, v in p["tokens_per_s"].items()]
    return [*lines, ""]


def keep_earlier(results: dict, out: Path) -> dict:
    """Add the sections (and step shapes) this run did not measure from this CPU kind's earlier results.

    A partial run (``--sections steps --shapes base``) then updates its part of the table instead of dropping the
    rest; every section records when, and under what load, it was measured.
    """
    earlier = machine_info.read_results(out, "training", results["machine"]["cpu_kind"])
    if earlier is None:
        return results
    merged = {**results, "steps": {**earlier.get("steps", {}), **results.get("steps", {})},
              "measured": {**earlier.get("measured", {}), **results.get("measured", {})}}  # fmt: skip
    for section in ("sweep", "pretrain"):
        if section not in results and section in earlier:
            merged[section] = earlier[section]
    return merged


def stamp_sections(results: dict) -> None:
    """Record, per section this run measured, its date and load (sections kept from earlier runs keep theirs)."""
    m = results["machine"]
    stamp = {"date": results["date"], "load_average": [m["load_average_start"][0], m["load_average_end"][0]]}
    names = [f"steps {shapes}" for shapes in results.get("steps", {})]
    results["measured"] = {name: stamp for name in [*names, *(s for s in ("sweep", "pretrain") if s in results)]}


def measured_line(results: dict, section: str) -> list[str]:
    stamp = results.get("measured", {}).get(section)
    if stamp is None:
        return []
    return [f"Measured {stamp['date']}, load average {stamp['load_average'][0]:.1f} to {stamp['load_average'][1]:.1f}.",
            ""]  # fmt: skip


def write(results: dict, out: Path) -> Path:
    title = "Training step: albertlite packed and padded against transformers, one section per CPU kind"
    return machine_info.write_results(out, "training", results, markdown(results), title)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--shapes", nargs="+", choices=("base", "tiny"), default=["base", "tiny"])
    parser.add_argument("--sections", nargs="+", choices=("steps", "sweep", "pretrain"),
                        default=["steps", "sweep", "pretrain"])  # fmt: skip
    parser.add_argument("--pretrain-steps", type=int, default=120, help="steps per pretraining run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results: dict = {"machine": machine_info.machine(), "date": time.strftime("%Y-%m-%d")}
    if "steps" in args.sections:
        results["steps"] = {}
        for name in args.shapes:
            results["steps"][name] = training_steps(BASE if name == "base" else TINY, args.rounds)
            print(re.sub(r"\n+", "\n", markdown(results)))
    if "sweep" in args.sections:
        results["sweep"] = padding_sweep(args.rounds)
        print(re.sub(r"\n+", "\n", markdown(results)))
    if "pretrain" in args.sections:
        results["pretrain"] = pretrain_speed(max(2, args.rounds // 2), args.pretrain_steps)
    results["machine"]["load_average_end"] = os.getloadavg()
    stamp_sections(results)
    print(write(keep_earlier(results, args.out), args.out).with_suffix(".md").read_text())


if __name__ == "__main__":
    main()

"""bf16 autocast training against fp32: the loss curve of a short run, and the step time, on the demo's corpus.

Each run pretrains from the same initial weights on the same batches (``albertlite pretrain``, LAMB, the demo's
shards), in fp32 and under ``--bf16``, with two seeds each. The fp32 seed-to-seed gap is the noise: bf16 matches
fp32 "within noise" when its gap to fp32 of the same seed (mean absolute difference of the smoothed loss over the
second half of the run) is no larger than the gap between the two fp32 seeds. Two shapes: the demo's model and
ALBERT-base (768 wide, 12 layers) on the same 64-token sequences. Curves go to docs/images/bf16_training.png,
figures to benchmarks/results/bf16_training/<cpu kind>.{json,md}.

Run: ``.venv/bin/python benchmarks/bf16_training.py [--steps 300 40] [--seeds 0 1]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from albertlite import demo
from albertlite.train.pretrain import pretrain

sys.path.insert(0, str(Path(__file__).parent))
import machine_info

RESULTS = Path(__file__).parent / "results"
FIGURE = Path(__file__).parents[1] / "docs" / "images" / "bf16_training.png"
SHAPES = {
    "demo": dict(demo.DEMO_MODEL),
    "base": {**demo.DEMO_MODEL, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
             "intermediate_size": 3072},
}  # fmt: skip
LEARNING_RATES = {"demo": 5e-3, "base": 1e-3}  # LAMB; the demo's rate, and a smaller one for the 768-wide model
BATCH = {"demo": 32, "base": 16}


def run(settings: demo.DemoSettings, shape: str, steps: int, seed: int, bf16: bool, out: Path) -> dict:
    config = demo.pretrain_config(
        settings, model_config=json.dumps(SHAPES[shape]), steps=steps, batch_size=BATCH[shape],
        lr=LEARNING_RATES[shape], warmup_steps=max(1, steps // 10), seed=seed, bf16=bf16, progress=False,
        save_every=steps, output=str(out), max_time=None, eval_data=None, plot=False,
    )  # fmt: skip
    history = [r for r in pretrain(config).history if r.get("split") == "train"]
    return {"loss": [r["loss"] for r in history],
            "tokens_per_s": statistics.median(r["tokens_per_s"] for r in history[5:])}  # fmt: skip


def smooth(values: list[float], width: int) -> np.ndarray:
    return np.convolve(values, np.ones(width) / width, mode="valid")


def gap(a: list[float], b: list[float]) -> float:
    """Mean absolute difference of the smoothed curves over the second half of the run."""
    width = max(1, len(a) // 10)
    x, y = smooth(a, width), smooth(b, width)
    half = len(x) // 2
    return float(np.abs(x[half:] - y[half:]).mean())


def compare(shape: str, runs: dict) -> dict:
    seeds = sorted({seed for _, seed in runs})
    noise = gap(runs[("fp32", seeds[0])]["loss"], runs[("fp32", seeds[1])]["loss"])
    bf16_gaps = [gap(runs[("bf16", s)]["loss"], runs[("fp32", s)]["loss"]) for s in seeds]
    speed = {p: statistics.median(runs[(p, s)]["tokens_per_s"] for s in seeds) for p in ("fp32", "bf16")}
    return {"fp32_seed_gap": noise, "bf16_vs_fp32_gap": bf16_gaps, "within_noise": max(bf16_gaps) <= noise,
            "tokens_per_s": speed, "bf16_speedup": speed["bf16"] / speed["fp32"],
            "final_loss": {f"{p} seed {s}": float(np.mean(r["loss"][-10:])) for (p, s), r in runs.items()}}  # fmt: skip


def plot(curves: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4))
    for ax, (shape, runs) in zip(np.atleast_1d(axes), curves.items()):
        for (precision, seed), r in runs.items():
            width = max(1, len(r["loss"]) // 10)
            ax.plot(smooth(r["loss"], width), label=f"{precision}, seed {seed}",
                    linestyle="-" if precision == "fp32" else "--")  # fmt: skip
        ax.set(title=f"{shape} model: pretraining loss (moving mean)", xlabel="step", ylabel="MLM + SOP loss")
        ax.legend()
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=90)


def markdown(results: dict) -> str:
    lines = [*machine_info.heading(results), ""]
    lines += ["| model | steps | fp32 tokens/s | bf16 tokens/s | bf16 speed-up | fp32 seed-to-seed gap | "
              "bf16 vs fp32 gap (per seed) | within noise |", "|---|---:|---:|---:|---:|---:|---|---|"]  # fmt: skip
    for shape, c in results["shapes"].items():
        gaps = ", ".join(f"{g:.4f}" for g in c["bf16_vs_fp32_gap"])
        lines.append(f"| {shape} | {c['steps']} | {c['tokens_per_s']['fp32']:.0f} | {c['tokens_per_s']['bf16']:.0f} | "
                     f"{c['bf16_speedup']:.2f}x | {c['fp32_seed_gap']:.4f} | {gaps} | "
                     f"{'yes' if c['within_noise'] else 'no'} |")  # fmt: skip
    return "\n".join([*lines, "", "Curves: docs/images/bf16_training.png", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs=2, default=[300, 40], metavar=("DEMO", "BASE"))
    parser.add_argument("--seeds", type=int, nargs=2, default=[0, 1])
    parser.add_argument("--shapes", nargs="+", choices=tuple(SHAPES), default=list(SHAPES))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results: dict = {"machine": machine_info.machine(), "date": time.strftime("%Y-%m-%d"), "shapes": {}}
    curves = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = demo.DemoSettings(output=Path(tmp), pretrain_time=None)
        demo.pretraining_data(demo.build_corpus(Path(tmp) / "corpus", settings), settings)
        for shape in args.shapes:
            steps = dict(zip(SHAPES, args.steps))[shape]
            runs = {}
            for seed in args.seeds:
                for precision in ("fp32", "bf16"):  # alternate, so that load changes hit both
                    runs[(precision, seed)] = run(settings, shape, steps, seed, precision == "bf16", Path(tmp) / "r")
            curves[shape] = runs
            results["shapes"][shape] = {"steps": steps, **compare(shape, runs)}
            print(markdown(results), flush=True)
    results["machine"]["load_average_end"] = os.getloadavg()
    plot(curves)
    title = "bf16 autocast training against fp32: loss curves and speed, one section per CPU kind"
    written = machine_info.write_results(args.out, "bf16_training", results, markdown(results), title)
    print(written.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()

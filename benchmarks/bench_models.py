"""albertlite against Hugging Face transformers on the same weights, in one process: real tokens/s, latency, memory.

ALBERT-base shapes with random weights (throughput does not depend on the values). Every contender in a scenario runs
once to warm up, then the contenders alternate for ``--rounds`` rounds, so that load from other processes falls on all
of them alike; the tables give medians and ratios. Writes benchmarks/results/models/<cpu kind>.json and .md (each
CPU kind keeps its own files) and benchmarks/results/models.md, the index of every CPU kind measured.

Contenders (benchmarks/peers.py): transformers 5 in fp32 and bf16; albertlite's plain path, fast path, bf16 and int8
modes; ONNX Runtime on albertlite's export (plain, after its transformer optimizer, dynamic int8); OpenVINO on the same
file in f32 and bf16 inference precision. Scenarios: the varied-length batch (16 sequences, lengths lognormal around
40, at most 128, ~44% of the padded positions real; fixed seed), batch 1 (40 tokens) and a long batch (8 x 512). Per
row: real tokens/s, the ratio to transformers fp32, the pooled output's cosine against transformers fp32, and GFLOP/s
on the real tokens against the machine's measured GEMM peak of the row's precision (fp32, bf16, int8). Also a
training step (forward, backward, AdamW) for the tiny and the base configs.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_models.py [--rounds N] [--quick] [--scenarios ...]
[--shapes tiny]``; ``--frameworks-only``
re-measures just the TensorFlow/Flax section into the existing results.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import transformers

import albertlite
from albertlite.fast import fast_path
from albertlite.fast.gemm import chosen_backends as gemm_choices
from albertlite.fast.gemm import measure_gemm_gflops

sys.path.insert(0, str(Path(__file__).parent))
import machine_info
import peers

RESULTS = Path(__file__).parent / "results"
BASE = dict(
    vocab_size=30000, embedding_size=128, hidden_size=768, num_attention_heads=12, intermediate_size=3072,
    num_hidden_layers=12, max_position_embeddings=512, hidden_act="gelu_new",
)  # fmt: skip
TINY = dict(
    vocab_size=1000, embedding_size=32, hidden_size=64, num_attention_heads=4, intermediate_size=128,
    num_hidden_layers=4, max_position_embeddings=128, hidden_act="gelu_new",
)  # fmt: skip


# ----------------------------------------------------------------------------------------------- inputs
def varied_batch(batch: int = 16, seed: int = 0, vocab: int = 30000) -> dict[str, torch.Tensor]:
    """Lengths lognormal around 40 (at most 128), right-padded to the longest."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(np.round(rng.lognormal(np.log(40), 0.6, batch)), 4, 128).astype(int)
    seq_len = int(lengths.max())
    input_ids = torch.from_numpy(rng.integers(5, vocab, (batch, seq_len)))
    mask = (torch.arange(seq_len)[None] < torch.from_numpy(lengths)[:, None]).long()
    token_type_ids = (torch.arange(seq_len)[None] >= torch.from_numpy(lengths // 2)[:, None]).long() * mask
    return {"input_ids": input_ids * mask, "attention_mask": mask, "token_type_ids": token_type_ids}


def single(seq_len: int = 40, seed: int = 1, vocab: int = 30000) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(seed)
    ids = torch.from_numpy(rng.integers(5, vocab, (1, seq_len)))
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}


def real_flops(config: dict, lengths: list[int]) -> float:
    """FLOPs of the encoder on the real tokens only: the work any implementation must do."""
    h, i, e = config["hidden_size"], config["intermediate_size"], config["embedding_size"]
    layers = config["num_hidden_layers"]
    per_token_linear = 2 * (4 * h * h + 2 * h * i)
    total = 0.0
    for n in lengths:
        total += n * (2 * e * h + layers * (per_token_linear + 4 * n * h))
    return total


# ----------------------------------------------------------------------------------------------- measuring
def return_freed_memory_to_the_os() -> None:
    """Make glibc serve every allocation over 64 KiB by mmap and unmap it on free, so RSS follows live memory."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 64 * 1024)
    libc.mallopt(m_trim_threshold, 64 * 1024)


class PeakRSS:
    """The largest growth of this process's resident memory while the block runs (sampled every millisecond).

    With :func:`return_freed_memory_to_the_os` this is the working memory of one call (activations and temporaries).
    """

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = self._rss()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.001)

    @property
    def grown_mb(self) -> float:
        return (self.peak - self.start) / 1e6


def alternate(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, dict]:
    """Warm up each contender, then run them in turn ``rounds`` times; per contender: median seconds, runs, memory."""
    memory = {}
    for name, fn in contenders.items():
        fn()
        with PeakRSS() as peak:
            fn()
        memory[name] = peak.grown_mb
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
        for name in order:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    return {
        name: {"median_s": statistics.median(t), "runs_s": t, "peak_rss_growth_mb": memory[name]}
        for name, t in times.items()
    }


def _call(model: torch.nn.Module, batch: dict[str, torch.Tensor], plain: bool = False) -> Callable[[], object]:
    def run() -> object:
        with torch.inference_mode(), fast_path(not plain):
            return model(**batch)

    return run


def _max_diff_real(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    return float((a.float() - b.float())[mask.bool()].abs().max())


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.nn.functional.cosine_similarity(a.float(), b.float(), dim=-1).min())


# ----------------------------------------------------------------------------------------------- scenarios
def build_models(directory: Path, shapes: dict = BASE) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    hf = transformers.AlbertModel(transformers.AlbertConfig(**shapes)).eval()
    hf.save_pretrained(directory)
    ours = albertlite.AlbertModel.from_pretrained(directory)
    return hf, ours


def long_batch(batch: int = 8, seq_len: int = 512, seed: int = 2, vocab: int = 30000) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(seed)
    ids = torch.from_numpy(rng.integers(5, vocab, (batch, seq_len)))
    types = (torch.arange(seq_len)[None] >= seq_len // 2).long().expand(batch, -1).contiguous()
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": types}


# name -> (inputs, timed rounds as a multiple of --rounds, description)
SCENARIOS: dict[str, tuple[Callable[[], dict[str, torch.Tensor]], float, str]] = {
    "varied": (varied_batch, 1, "16 sequences, lengths lognormal around 40 (at most 128)"),
    "batch1": (single, 2, "batch 1, 40 tokens: latency"),
    "long": (long_batch, 0.6, "8 x 512 tokens, no padding"),
}


def contenders_for(hf, ours, directory: Path | None, threads: int, bf16_peers: bool) -> list[peers.Contender]:
    contenders = peers.torch_contenders(hf, ours)
    if directory is None:
        return contenders
    found = peers.available_peers()
    onnx_path = peers.export(ours, directory)
    if found["onnxruntime"]:
        contenders += peers.onnxruntime_contenders(onnx_path, ours.config, threads)
    if found["openvino"]:
        contenders += peers.openvino_contenders(onnx_path, threads, bf16=bf16_peers)
    return contenders


def scenario(name: str, contenders: list[peers.Contender], hf, ours, rounds: int, peaks: dict[str, float]) -> dict:
    make, share, description = SCENARIOS[name]
    batch = make()
    limit = ours.config.max_position_embeddings
    batch = {k: v[:, :limit] % ours.config.vocab_size for k, v in batch.items()}  # --shapes tiny: its vocabulary
    mask = batch["attention_mask"]
    lengths = mask.sum(1).tolist()
    real = int(mask.sum())
    flops = real_flops(vars(ours.config), lengths)
    numpy_batch = {k: v.numpy() for k, v in batch.items()}
    with torch.inference_mode():
        ref = hf(**batch)
        with fast_path(False):
            plain = ours(**batch)
        fast = ours(**batch)
    reference = ref.pooler_output.float().numpy()
    timings = alternate({c.name: c.bind(numpy_batch) for c in contenders}, max(2, round(rounds * share)))
    fp32 = timings["transformers fp32"]["median_s"]
    for contender in contenders:
        entry = timings[contender.name]
        gflops = flops / entry["median_s"] / 1e9
        entry.update(
            precision=contender.precision,
            real_tokens_per_s=real / entry["median_s"],
            ratio_to_transformers_fp32=fp32 / entry["median_s"],
            pooled_cosine_vs_fp32=_cosine_np(contender.pooled(numpy_batch), reference),
            gflops_on_real_tokens=gflops,
            share_of_gemm_peak=gflops / peaks[contender.precision] if peaks.get(contender.precision) else None,
            note=contender.note,
        )
    return {
        "description": description,
        "batch": {"sequences": len(lengths), "padded_length": int(mask.shape[1]), "real_tokens": real,
                  "real_fraction": real / mask.numel(), "lengths": lengths},
        "accuracy": {
            "albertlite plain vs transformers, hidden max abs (real positions)":
                _max_diff_real(plain.last_hidden_state, ref.last_hidden_state, mask),
            "albertlite fast vs plain, hidden max abs (real positions)":
                _max_diff_real(fast.last_hidden_state, plain.last_hidden_state, mask),
        },
        "contenders": timings,
    }  # fmt: skip


def _cosine_np(a: np.ndarray, b: np.ndarray) -> float:
    return _cosine(torch.from_numpy(np.asarray(a, dtype=np.float32)), torch.from_numpy(b))


def inference(hf, ours, rounds: int, directory: Path | None, names: list[str], peaks: dict[str, float]) -> dict:
    bf16 = "AVX512-BF16" in machine_info.machine()["isa"] or "AMX-BF16" in machine_info.machine()["isa"]
    contenders = contenders_for(hf, ours, directory, torch.get_num_threads(), bf16_peers=bf16)
    result = {name: scenario(name, contenders, hf, ours, rounds, peaks) for name in names}
    if directory is not None:
        result["onnx_file_mb"] = (directory / "albert.onnx").stat().st_size / 1e6
    return result


def training(config: dict, batch_size: int, seq_len: int, rounds: int) -> dict:
    torch.manual_seed(0)
    hf = transformers.AlbertForSequenceClassification(transformers.AlbertConfig(**config, num_labels=2)).train()
    with tempfile.TemporaryDirectory() as tmp:
        hf.save_pretrained(tmp)
        ours = albertlite.AlbertForSequenceClassification.from_pretrained(tmp).train()
    batch = varied_batch(batch_size, seed=3, vocab=config["vocab_size"])
    batch = {k: v[:, :seq_len] for k, v in batch.items()}
    labels = torch.arange(batch_size) % 2

    def step_fn(model):
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

        def step() -> None:
            optimizer.zero_grad(set_to_none=True)
            model(**batch, labels=labels).loss.backward()
            optimizer.step()

        return step

    timings = alternate({"hf": step_fn(hf), "albertlite": step_fn(ours)}, rounds)
    real = int(batch["attention_mask"].sum())
    for entry in timings.values():
        entry["real_tokens_per_s"] = real / entry["median_s"]
    return {"batch": batch_size, "padded_length": int(batch["input_ids"].shape[1]), **timings,
            "ratio albertlite / hf": timings["hf"]["median_s"] / timings["albertlite"]["median_s"]}  # fmt: skip


HF457_PYTHON = os.environ.get("ALBERTLITE_HF457_PYTHON", "/work/venv457/bin/python")
WORKER = Path(__file__).parent / "framework_worker.py"


def frameworks(model_dir: Path, invocations: int, runs: int) -> dict:
    """TensorFlow and Flax: albertlite against Hugging Face 4.57, each in its own process, processes alternating."""
    impls = []
    for framework, module in (("tf", "tensorflow"), ("flax", "flax")):
        if importlib.util.find_spec(module) is not None:
            impls.append((f"albertlite-{framework}", sys.executable))
            impls.append((f"albertlite-{framework}-plain", sys.executable))
        if Path(HF457_PYTHON).exists():
            impls.append((f"hf-{framework}", HF457_PYTHON))
    batch_file = model_dir.parent / "batch.npz"
    np.savez(batch_file, **{k: v.numpy() for k, v in varied_batch().items()})
    real = int(varied_batch()["attention_mask"].sum())
    runs_by_impl: dict[str, list[float]] = {name: [] for name, _ in impls}
    checksums: dict[str, float] = {}
    errors: dict[str, str] = {}
    for _ in range(invocations):
        for name, python in impls:
            if name in errors:
                continue
            command = [python, str(WORKER), name, str(model_dir), str(batch_file), str(runs)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if done.returncode != 0 or not lines:
                errors[name] = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
                continue
            record = json.loads(lines[-1])
            runs_by_impl[name] += record["runs_s"]
            checksums[name] = record["checksum_real"]
    out: dict = {"errors": errors, "checksum_real": checksums}
    for name, times in runs_by_impl.items():
        if times:
            median = statistics.median(times)
            out[name] = {"median_s": median, "real_tokens_per_s": real / median, "runs_s": times}
    for framework in ("tf", "flax"):
        ours, theirs = out.get(f"albertlite-{framework}"), out.get(f"hf-{framework}")
        if ours and theirs:
            out[f"ratio {framework} albertlite / hf"] = theirs["median_s"] / ours["median_s"]
        plain = out.get(f"albertlite-{framework}-plain")
        if plain and theirs:
            out[f"ratio {framework} albertlite plain path / hf"] = theirs["median_s"] / plain["median_s"]
    return out


def _int8_kernels(size: int = 2048) -> dict[str, Callable[[], torch.Tensor]]:
    """The int8 products this torch build has on CPU: the dynamic-quantized linear albertlite's int8 mode runs
    (activations quantized per call) and the plain int8 x int8 -> int32 product."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(size, size, generator=generator)
    weight = torch.quantize_per_channel(
        torch.randn(size, size, generator=generator), torch.full((size,), 0.02), torch.zeros(size, dtype=torch.long), 0,
        torch.qint8,
    )  # fmt: skip
    packed = torch.ops.quantized.linear_prepack(weight, None)
    kernels = {"int8 dynamic linear (albertlite int8)": lambda: torch.ops.quantized.linear_dynamic(x, packed, True)}
    a = torch.randint(-127, 127, (size, size), dtype=torch.int8, generator=generator)
    try:
        torch._int_mm(a[:64, :64], a[:64, :64])
        kernels["int8 x int8 -> int32 (torch._int_mm)"] = lambda: torch._int_mm(a, a)
    except RuntimeError:
        pass
    return kernels


def _best_gflops(fn: Callable[[], torch.Tensor], size: int = 2048, repeats: int = 3) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def gemm_peaks(rounds: int = 3) -> dict[str, float]:
    """Best of ``rounds`` alternating measurements of each kernel (the peak is what the machine can give)."""
    kernels: dict[str, Callable[[], float]] = {
        "fp32 F.linear (aten)": lambda: measure_gemm_gflops("aten", dtype=torch.float32, repeats=3),
        "bf16 F.linear (aten)": lambda: measure_gemm_gflops("aten", dtype=torch.bfloat16, repeats=3),
    }
    if torch.backends.mkldnn.is_available():
        kernels["fp32 oneDNN"] = lambda: measure_gemm_gflops("mkldnn", dtype=torch.float32, repeats=3)
        kernels["bf16 oneDNN"] = lambda: measure_gemm_gflops("mkldnn", dtype=torch.bfloat16, repeats=3)
    for name, fn in _int8_kernels().items():
        kernels[name] = lambda fn=fn: _best_gflops(fn)
    peaks = dict.fromkeys(kernels, 0.0)
    for _ in range(rounds):
        for name, measure in kernels.items():
            peaks[name] = max(peaks[name], measure())
    return peaks


def peaks_by_precision(kernels: dict[str, float]) -> dict[str, float]:
    """The best kernel of each precision: what a contender of that precision is held against."""
    return {p: max((v for k, v in kernels.items() if k.startswith(p)), default=0.0) for p in ("fp32", "bf16", "int8")}


# ----------------------------------------------------------------------------------------------- report
def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def scenario_table(name: str, sc: dict) -> list[str]:
    b = sc["batch"]
    lines = [
        f"### {name}: {sc['description']} ({b['sequences']} x {b['padded_length']} padded, {b['real_tokens']} real "
        f"tokens, {b['real_fraction']:.0%})",
        "",
        "| contender | median ms | real tokens/s | vs transformers fp32 | pooled cosine vs fp32 | GFLOP/s on real "
        "tokens | of its precision's GEMM peak | peak RSS growth MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row, e in sc["contenders"].items():
        lines.append(
            f"| {row} | {e['median_s'] * 1e3:.1f} | {e['real_tokens_per_s']:.0f} | "
            f"{e['ratio_to_transformers_fp32']:.2f}x | {e['pooled_cosine_vs_fp32']:.5f} | "
            f"{e['gflops_on_real_tokens']:.0f} | {_percent(e['share_of_gemm_peak'])} | {e['peak_rss_growth_mb']:.0f} |"
        )
    lines += [""] + [f"- {k}: {v:.3g}" for k, v in sc["accuracy"].items()]
    lines += [f"- {row}: {e['note']}" for row, e in sc["contenders"].items() if e.get("note")]
    return [*lines, ""]


def markdown(results: dict) -> str:
    lines = machine_info.heading(results)
    lines[-1] += " ALBERT-base shapes, random weights, one process; contenders warm up once, then alternate; medians."
    lines.append("")
    for name, sc in results.get("inference", {}).items():
        if isinstance(sc, dict) and "contenders" in sc:
            lines += scenario_table(name, sc)
    lines += [
        "Padded positions are computed by transformers, the plain path, ONNX Runtime and OpenVINO, skipped by "
        "albertlite's fast path; GFLOP/s counts the real tokens' FLOPs only, against the best GEMM kernel of the "
        "contender's precision below. Peak RSS growth: one call after warm-up (ONNX Runtime and OpenVINO keep the "
        "arenas they grew while warming up, so theirs read near 0).",
    ]
    if results.get("training"):
        lines += ["", "### Training step (forward, backward, AdamW), sequence classification", ""]
        lines += ["| config | batch x length | transformers ms | albertlite ms | ratio |", "|---|---|---:|---:|---:|"]
        for name, t in results["training"].items():
            lines.append(
                f"| {name} | {t['batch']} x {t['padded_length']} | {t['hf']['median_s'] * 1e3:.0f} | "
                f"{t['albertlite']['median_s'] * 1e3:.0f} | {t['ratio albertlite / hf']:.2f}x |"
            )
    lines += frameworks_table(results.get("frameworks"))
    if results.get("gemm_peak_gflops"):
        lines += ["", "### GEMM peak (2048^3 product)", "", "| kernel | GFLOP/s |", "|---|---:|"]
        lines += [f"| {k} | {v:.0f} |" for k, v in results["gemm_peak_gflops"].items()]
        chosen = ", ".join(f"{k}: {v}" for k, v in results.get("gemm_backends", {}).items())
        lines += ["", f"Backends the fast path measured and chose (dtype in->out features): {chosen}."]
    return "\n".join(lines) + "\n"


def frameworks_table(fw: dict | None) -> list[str]:
    if not fw:
        return []
    lines = ["", "### TensorFlow and Flax, varied-length batch (separate processes, alternating)", ""]
    lines += [
        "albertlite-tf/-flax: the plain model call, which packs the batch (fast path); -plain: the padded path in "
        "tf.function / jax.jit, as Hugging Face's classes run.",
        "",
        "| implementation | median ms | real tokens/s |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {k} | {v['median_s'] * 1e3:.0f} | {v['real_tokens_per_s']:.0f} |"
        for k, v in fw.items()
        if isinstance(v, dict) and "median_s" in v
    ]
    lines += [f"- {k}: {v:.2f}x" for k, v in fw.items() if k.startswith("ratio")]
    return lines + [f"- {k} failed: {v}" for k, v in fw["errors"].items()]


def write_results(results: dict, out: Path) -> Path:
    title = "albertlite and its peers on CPU, one section per CPU kind measured"
    return machine_info.write_results(out, "models", results, markdown(results), title)


def update_frameworks(out: Path) -> None:
    """Re-measure the TF/Flax section alone and write it into this CPU kind's results (the rest is kept)."""
    kind = machine_info.machine()["cpu_kind"]
    results = machine_info.read_results(out, "models", kind)
    if results is None:
        raise SystemExit(f"no earlier results of this CPU kind ({kind}) in {out}: run the whole benchmark first")
    with tempfile.TemporaryDirectory() as tmp:
        hf, ours = build_models(Path(tmp) / "base")
        del hf, ours
        results["frameworks"] = frameworks(Path(tmp) / "base", invocations=2, runs=3)
        results["frameworks"]["load_average_end"] = os.getloadavg()
    write_results(results, out)
    print(json.dumps(results["frameworks"], indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="Alternating timed rounds per scenario.")
    parser.add_argument("--quick", action="store_true", help="Skip ONNX Runtime, OpenVINO and the base training step.")
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument(
        "--shapes", choices=("base", "tiny"), default="base", help="tiny: a quick check that the script runs."
    )
    parser.add_argument("--frameworks", action="store_true", help="Also TF and Flax vs Hugging Face 4.57 (slow).")
    parser.add_argument(
        "--frameworks-only",
        action="store_true",
        help="Run only the TF/Flax section and replace it in this CPU kind's results.",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Directory for the results (models/<cpu kind>.*).")
    args = parser.parse_args()
    if args.frameworks_only:
        update_frameworks(args.out)
        return
    return_freed_memory_to_the_os()
    results: dict = {"machine": machine_info.machine(), "date": time.strftime("%Y-%m-%d")}
    results["gemm_peak_gflops"] = gemm_peaks()
    results["gemm_peak_by_precision"] = peaks_by_precision(results["gemm_peak_gflops"])
    print(json.dumps(results, indent=1))
    with tempfile.TemporaryDirectory() as tmp:
        hf, ours = build_models(Path(tmp) / "base", BASE if args.shapes == "base" else TINY)
        directory = None if args.quick else Path(tmp)
        results["inference"] = inference(
            hf, ours, args.rounds, directory, args.scenarios, results["gemm_peak_by_precision"]
        )
        results["inference"]["safetensors_mb"] = (Path(tmp) / "base" / "model.safetensors").stat().st_size / 1e6
        del hf, ours
        if args.frameworks:
            results["frameworks"] = frameworks(Path(tmp) / "base", invocations=2, runs=3)
    results["training"] = {"tiny": training(TINY, 16, 64, args.rounds)}
    if not args.quick:
        results["training"]["base"] = training(BASE, 8, 64, max(2, args.rounds // 2))
    results["gemm_backends"] = {f"{dtype} {k}->{n}": name for (_, dtype, k, n), name in gemm_choices().items()}
    results["machine"]["load_average_end"] = os.getloadavg()
    path = write_results(results, args.out)
    print(path.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()

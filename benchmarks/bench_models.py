"""albertlite against Hugging Face transformers on the same weights, in one process: real tokens/s, latency, memory.

ALBERT-base shapes with random weights (throughput does not depend on the values). Every contender in a scenario runs
once to warm up, then the contenders alternate for ``--rounds`` rounds, so that load from other processes falls on all
of them alike; the tables give medians and ratios. Writes benchmarks/results/models.json and models.md.

Scenarios: the varied-length batch (16 sequences, lengths lognormal around 40, at most 128, ~44% of the padded
positions real; fixed seed) and batch 1, in fp32, bf16 and int8, onnxruntime on our exported graph (with its graph
optimisations, and with its int8 dynamic quantization); a training step (forward, backward, AdamW) for the tiny and the
base configs; the machine's GEMM peak (fp32 through ``F.linear``/MKL and through oneDNN, bf16) against the GFLOP/s
each contender achieves on the real tokens.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_models.py [--rounds N] [--quick]``; ``--frameworks-only``
re-measures just the TensorFlow/Flax section into the existing results.
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import importlib.util
import json
import os
import platform
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
from albertlite.fast import fast_path, optimize
from albertlite.fast.gemm import chosen_backends as gemm_choices
from albertlite.fast.gemm import measure_gemm_gflops

RESULTS = Path(__file__).parent / "results"
BASE = dict(
    vocab_size=30000, embedding_size=128, hidden_size=768, num_attention_heads=12, intermediate_size=3072,
    num_hidden_layers=12, max_position_embeddings=512, hidden_act="gelu_new",
)  # fmt: skip
TINY = dict(
    vocab_size=1000, embedding_size=32, hidden_size=64, num_attention_heads=4, intermediate_size=128,
    num_hidden_layers=4, max_position_embeddings=128, hidden_act="gelu_new",
)  # fmt: skip


# ----------------------------------------------------------------------------------------------- machine
def machine() -> dict:
    cpu = "unknown"
    flags: set[str] = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "isa": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16"}),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "albertlite": albertlite.__version__,
        "python": platform.python_version(),
        "torch_threads": torch.get_num_threads(),
        "load_average_start": os.getloadavg(),
    }


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
def build_models(directory: Path) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    hf = transformers.AlbertModel(transformers.AlbertConfig(**BASE)).eval()
    hf.save_pretrained(directory)
    ours = albertlite.AlbertModel.from_pretrained(directory)
    return hf, ours


def inference(hf, ours, rounds: int, onnx_dir: Path | None) -> dict:
    batch = varied_batch()
    mask = batch["attention_mask"]
    lengths = mask.sum(1).tolist()
    real = int(mask.sum())
    flops = real_flops(BASE, lengths)
    result = {
        "batch": {"sequences": len(lengths), "padded_length": int(mask.shape[1]), "real_tokens": real,
                  "real_fraction": real / mask.numel(), "lengths": lengths},
    }  # fmt: skip

    # Accuracy first: the same weights give the same outputs.
    bf16_ours = optimize(ours, dtype=torch.bfloat16)
    int8_ours = optimize(ours, quantize="int8")
    hf_bf16 = copy.deepcopy(hf).to(torch.bfloat16)
    with torch.inference_mode():
        ref = hf(**batch)
        with fast_path(False):
            plain = ours(**batch)
        fast = ours(**batch)
        fast_bf16 = bf16_ours(**batch)
        fast_int8 = int8_ours(**batch)
        hf_bf16_out = hf_bf16(**batch)
    result["accuracy"] = {
        "plain_vs_hf_max_abs": _max_diff_real(plain.last_hidden_state, ref.last_hidden_state, mask),
        "fast_vs_plain_max_abs": _max_diff_real(fast.last_hidden_state, plain.last_hidden_state, mask),
        "fast_vs_hf_pooled_max_abs": float((fast.pooler_output - ref.pooler_output).abs().max()),
        "bf16_fast_pooled_cosine_vs_fp32": _cosine(fast_bf16.pooler_output, ref.pooler_output),
        "hf_bf16_pooled_cosine_vs_fp32": _cosine(hf_bf16_out.pooler_output, ref.pooler_output),
        "int8_fast_pooled_cosine_vs_fp32": _cosine(fast_int8.pooler_output, ref.pooler_output),
        "int8_fast_max_abs_real_vs_fp32": _max_diff_real(fast_int8.last_hidden_state, ref.last_hidden_state, mask),
    }

    contenders = {
        "hf fp32": _call(hf, batch),
        "albertlite plain fp32": _call(ours, batch, plain=True),
        "albertlite fast fp32": _call(ours, batch),
        "hf bf16": _call(hf_bf16, batch),
        "albertlite optimize bf16": _call(bf16_ours, batch),
        "albertlite optimize int8": _call(int8_ours, batch),
    }
    numpy_batch = {k: v.numpy() for k, v in batch.items()}
    if onnx_dir is not None:
        contenders.update(onnx_contenders(ours, onnx_dir, numpy_batch, result))
    timings = alternate(contenders, rounds)
    for entry in timings.values():
        entry["real_tokens_per_s"] = real / entry["median_s"]
        entry["gflops_on_real_tokens"] = flops / entry["median_s"] / 1e9
    result["varied_batch"] = timings
    result["ratios"] = {
        "fast fp32 / hf fp32": timings["hf fp32"]["median_s"] / timings["albertlite fast fp32"]["median_s"],
        "plain fp32 / hf fp32": timings["hf fp32"]["median_s"] / timings["albertlite plain fp32"]["median_s"],
        "optimize bf16 / hf bf16": timings["hf bf16"]["median_s"] / timings["albertlite optimize bf16"]["median_s"],
        "optimize int8 / hf fp32": timings["hf fp32"]["median_s"] / timings["albertlite optimize int8"]["median_s"],
    }
    one = single()
    latency = alternate(
        {
            "hf fp32": _call(hf, one),
            "albertlite fast fp32": _call(ours, one),
            "hf bf16": _call(hf_bf16, one),
            "albertlite optimize bf16": _call(bf16_ours, one),
            "albertlite optimize int8": _call(int8_ours, one),
        },
        rounds * 2,
    )
    result["batch1_latency"] = {"length": 40, **latency}
    return result


def onnx_contenders(ours, directory: Path, batch: dict[str, np.ndarray], result: dict) -> dict:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from albertlite.export.onnx import export_onnx

    path = export_onnx(ours, directory / "base.onnx")
    int8_path = directory / "base-int8.onnx"
    quantize_dynamic(str(path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True)
    result["onnx_file_mb"] = path.stat().st_size / 1e6
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = torch.get_num_threads()
    sessions = {
        "onnxruntime fp32": ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]),
        "onnxruntime int8": ort.InferenceSession(str(int8_path), options, providers=["CPUExecutionProvider"]),
    }
    with torch.inference_mode():
        reference = ours(**{k: torch.from_numpy(v) for k, v in batch.items()}).last_hidden_state.numpy()
    mask = batch["attention_mask"].astype(bool)
    for name, session in sessions.items():
        out = session.run(["last_hidden_state"], batch)[0]
        result.setdefault("accuracy", {})[f"{name} max_abs_real_vs_fast"] = float(np.abs(out - reference)[mask].max())
    return {name: (lambda s=session: s.run(None, batch)) for name, session in sessions.items()}


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


def gemm_peaks(rounds: int = 3) -> dict:
    """Best of ``rounds`` alternating measurements of each kernel (the peak is what the machine can give)."""
    kernels = {"fp32 F.linear (aten)": ("aten", torch.float32), "bf16 F.linear (aten)": ("aten", torch.bfloat16)}
    if torch.backends.mkldnn.is_available():
        kernels["fp32 oneDNN"] = ("mkldnn", torch.float32)
        kernels["bf16 oneDNN"] = ("mkldnn", torch.bfloat16)
    peaks = dict.fromkeys(kernels, 0.0)
    for _ in range(rounds):
        for name, (backend, dtype) in kernels.items():
            peaks[name] = max(peaks[name], measure_gemm_gflops(backend, dtype=dtype, repeats=3))
    return peaks


# ----------------------------------------------------------------------------------------------- report
def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# albertlite vs Hugging Face: ALBERT-base shapes, CPU",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores ({', '.join(m['isa'])}), torch {m['torch']} "
        f"({m['torch_threads']} threads), transformers {m['transformers']}, albertlite {m['albertlite']}. "
        f"Load average at start {m['load_average_start'][0]:.1f}, at end {m['load_average_end'][0]:.1f} "
        "(the machine is shared; contenders alternate, so ratios are fairer than absolute figures).",
        "",
    ]
    inf = results.get("inference")
    if inf:
        b = inf["batch"]
        lines += [
            f"## Varied-length batch: {b['sequences']} sequences padded to {b['padded_length']}, "
            f"{b['real_tokens']} real tokens ({b['real_fraction']:.0%})",
            "",
            "| contender | median ms | real tokens/s | GFLOP/s on real tokens | peak RSS growth MB |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, e in inf["varied_batch"].items():
            lines.append(
                f"| {name} | {e['median_s'] * 1e3:.0f} | {e['real_tokens_per_s']:.0f} | "
                f"{e['gflops_on_real_tokens']:.0f} | {e['peak_rss_growth_mb']:.0f} |"
            )
        lines += ["", "| ratio (speed-up) | value |", "|---|---:|"]
        lines += [f"| {k} | {v:.2f}x |" for k, v in inf["ratios"].items()]
        lines += ["", "Accuracy (same weights; hidden states compared at real positions):", ""]
        lines += [f"- {k}: {v:.6g}" for k, v in inf["accuracy"].items()]
        lines += [
            "",
            "Peak RSS growth is measured during one call after warm-up; onnxruntime keeps the memory arena it grew "
            "during warm-up, so its growth reads 0. Padded positions are computed by the HF, plain and onnxruntime "
            "contenders, skipped by the fast path; GFLOP/s counts the real tokens' FLOPs only.",
        ]
        if "onnx_file_mb" in inf:
            lines.append(f"- ONNX file: {inf['onnx_file_mb']:.1f} MB (safetensors {inf['safetensors_mb']:.1f} MB)")
        lat = inf["batch1_latency"]
        lines += ["", f"## Batch 1, {lat['length']} tokens: latency", "", "| contender | median ms |", "|---|---:|"]
        lines += [f"| {k} | {v['median_s'] * 1e3:.1f} |" for k, v in lat.items() if isinstance(v, dict)]
    if results.get("training"):
        lines += ["", "## Training step (forward, backward, AdamW), sequence classification", ""]
        lines += ["| config | batch x length | hf ms | albertlite ms | ratio |", "|---|---|---:|---:|---:|"]
        for name, t in results["training"].items():
            lines.append(
                f"| {name} | {t['batch']} x {t['padded_length']} | {t['hf']['median_s'] * 1e3:.0f} | "
                f"{t['albertlite']['median_s'] * 1e3:.0f} | {t['ratio albertlite / hf']:.2f}x |"
            )
    fw = results.get("frameworks")
    if fw:
        lines += ["", "## TensorFlow and Flax, varied-length batch (separate processes, alternating)", ""]
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
        lines += [f"- {k} failed: {v}" for k, v in fw["errors"].items()]
    if results.get("gemm_peak_gflops"):
        lines += ["", "## GEMM peak (2048^3 product)", "", "| kernel | GFLOP/s |", "|---|---:|"]
        lines += [f"| {k} | {v:.0f} |" for k, v in results["gemm_peak_gflops"].items()]
        chosen = ", ".join(f"{k}: {v}" for k, v in results.get("gemm_backends", {}).items())
        lines += ["", f"Backends the fast path measured and chose (dtype in->out features): {chosen}."]
    return "\n".join(lines) + "\n"


def update_frameworks(out: Path) -> None:
    """Re-measure the TF/Flax section alone and write it into the existing results (the rest is kept)."""
    results = json.loads((out / "models.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        hf, ours = build_models(Path(tmp) / "base")
        del hf, ours
        results["frameworks"] = frameworks(Path(tmp) / "base", invocations=2, runs=3)
        results["frameworks"]["load_average_end"] = os.getloadavg()
    (out / "models.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "models.md").write_text(markdown(results))
    print(json.dumps(results["frameworks"], indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="Alternating timed rounds per scenario.")
    parser.add_argument("--quick", action="store_true", help="Skip onnxruntime and the base training step.")
    parser.add_argument("--frameworks", action="store_true", help="Also TF and Flax vs Hugging Face 4.57 (slow).")
    parser.add_argument(
        "--frameworks-only",
        action="store_true",
        help="Run only the TF/Flax section and replace it in an existing models.json (and models.md).",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Directory for models.json and models.md.")
    args = parser.parse_args()
    if args.frameworks_only:
        update_frameworks(args.out)
        return
    return_freed_memory_to_the_os()
    results: dict = {"machine": machine()}
    results["gemm_peak_gflops"] = gemm_peaks()
    print(json.dumps(results, indent=1))
    with tempfile.TemporaryDirectory() as tmp:
        hf, ours = build_models(Path(tmp) / "base")
        onnx_dir = None if args.quick else Path(tmp)
        results["inference"] = inference(hf, ours, args.rounds, onnx_dir)
        results["inference"]["safetensors_mb"] = (Path(tmp) / "base" / "model.safetensors").stat().st_size / 1e6
        del hf, ours
        if args.frameworks:
            results["frameworks"] = frameworks(Path(tmp) / "base", invocations=2, runs=3)
    print(json.dumps(results["inference"]["ratios"], indent=1))
    results["training"] = {"tiny": training(TINY, 16, 64, args.rounds)}
    if not args.quick:
        results["training"]["base"] = training(BASE, 8, 64, max(2, args.rounds // 2))
    results["gemm_backends"] = {f"{dtype} {k}->{n}": name for (_, dtype, k, n), name in gemm_choices().items()}
    results["machine"]["load_average_end"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "models.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "models.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()

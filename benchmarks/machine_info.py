"""What a benchmark result was measured on, and where each CPU kind's results are kept.

Results from different CPUs rank backends, kernels and precisions differently, so every results file records the CPU
model, the ISA flags that decide the fast kernels and the library versions, and each CPU kind keeps its own file
(``results/<benchmark>/<cpu kind>.json``): a run on another machine adds a file instead of overwriting one.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
from pathlib import Path

from albertlite.devices import cpuinfo_value

# The /proc/cpuinfo flags that decide which GEMM and attention kernels can run, with the names the tables print.
ISA_FLAGS = {
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_bf16": "AVX512-BF16",
    "avx512_vnni": "AVX512-VNNI",
    "avx_vnni": "AVX-VNNI",
    "amx_bf16": "AMX-BF16",
    "amx_int8": "AMX-INT8",
    "amx_fp16": "AMX-FP16",
}
LIBRARIES = ("albertlite", "torch", "transformers", "onnxruntime", "openvino", "numpy")


def cpu_model_and_flags() -> tuple[str, set[str]]:
    model = cpuinfo_value("model name") or platform.processor() or "unknown CPU"
    return model, set((cpuinfo_value("flags") or "").split())


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine() -> dict:
    """The CPU, its kernel-relevant ISA, the cores and threads, the versions and the load at the start."""
    import torch

    model, flags = cpu_model_and_flags()
    return {
        "cpu": model,
        "cpu_kind": cpu_kind(model, flags),
        "isa": [label for flag, label in ISA_FLAGS.items() if flag in flags],
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "versions": library_versions(),
        "load_average_start": os.getloadavg(),
    }


def cpu_kind(model: str, flags: set[str] = frozenset()) -> str:
    """A file-name key per CPU kind: ``AMD EPYC 9B14`` -> ``amd-epyc-9b14``; frequency suffixes dropped.

    Virtual machines often report a generic model ("Intel(R) Xeon(R) Processor") for CPUs whose matrix units differ,
    and AMX tiles change every bf16 and int8 ranking, so a CPU with AMX gets its own key (``...-amx``).
    """
    model = re.sub(r"\(r\)|\(tm\)|\bcpu\b|@.*$|\d+-core processor", " ", model.lower())
    kind = re.sub(r"[^a-z0-9]+", "-", model).strip("-") or "unknown-cpu"
    return f"{kind}-amx" if "amx_tile" in flags else kind


def machine_line(m: dict) -> str:
    versions = m["versions"]
    libs = ", ".join(f"{k} {v}" for k, v in versions.items() if v != "not installed" and k != "python")
    return (
        f"{m['cpu']}, {m['cores']} cores ({', '.join(m['isa']) or 'no AVX-512'}), {m['torch_threads']} threads; "
        f"Python {versions['python']}, {libs}"
    )


def results_path(directory: Path, benchmark: str, kind: str, suffix: str) -> Path:
    return directory / benchmark / f"{kind}{suffix}"


def all_results(directory: Path, benchmark: str) -> list[Path]:
    """Every CPU kind's results file for ``benchmark``, sorted by name."""
    return sorted((directory / benchmark).glob("*.json"))


def read_results(directory: Path, benchmark: str, kind: str) -> dict | None:
    """This CPU kind's earlier results of ``benchmark`` (None when it has none yet)."""
    path = results_path(directory, benchmark, kind, ".json")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def heading(results: dict, subject: str = "") -> list[str]:
    """A results section's first lines: the CPU kind as its title, then the machine, the date and the load."""
    m = results["machine"]
    end = m.get("load_average_end")
    load = f"load average at start {m['load_average_start'][0]:.1f}" + (f", at end {end[0]:.1f}" if end else "")
    return [f"## {m['cpu']} ({m['cpu_kind']}){subject}", "",
            f"Machine: {machine_line(m)}. Measured {results['date']}; {load}."]  # fmt: skip


def write_results(directory: Path, benchmark: str, results: dict, markdown: str, title: str) -> Path:
    """This CPU kind's ``<benchmark>/<kind>.json`` and ``.md``, then ``<benchmark>.md``: every kind's section."""
    path = results_path(directory, benchmark, results["machine"]["cpu_kind"], ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    sections = [p.with_suffix(".md").read_text(encoding="utf-8") for p in all_results(directory, benchmark)]
    (directory / f"{benchmark}.md").write_text("\n".join([f"# {title}", "", *sections]), encoding="utf-8")
    return path

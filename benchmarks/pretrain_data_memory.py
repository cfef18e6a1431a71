"""Peak memory of ``albertlite pretrain-data`` on a corpus and on one ten times larger: it should stay flat.

The corpus is text every machine has: the Python standard library's source files, one line a "sentence" and a
blank line between files, cut to the size asked; the larger corpus is that one repeated, so that the two differ
in size only (peak memory follows the largest chunk of documents, which a different text could change). A
tokenizer is trained on the small corpus, then ``pretrain-data`` runs in a child process per corpus. Two peaks
are reported: the largest single process (the command or one of its workers) from ``os.wait4``, and the whole
process tree, summed from /proc every 20 ms. This script imports no albertlite and trains the tokenizer in a
child of its own, because Linux counts a parent's resident set at fork time in its child's peak.

    python benchmarks/pretrain_data_memory.py [--base-mb 2] [--factor 10] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path


def write_corpus(path: Path, size: int) -> Path:
    """Standard-library source files, in sorted order (repeated if need be), until ``size`` bytes."""
    sources = sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < size:
            for source in sources:
                text = source.read_text(encoding="utf-8", errors="replace")
                lines = [line.strip() for line in text.splitlines() if line.strip()]
                chunk = "\n".join(lines)[: size - written] + "\n\n"
                out.write(chunk)
                written += len(chunk.encode("utf-8"))
                if written >= size:
                    break
    return path


def repeat_file(source: Path, target: Path, times: int) -> Path:
    """``source`` written ``times`` times over: the same documents, so only the corpus size changes."""
    with open(target, "wb") as out:
        for _ in range(times):
            with open(source, "rb") as handle:
                while block := handle.read(1 << 20):
                    out.write(block)
    return target


def tree_rss_bytes(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc (0 once it has gone)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) * 1024 if "VmRSS:" in status else 0
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return total


def peak_rss_mib(command: list[str]) -> tuple[float, float, float]:
    """Run a command; return (peak RSS of its largest process in MiB, peak RSS of its process tree, seconds)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    tree_peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            tree_peak[0] = max(tree_peak[0], tree_rss_bytes(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}")
    return usage.ru_maxrss / 1024, tree_peak[0] / 2**20, time.perf_counter() - start


def measure(
    base_mb: float, factor: int, workers: int, max_seq_length: int, dupe_factor: int, chunk_chars: int
) -> list[dict]:
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        small = write_corpus(root / "small.txt", int(base_mb * 2**20))
        files = {"corpus": small, f"corpus x{factor}": repeat_file(small, root / "large.txt", factor)}
        # in a child, so that this process stays small: a child's peak RSS counts its parent's at fork time
        train = "import sys; from albertlite.tokenizer_training import train_tokenizer as t; "
        train += "t([sys.argv[1]], 2000, sys.argv[2])"
        subprocess.run([sys.executable, "-c", train, str(files["corpus"]), str(root / "tokenizer")], check=True)
        results = []
        for name, path in files.items():
            output = root / f"out-{len(results)}"
            command = [sys.executable, "-m", "albertlite", "pretrain-data", "--input", str(path),
                       "--tokenizer", str(root / "tokenizer"), "--output", str(output),
                       "--max-seq-length", str(max_seq_length), "--dupe-factor", str(dupe_factor),
                       "--workers", str(workers), "--chunk-chars", str(chunk_chars)]  # fmt: skip
            peak, tree_peak, seconds = peak_rss_mib(command)
            manifest = json.loads((output / "manifest.json").read_text())
            results.append(
                {
                    "corpus": name,
                    "megabytes": round(path.stat().st_size / 2**20, 2),
                    "instances": manifest["num_instances"],
                    "tokens": manifest["num_tokens"],
                    "peak_rss_mib": round(peak, 1),
                    "tree_peak_rss_mib": round(tree_peak, 1),
                    "seconds": round(seconds, 1),
                }
            )
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-mb", type=float, default=2.0, help="Size of the small corpus in MiB.")
    parser.add_argument("--factor", type=int, default=10, help="How many times larger the second corpus is.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--dupe-factor", type=int, default=1)
    parser.add_argument("--chunk-chars", type=int, default=1 << 20, help="pretrain-data --chunk-chars.")
    parser.add_argument("--json", action="store_true", help="Print the results as one JSON line.")
    args = parser.parse_args()
    results = measure(args.base_mb, args.factor, args.workers, args.max_seq_length, args.dupe_factor, args.chunk_chars)
    if args.json:
        print(json.dumps(results))
        return
    print(
        f"pretrain-data, --workers {args.workers}, --max-seq-length {args.max_seq_length}, "
        f"--dupe-factor {args.dupe_factor}, --chunk-chars {args.chunk_chars}"
    )
    for r in results:
        print(f"{r['corpus']:>12}: {r['megabytes']:8.2f} MiB text, {r['instances']:>9,} instances, "
              f"{r['tokens']:>11,} tokens, peak RSS {r['peak_rss_mib']:7.1f} MiB (largest process), "
              f"{r['tree_peak_rss_mib']:7.1f} MiB (all processes), {r['seconds']:6.1f} s")  # fmt: skip
    small, large = results
    print(
        f"ratio of peaks: {large['peak_rss_mib'] / small['peak_rss_mib']:.2f} (largest process), "
        f"{large['tree_peak_rss_mib'] / small['tree_peak_rss_mib']:.2f} (all processes)"
    )


if __name__ == "__main__":
    main()

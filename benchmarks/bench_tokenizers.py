"""Batch-encoding throughput of albertlite's tokenizers against Hugging Face's, same vocabulary, same texts, one run.

- fast: ``AlbertTokenizerFast`` vs transformers 5.x's ``AutoTokenizer`` on the directory albertlite writes (the
  generic tokenizers backend runs the same tokenizer.json, so the ids are identical; checked before timing);
- slow: ``AlbertTokenizer`` vs transformers 4.57's SentencePiece ``AlbertTokenizer``, timed in a subprocess of the
  4.57 venv (``--hf457-python``; 4.57 cannot share a venv with 5.x); its ids are checked against ours.

Every call encodes a batch with ``padding=True, truncation=True, max_length=512`` (token type ids and attention mask
asked for explicitly, as the libraries' defaults differ); throughput counts the non-pad tokens. The fast pair is timed
in interleaved passes; the slow one before and after the 4.57 subprocess (the mean of the two medians is reported).

Usage:

    .venv/bin/python benchmarks/bench_tokenizers.py [--hf457-python /work/venv457/bin/python] [--texts 2000]

Writes benchmarks/results/tokenizers.json and tokenizers.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "tokenizer"
RESULTS = ROOT / "benchmarks" / "results"
CALL = {
    "padding": True,
    "truncation": True,
    "max_length": 512,
    "return_token_type_ids": True,
    "return_attention_mask": True,
}

# Runs in the transformers 4.57 venv: times its slow AlbertTokenizer on the same batches, prints JSON.
HF457_TIMER = r"""
import hashlib, json, statistics, sys, time
import transformers
spiece, texts_path = sys.argv[1], sys.argv[2]
batch_size, repeats, call = int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
texts = json.loads(open(texts_path, encoding="utf-8").read())
tok = transformers.AlbertTokenizer(spiece)
batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
def run():
    return [tok(b, **call) for b in batches]
out = run()
times = []
for _ in range(repeats):
    start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
ids = [row for enc in out for row in enc["input_ids"]]
tokens = sum(sum(row) for enc in out for row in enc["attention_mask"])
digest = hashlib.sha256(json.dumps(ids).encode()).hexdigest()
print(json.dumps({"seconds": statistics.median(times), "tokens": tokens, "digest": digest,
                  "version": transformers.__version__}))
"""


def load_texts(count: int) -> list[str]:
    """Paragraphs of the fixture corpus (stdlib docstrings), repeated to ``count`` if needed."""
    lines = gzip.decompress((FIXTURES / "corpus.txt.gz").read_bytes()).decode("utf-8").splitlines()
    lines = [line for line in lines if line.strip()]
    return [lines[i % len(lines)] for i in range(count)]


def time_pair(
    ours: Callable[[list[str]], dict], theirs: Callable[[list[str]], dict], batches: list[list[str]], repeats: int
) -> tuple[float, float, list, list]:
    """Median seconds of each to encode every batch, passes interleaved so that load on the machine hits both alike;
    and the outputs of one pass of each."""
    ours_out = [ours(batch) for batch in batches]  # warm-up
    theirs_out = [theirs(batch) for batch in batches]
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for _ in range(repeats):
        for name, encode in (("ours", ours), ("theirs", theirs)):
            start = time.perf_counter()
            for batch in batches:
                encode(batch)
            times[name].append(time.perf_counter() - start)
    return statistics.median(times["ours"]), statistics.median(times["theirs"]), ours_out, theirs_out


def time_calls(encode: Callable[[list[str]], dict], batches: list[list[str]], repeats: int) -> tuple[float, list]:
    """Median seconds to encode every batch, and the outputs of one pass."""
    outputs = [encode(batch) for batch in batches]  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            encode(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times), outputs


def summarize(outputs: list) -> tuple[int, str]:
    ids = [list(row) for enc in outputs for row in enc["input_ids"]]
    tokens = sum(sum(row) for enc in outputs for row in enc["attention_mask"])
    return tokens, hashlib.sha256(json.dumps(ids).encode()).hexdigest()


def bench_fast(texts_dir: Path, batches: list[list[str]], repeats: int) -> dict:
    import tokenizers
    import transformers

    from albertlite import AlbertTokenizerFast

    ours = AlbertTokenizerFast.from_pretrained(texts_dir)
    theirs = transformers.AutoTokenizer.from_pretrained(texts_dir)
    ours_s, theirs_s, ours_out, theirs_out = time_pair(
        lambda b: ours(b, **CALL), lambda b: theirs(b, **CALL), batches, repeats
    )
    tokens, digest = summarize(ours_out)
    if (tokens, digest) != summarize(theirs_out):
        raise SystemExit("fast: the two tokenizers disagree on the ids; the timing would compare different work")
    return {
        "tokens": tokens,
        "ours_s": ours_s,
        "hf_s": theirs_s,
        "hf_label": f"transformers {transformers.__version__} {type(theirs).__name__} "
        f"(tokenizers {tokenizers.__version__})",
    }


def bench_slow(texts_dir: Path, texts: list[str], batch_size: int, repeats: int, hf457_python: str | None) -> dict:
    from albertlite import AlbertTokenizer

    ours = AlbertTokenizer.from_pretrained(texts_dir)
    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    before_s, ours_out = time_calls(lambda b: ours(b, **CALL), batches, repeats)
    tokens, digest = summarize(ours_out)
    result = {"tokens": tokens, "ours_s": before_s, "hf_s": None, "hf_label": "transformers 4.57 (not run)"}
    if not hf457_python:
        return result
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(texts, handle)
    command = [hf457_python, "-c", HF457_TIMER, str(texts_dir / "spiece.model"), handle.name]
    try:
        completed = subprocess.run(
            [*command, str(batch_size), str(repeats), json.dumps(CALL)], check=True, capture_output=True, text=True
        )
    finally:
        os.unlink(handle.name)
    after_s, _ = time_calls(lambda b: ours(b, **CALL), batches, repeats)
    result["ours_s"] = (before_s + after_s) / 2
    theirs = json.loads(completed.stdout.strip().splitlines()[-1])
    if (theirs["tokens"], theirs["digest"]) != (tokens, digest):
        raise SystemExit("slow: transformers 4.57 and albertlite disagree on the ids")
    result.update(hf_s=theirs["seconds"], hf_label=f"transformers {theirs['version']} AlbertTokenizer (sentencepiece)")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000, help="Number of texts (default: %(default)s).")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7, help="Timed passes; the median is reported.")
    default_457 = "/work/venv457/bin/python" if Path("/work/venv457/bin/python").exists() else None
    parser.add_argument("--hf457-python", default=default_457, help="Python of a venv with transformers 4.57.")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from albertlite import AlbertTokenizer, AlbertTokenizerFast

    texts = load_texts(args.texts)
    batches = [texts[i : i + args.batch_size] for i in range(0, len(texts), args.batch_size)]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        slow = AlbertTokenizer(FIXTURES / "spiece.model")
        slow.save_pretrained(directory)
        AlbertTokenizerFast.from_slow(slow).save_pretrained(directory)
        rows = {
            "fast": bench_fast(directory, batches, args.repeats),
            "slow": bench_slow(directory, texts, args.batch_size, args.repeats, args.hf457_python),
        }
    report = {
        "setup": {
            "texts": len(texts),
            "characters": sum(map(len, texts)),
            "batch_size": args.batch_size,
            "call": CALL,
            "vocabulary": "tests/fixtures/tokenizer/spiece.model (1000-piece unigram, ALBERT recipe)",
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
            "python": sys.version.split()[0],
        },
        "results": {},
    }
    for name, row in rows.items():
        entry = {
            "tokens": row["tokens"],
            "albertlite_tokens_per_s": row["tokens"] / row["ours_s"],
            "reference": row["hf_label"],
            "reference_tokens_per_s": row["tokens"] / row["hf_s"] if row["hf_s"] else None,
        }
        entry["speedup"] = row["hf_s"] / row["ours_s"] if row["hf_s"] else None
        report["results"][name] = entry
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tokenizers.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    markdown = to_markdown(report)
    (args.out / "tokenizers.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    return 0


def to_markdown(report: dict) -> str:
    setup = report["setup"]
    lines = [
        "# Tokenizer batch-encoding throughput",
        "",
        f"{setup['texts']} texts ({setup['characters']:,} characters), batches of {setup['batch_size']}, "
        f"`{json.dumps(setup['call'])}`; vocabulary: {setup['vocabulary']}; {setup['machine']}, "
        f"Python {setup['python']}. Median of the timed passes; ids checked identical before timing.",
        "",
        "| tokenizer | albertlite tokens/s | reference | reference tokens/s | speed-up |",
        "|---|---:|---|---:|---:|",
    ]
    for name, row in report["results"].items():
        ref = f"{row['reference_tokens_per_s']:,.0f}" if row["reference_tokens_per_s"] else "n/a"
        speedup = f"{row['speedup']:.2f}x" if row["speedup"] else "n/a"
        lines.append(f"| {name} | {row['albertlite_tokens_per_s']:,.0f} | {row['reference']} | {ref} | {speedup} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

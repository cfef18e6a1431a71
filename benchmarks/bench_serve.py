"""``albertlite serve`` under load on loopback: requests/s, real tokens/s and latency percentiles of ``/embed``.

ALBERT-base shapes with random weights (30,000 embedding rows) and a tokenizer trained on the standard library's
docstrings (as many pieces as that corpus gives, about 6,500); texts whose token lengths are drawn as ``make
bench``'s varied batch (lognormal around 40, at most 128). Contenders, each a server process on a free loopback
port, called by an asyncio client that keeps ``concurrency`` requests (one text each) in flight until ``--requests``
are answered:

- ``albertlite serve`` in float32 (and ``--dtype bfloat16``);
- the same server with ``--max-batch-requests 1`` (batching off);
- the server a user would otherwise write: transformers' feature-extraction pipeline behind FastAPI, one request at a
  time (``--transformers-server`` mode of this file).

In-process references on the same model and texts: the model's forward pass alone on batches of 16 pre-tokenized
texts (``make bench``'s varied-batch real tokens/s), albertlite's pipeline on batches of 16 (tokenizing included),
and the pipeline called with one text at a time over the texts of the concurrency-1 row (latency). The memory run
starts a fresh float32 server and reads its resident memory after request 1,000 and after request
``--rss-requests``, with tiny payloads (each text's first three words) so that 10,000 requests stay quick at base
shapes: what could grow per request is the server's bookkeeping, whatever the text. The client shares the machine
with the server (loopback), as a sidecar client would.

Run: ``make bench-serve`` or ``.venv/bin/python benchmarks/bench_serve.py [--requests N]``; about 7 minutes on 2 cores
at the defaults. ``--shapes tiny`` checks in a minute that the script runs (tiny model, few requests; it prints the
tables and writes nothing unless ``--output`` is given). Writes benchmarks/results/serve/<cpu kind>.{json,md} and
the index benchmarks/results/serve.md (``--output DIR`` elsewhere). Not a timed test: run it on an idle machine.
"""

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

BENCHMARKS = Path(__file__).parent
sys.path.insert(0, str(BENCHMARKS))

import machine_info  # noqa: E402
from bench_models import BASE, TINY  # noqa: E402
from pretrain_quality import write_corpus  # noqa: E402

RESULTS = BENCHMARKS / "results"
SRC = BENCHMARKS.parent / "src"


# ----------------------------------------------------------------------------------------------- model and texts
def build_model(work: Path, config: dict) -> tuple[Path, int]:
    """A random ALBERT encoder of ``config``'s shapes (its embedding rows included) with a tokenizer trained on the
    standard library's prose, and the tokenizer's pieces: as many as that corpus gives, up to ``vocab_size``."""
    import torch

    import albertlite

    write_corpus(work)
    tokenizer = albertlite.train_tokenizer(
        [work / "train.txt"], vocab_size=config["vocab_size"], output_dir=work / "model", hard_vocab_limit=False
    )
    torch.manual_seed(0)
    model = albertlite.AlbertModel(albertlite.AlbertConfig(**config))
    model.save_pretrained(work / "model")
    albertlite.AlbertTokenizerFast.from_pretrained(work / "model").save_pretrained(work / "model")
    return work / "model", len(tokenizer)


def varied_texts(work: Path, model_dir: Path, count: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """Texts of lognormal token lengths around 40 (4 to 128, special tokens included), cut from the corpus."""
    import albertlite

    tokenizer = albertlite.AlbertTokenizerFast.from_pretrained(model_dir)
    words = (work / "train.txt").read_text(encoding="utf-8").split()
    rng = np.random.default_rng(seed)
    targets = np.clip(np.round(rng.lognormal(np.log(40), 0.6, count)), 4, 128).astype(int)
    texts, lengths = [], []
    for target in targets:
        start = int(rng.integers(0, len(words) - 200))
        take = max(1, int(target) // 2)
        while True:  # grow (then trim) the word span until it encodes to the target length
            text = " ".join(words[start : start + take])
            length = len(tokenizer(text)["input_ids"])
            if length >= target or take > 200:
                break
            take += 1
        while take > 1 and length > target:
            take -= 1
            text = " ".join(words[start : start + take])
            length = len(tokenizer(text)["input_ids"])
        texts.append(text)
        lengths.append(length)
    return texts, lengths


# ----------------------------------------------------------------------------------------------- servers
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on a free loopback port, ready once /health answers 200."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, *argv, "--port", str(self.port)], stdout=output, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{argv} exited:\n{log.read_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{argv} did not start:\n{log.read_text()}")

    def rss_mb(self) -> float:
        with open(f"/proc/{self.process.pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(120)


def transformers_server(model_dir: str, port: int) -> None:
    """transformers' feature-extraction pipeline behind FastAPI, one request at a time: ``/embed`` as ours."""
    import threading

    import transformers
    import uvicorn
    from fastapi import FastAPI
    from pydantic import BaseModel

    extract = transformers.pipeline("feature-extraction", model=model_dir, tokenizer=model_dir, device="cpu")
    lock = threading.Lock()  # the model runs one request at a time, as a plain endpoint around a pipeline does
    app = FastAPI()

    class Embed(BaseModel):
        inputs: str
        normalize: bool = True

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/embed")
    def embed(body: Embed) -> list[list[float]]:
        with lock:
            tokens = np.asarray(extract(body.inputs)[0])  # (tokens, hidden)
        vector = tokens.mean(axis=0)
        if body.normalize:
            vector = vector / np.linalg.norm(vector)
        return [vector.tolist()]

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ----------------------------------------------------------------------------------------------- load
async def load(url: str, texts: list[str], lengths: list[int], concurrency: int, requests: int) -> dict:
    """Keep ``concurrency`` requests in flight until ``requests`` are answered; rates and latency percentiles."""
    latencies: list[float] = []
    failures = 0
    tokens = 0
    counter = itertools.count()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=600) as client:

        async def worker() -> None:
            nonlocal failures, tokens
            while (index := next(counter)) < requests:
                text = index % len(texts)
                started = time.perf_counter()
                response = await client.post(url + "/embed", json={"inputs": texts[text], "normalize": False})
                latencies.append(time.perf_counter() - started)
                if response.status_code == 200:
                    tokens += lengths[text]
                else:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    q = np.percentile(latencies, [50, 95, 99]) * 1e3
    return {"concurrency": concurrency, "requests": requests, "failures": failures, "seconds": wall,
            "requests_per_s": requests / wall, "real_tokens_per_s": tokens / wall,
            "p50_ms": float(q[0]), "p95_ms": float(q[1]), "p99_ms": float(q[2])}  # fmt: skip


def in_process(model_dir: Path, texts: list[str], lengths: list[int], requests: int) -> dict:
    """The model's forward pass on pre-tokenized batches of 16 (``make bench``'s varied batch), the pipeline on
    batches of 16, and the pipeline on one text per call over the texts of the concurrency-1 row (latency)."""
    import torch

    import albertlite

    batches = [texts[s : s + 16] for s in range(0, len(texts) - 15, 16)]
    model = albertlite.AlbertModel.from_pretrained(model_dir).eval()
    tokenizer = albertlite.AlbertTokenizerFast.from_pretrained(model_dir)
    encoded = [tokenizer(batch, padding=True, return_tensors="pt") for batch in batches]
    with torch.inference_mode():
        for features in encoded:  # warm-up: the fast path times its attention kernels per new shape class
            model(**features)
        started = time.perf_counter()
        for features in encoded:
            model(**features)
        forward = time.perf_counter() - started
    real = sum(int(features["attention_mask"].sum()) for features in encoded)

    pipe = albertlite.pipeline("feature-extraction", model=model_dir, batch_size=16)
    for batch in batches:  # warm-up, as above
        pipe(batch, pooling="mean")
    started = time.perf_counter()
    for batch in batches:
        pipe(batch, pooling="mean")
    batched = time.perf_counter() - started
    single = []
    for index in range(requests):  # the texts the server's concurrency-1 row sends, in its order
        began = time.perf_counter()
        pipe(texts[index % len(texts)], pooling="mean")
        single.append(time.perf_counter() - began)
    return {"batches_of_16": len(batches), "varied_batch_forward_real_tokens_per_s": real / forward,
            "varied_batch_pipeline_real_tokens_per_s": sum(lengths[: 16 * len(batches)]) / batched,
            "single_requests": requests, "single_p50_ms": statistics.median(single) * 1e3}  # fmt: skip


def tiny_payloads(model_dir: Path, texts: list[str]) -> tuple[list[str], list[int]]:
    """Each text's first three words, and their token counts (the memory run's payloads)."""
    import albertlite

    tokenizer = albertlite.AlbertTokenizerFast.from_pretrained(model_dir)
    short = [" ".join(text.split()[:3]) for text in texts]
    return short, [len(ids) for ids in tokenizer(short)["input_ids"]]


def rss_growth(argv: list[str], log: Path, texts: list[str], lengths: list[int], total: int) -> dict:
    """A fresh server's resident memory after request 1,000 (a tenth of ``total`` if less) and after ``total``."""
    first = min(1000, total // 10)
    server = Server(argv, log)
    try:
        head = asyncio.run(load(server.url, texts, lengths, 32, first))
        then = server.rss_mb()
        rest = asyncio.run(load(server.url, texts, lengths, 32, total - first))
        last = server.rss_mb()
    finally:
        server.stop()
    return {"after_request": first, "rss_mb_then": then, "last_request": total, "rss_mb_last": last,
            "grown_mb": last - then, "payload_mean_tokens": float(np.mean(lengths)),
            "requests_per_s": rest["requests_per_s"], "failures": head["failures"] + rest["failures"]}  # fmt: skip


# ----------------------------------------------------------------------------------------------- report
def markdown(results: dict) -> str:
    lines = machine_info.heading(results, f": /embed under load on loopback, ALBERT-{results['shapes']} shapes")
    lines[-1] += (
        f" {results['requests']} requests per row, one text each (lognormal token lengths around 40, at most 128, "
        f"{results['texts_mean_tokens']:.1f} on average, from a {results['tokenizer_pieces']}-piece tokenizer); "
        f"the client runs on the same machine. The whole run took {results['seconds'] / 60:.1f} minutes."
    )
    lines += [
        "",
        "| server | concurrency | requests/s | real tokens/s | p50 ms | p95 ms | p99 ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows in results["servers"].items():
        for r in rows:
            lines.append(
                f"| {name} | {r['concurrency']} | {r['requests_per_s']:.1f} | {r['real_tokens_per_s']:.0f} | "
                f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['failures']} |"
            )
    ref = results["in_process"]
    lines += [
        "",
        f"In process (albertlite, float32, the same model and texts): the forward pass alone on "
        f"{ref['batches_of_16']} pre-tokenized batches of 16 (`make bench`'s varied batch) at "
        f"{ref['varied_batch_forward_real_tokens_per_s']:.0f} real tokens/s; the pipeline on the same batches "
        f"(tokenizing included) at "
        f"{ref['varied_batch_pipeline_real_tokens_per_s']:.0f}; the pipeline with one text per call (the "
        f"{ref['single_requests']} texts of the concurrency-1 rows) p50 {ref['single_p50_ms']:.1f} ms.",
        "",
        "| closing condition | measured | needed |",
        "|---|---:|---:|",
    ]
    lines += [f"| {c['name']} | {c['value']:.2f} | {c['needed']} |" for c in results["conditions"]]
    rss = results.get("rss")
    if rss:
        lines += [
            "",
            f"Server RSS (a fresh float32 server, concurrency 32, tiny payloads: each text's first three words, "
            f"{rss['payload_mean_tokens']:.1f} tokens on average, {rss['requests_per_s']:.0f} requests/s, "
            f"{rss['failures']} failures): {rss['rss_mb_then']:.0f} MB after request {rss['after_request']}, "
            f"{rss['rss_mb_last']:.0f} MB after request {rss['last_request']} ({rss['grown_mb']:+.1f} MB).",
        ]
    return "\n".join(lines) + "\n"


def conditions(results: dict) -> list[dict]:
    """The issue's closing conditions, from the rows at concurrency 32 and 1 (those that were measured)."""

    def row(name: str, concurrency: int) -> dict | None:
        return next((r for r in results["servers"].get(name, []) if r["concurrency"] == concurrency), None)

    ours, off, plain = row("albertlite fp32", 32), row("albertlite fp32, batching off", 32), row("transformers", 32)
    single = row("albertlite fp32", 1)
    ref = results["in_process"]
    out = []
    if ours:
        out.append({"name": "c32 tokens/s / in-process varied batch (forward alone)", "needed": ">= 0.85",
                    "value": ours["real_tokens_per_s"] / ref["varied_batch_forward_real_tokens_per_s"]})  # fmt: skip
    if ours and off:
        out.append({"name": "c32 tokens/s / batching off", "needed": ">= 1.1",
                    "value": ours["real_tokens_per_s"] / off["real_tokens_per_s"]})  # fmt: skip
    if ours and plain:
        out.append({"name": "c32 tokens/s / transformers server", "needed": ">= 2",
                    "value": ours["real_tokens_per_s"] / plain["real_tokens_per_s"]})  # fmt: skip
    if single:
        out.append({"name": "c1 p50 / in-process call p50", "needed": "<= 1.3",
                    "value": single["p50_ms"] / ref["single_p50_ms"]})  # fmt: skip
    if results.get("rss"):
        out.append({"name": "RSS growth MB", "needed": "<= 50", "value": results["rss"]["grown_mb"]})
    return out


def contenders(model_dir: Path, bf16: bool, transformers: bool) -> dict[str, list[str]]:
    serve = ["-m", "albertlite", "serve", str(model_dir)]
    found = {"albertlite fp32": serve, "albertlite fp32, batching off": [*serve, "--max-batch-requests", "1"]}
    if bf16:
        found["albertlite bf16"] = [*serve, "--dtype", "bfloat16"]
    if transformers:
        found["transformers"] = [str(Path(__file__).resolve()), "--transformers-server", str(model_dir)]
    return found


def under_load(argv: list[str], log: Path, texts: list[str], lengths: list[int], args: argparse.Namespace) -> list:
    """One server's rows: a warm-up, then ``args.requests`` requests at each concurrency."""
    server = Server(argv, log)
    try:
        # warm-up at the lowest and highest concurrency: a long-running server has met every batch shape (the fast
        # path times its attention kernels on the first batch of each shape class), as the in-process references have
        for concurrency in (min(args.concurrency), max(args.concurrency)):
            asyncio.run(load(server.url, texts, lengths, concurrency, 2 * concurrency))
        return [asyncio.run(load(server.url, texts, lengths, c, args.requests)) for c in args.concurrency]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", choices=("base", "tiny"), default="base", help="tiny: a quick check that it runs.")
    parser.add_argument("--requests", type=int, help="Requests per server and concurrency (200; tiny: 48).")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--rss-requests", type=int, help="Requests of the memory run (10000; tiny: 1000); 0: skip it.")
    parser.add_argument("--no-bf16", action="store_true", help="Skip the bfloat16 server.")
    parser.add_argument("--no-transformers", action="store_true", help="Skip the transformers server.")
    parser.add_argument("--output", type=Path, help="Results directory (benchmarks/results; tiny: none, only printed).")
    parser.add_argument("--transformers-server", metavar="MODEL_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)  # the port Server appends
    args = parser.parse_args()
    if args.transformers_server:
        transformers_server(args.transformers_server, args.port)
        return
    base = args.shapes == "base"
    args.requests = args.requests or (200 if base else 48)
    args.rss_requests = (10000 if base else 1000) if args.rss_requests is None else args.rss_requests
    output = args.output or (RESULTS if base else None)
    began = time.perf_counter()
    results: dict = {"machine": machine_info.machine(), "date": time.strftime("%Y-%m-%d"), "shapes": args.shapes,
                     "config": BASE if base else TINY, "requests": args.requests, "servers": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir, results["tokenizer_pieces"] = build_model(work, results["config"])
        texts, lengths = varied_texts(work, model_dir, 512)
        results["texts_mean_tokens"] = float(np.mean(lengths))
        results["in_process"] = in_process(model_dir, texts, lengths, args.requests)
        print("in process", json.dumps(results["in_process"]), flush=True)
        for name, argv in contenders(model_dir, not args.no_bf16, not args.no_transformers).items():
            rows = under_load(argv, work / f"{len(results['servers'])}.log", texts, lengths, args)
            results["servers"][name] = rows
            for r in rows:
                print(name, json.dumps(r), flush=True)
        if args.rss_requests:
            short, short_lengths = tiny_payloads(model_dir, texts)
            argv = contenders(model_dir, False, False)["albertlite fp32"]
            results["rss"] = rss_growth(argv, work / "rss.log", short, short_lengths, args.rss_requests)
    results["seconds"] = time.perf_counter() - began
    results["machine"]["load_average_end"] = os.getloadavg()
    results["conditions"] = conditions(results)
    if output is not None:
        title = "albertlite serve under load, one section per CPU kind measured"
        machine_info.write_results(output, "serve", results, markdown(results), title)
    print(markdown(results))


if __name__ == "__main__":
    main()

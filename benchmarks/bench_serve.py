"""``albertlite serve`` under load on loopback: requests/s, real tokens/s and latency percentiles of ``/embed``.

ALBERT-base shapes with random weights and a 30,000-piece vocabulary trained on the standard library's docstrings;
texts whose token lengths are drawn as ``make bench``'s varied batch (lognormal around 40, at most 128). Contenders,
each a server process on a free loopback port, called by an asyncio client that keeps ``concurrency`` requests
(one text each) in flight until ``--requests`` are answered:

- ``albertlite serve`` in float32 (and ``--dtype bfloat16``);
- the same server with ``--max-batch-requests 1`` (batching off);
- the server a user would otherwise write: transformers' feature-extraction pipeline behind FastAPI, one request at a
  time (``--transformers-server`` mode of this file).

In-process references: albertlite's pipeline over the same texts in batches of 16 (real tokens/s, as ``make bench``'s
varied batch) and one text per call (latency). The server's resident memory is read between request 1,000 and
request ``--rss-requests``. The client shares the machine with the server (loopback), as a sidecar client would.

Run: ``make bench-serve`` or ``.venv/bin/python benchmarks/bench_serve.py [--requests N] [--quick]``. Writes
benchmarks/results/serve/<cpu kind>.{json,md} and the index benchmarks/results/serve.md (``--output DIR``
elsewhere). Not a timed test: run it on an idle machine.
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
def build_model(work: Path, config: dict, vocab_size: int) -> Path:
    """A random ALBERT encoder of ``config``'s shapes with a tokenizer trained on the standard library's prose."""
    import torch

    import albertlite

    write_corpus(work)
    tokenizer = albertlite.train_tokenizer([work / "train.txt"], vocab_size=vocab_size, output_dir=work / "model")
    torch.manual_seed(0)
    model = albertlite.AlbertModel(albertlite.AlbertConfig(**{**config, "vocab_size": len(tokenizer)}))
    model.save_pretrained(work / "model")
    albertlite.AlbertTokenizerFast.from_pretrained(work / "model").save_pretrained(work / "model")
    return work / "model"


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
    """albertlite's pipeline alone: batches of 16 varied texts (tokens/s) and one text per call (latency)."""
    import albertlite

    pipe = albertlite.pipeline("feature-extraction", model=model_dir, batch_size=16)
    pipe(texts[:16], pooling="mean")  # warm-up
    batches = [list(range(s, s + 16)) for s in range(0, min(len(texts), max(16, requests)) - 15, 16)]
    started = time.perf_counter()
    for batch in batches:
        pipe([texts[i] for i in batch], pooling="mean")
    wall = time.perf_counter() - started
    tokens = sum(lengths[i] for batch in batches for i in batch)
    single = []
    for text in texts[: max(8, min(requests, 200))]:
        began = time.perf_counter()
        pipe(text, pooling="mean")
        single.append(time.perf_counter() - began)
    return {"varied_batch_real_tokens_per_s": tokens / wall, "single_p50_ms": statistics.median(single) * 1e3}


def rss_growth(server: Server, texts: list[str], lengths: list[int], total: int) -> dict:
    """Resident memory of the server after request 1,000 (or a tenth of ``total``) and after request ``total``."""
    first = min(1000, total // 10)
    asyncio.run(load(server.url, texts, lengths, 32, first))
    at_first = server.rss_mb()
    asyncio.run(load(server.url, texts, lengths, 32, total - first))
    return {"after_request": first, "rss_mb_then": at_first, "last_request": total, "rss_mb_last": server.rss_mb(),
            "grown_mb": server.rss_mb() - at_first}  # fmt: skip


# ----------------------------------------------------------------------------------------------- report
def markdown(results: dict) -> str:
    lines = machine_info.heading(results, ": /embed under load on loopback, ALBERT-base shapes")
    lines[-1] += (
        f" {results['requests']} requests per row, one text each (lognormal token lengths around 40, at most 128); "
        "the client runs on the same machine."
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
        f"In process (albertlite pipeline, float32): varied batches of 16 at "
        f"{ref['varied_batch_real_tokens_per_s']:.0f} real tokens/s; one text per call p50 "
        f"{ref['single_p50_ms']:.1f} ms.",
        "",
        "| closing condition | measured | needed |",
        "|---|---:|---:|",
    ]
    lines += [f"| {c['name']} | {c['value']:.2f} | {c['needed']} |" for c in results["conditions"]]
    rss = results.get("rss")
    if rss:
        lines += [
            "",
            f"Server RSS: {rss['rss_mb_then']:.0f} MB after request {rss['after_request']}, "
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
        out.append({"name": "c32 tokens/s / in-process varied batch", "needed": ">= 0.85",
                    "value": ours["real_tokens_per_s"] / ref["varied_batch_real_tokens_per_s"]})  # fmt: skip
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="Requests per server and concurrency.")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--rss-requests", type=int, default=10000, help="0: skip the memory run.")
    parser.add_argument("--no-bf16", action="store_true", help="Skip the bfloat16 server.")
    parser.add_argument("--no-transformers", action="store_true", help="Skip the transformers server.")
    parser.add_argument("--quick", action="store_true", help="Tiny model and vocabulary: checks that it runs.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--transformers-server", metavar="MODEL_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)  # the port Server appends
    args = parser.parse_args()
    if args.transformers_server:
        transformers_server(args.transformers_server, args.port)
        return
    results: dict = {"machine": machine_info.machine(), "date": time.strftime("%Y-%m-%d"), "requests": args.requests,
                     "servers": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir = build_model(work, TINY if args.quick else BASE, 1000 if args.quick else 30000)
        texts, lengths = varied_texts(work, model_dir, 512)
        results["in_process"] = in_process(model_dir, texts, lengths, args.requests)
        contenders = {"albertlite fp32": ["-m", "albertlite", "serve", str(model_dir)],
                      "albertlite fp32, batching off": ["-m", "albertlite", "serve", str(model_dir),
                                                        "--max-batch-requests", "1"]}  # fmt: skip
        if not args.no_bf16:
            contenders["albertlite bf16"] = ["-m", "albertlite", "serve", str(model_dir), "--dtype", "bfloat16"]
        if not args.no_transformers:
            contenders["transformers"] = [str(Path(__file__).resolve()), "--transformers-server", str(model_dir)]
        for name, argv in contenders.items():
            server = Server(argv, work / f"{len(results['servers'])}.log")
            try:
                asyncio.run(load(server.url, texts, lengths, 4, 16))  # warm-up
                rows = []
                for concurrency in args.concurrency:
                    rows.append(asyncio.run(load(server.url, texts, lengths, concurrency, args.requests)))
                    print(name, json.dumps(rows[-1]), flush=True)
                results["servers"][name] = rows
                if name == "albertlite fp32" and args.rss_requests:
                    results["rss"] = rss_growth(server, texts, lengths, args.rss_requests)
            finally:
                server.stop()
    results["machine"]["load_average_end"] = os.getloadavg()
    results["conditions"] = conditions(results)
    title = "albertlite serve under load, one section per CPU kind measured"
    machine_info.write_results(args.output, "serve", results, markdown(results), title)
    print(markdown(results))


if __name__ == "__main__":
    main()

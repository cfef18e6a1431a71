"""``albertlite serve`` as a real process on a free loopback port, called over HTTP by real clients: every route,
batching read from /metrics, overload, SIGTERM and SIGINT with requests in flight, two workers."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

import albertlite

from .helpers.finetune import FILLER, qa_examples, same_results
from .helpers.serve import Subprocess, free_port, metric, task_model_dir

USES_FAST_PATH = True
pytestmark = pytest.mark.slow

HEADS = ("classification", "score", "ner", "qa", "choice", "base")


@pytest.fixture(scope="module")
def model_dirs(base_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("served_models")
    return {"mlm": base_model, **{head: task_model_dir(base_model, root / head, head) for head in HEADS}}


@pytest.fixture(scope="module")
def servers(model_dirs, tmp_path_factory):
    """``albertlite serve`` on the masked-LM model; the task models' apps in one more process (start-ups are slow
    on a shared machine: torch imports once there for all of them)."""
    logs = tmp_path_factory.mktemp("logs")
    ports = {head: free_port() for head in HEADS}
    argv = ["-m", "tests.helpers.serve_many", *(f"{model_dirs[head]}={port}" for head, port in ports.items())]
    tasks = Subprocess(model_dirs["mlm"], argv=argv, log=logs / "tasks.log", port=ports[HEADS[0]])
    mlm = Subprocess(model_dirs["mlm"], log=logs / "mlm.log")
    try:
        tasks.wait()
        by_head = {head: f"http://127.0.0.1:{port}" for head, port in ports.items()}
        for url in by_head.values():  # the other apps of that process start alongside the first
            Subprocess.wait_url(url)
        yield {"mlm": mlm.wait().url, **by_head}
    finally:
        for server in (tasks, mlm):
            server.kill()


def _post(url, path, body, **kwargs):
    response = httpx.post(url + path, json=body, timeout=60, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_route_over_http_equals_the_pipeline(servers, model_dirs):
    url = servers["mlm"]
    texts = ["alice sees paris", "a tree over oslo near the river"]
    encoder = albertlite.pipeline("feature-extraction", model=model_dirs["mlm"])
    raw = np.array(_post(url, "/embed", {"inputs": texts, "normalize": False}))
    np.testing.assert_allclose(raw, np.array(encoder(texts, pooling="mean")), atol=1e-5)
    openai = _post(url, "/v1/embeddings", {"input": texts, "model": "m"})
    np.testing.assert_allclose([d["embedding"] for d in openai["data"]],
                               raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-5)  # fmt: skip
    ids = encoder.tokenizer(texts[0])["input_ids"]
    assert [t["id"] for t in _post(url, "/tokenize", {"inputs": texts[0]})[0]] == ids
    assert _post(url, "/decode", {"ids": ids}) == [encoder.tokenizer.decode(ids, skip_special_tokens=True)]
    fill = albertlite.pipeline(model=model_dirs["mlm"])
    same_results(_post(url, "/fill-mask", {"inputs": "alice sees [MASK]", "parameters": {"top_k": 2}}),
                 fill("alice sees [MASK]", top_k=2))  # fmt: skip
    same_results(_post(url, "/", {"inputs": "alice sees [MASK]"}), fill("alice sees [MASK]"))

    classify = albertlite.pipeline(model=model_dirs["classification"])
    same_results(_post(servers["classification"], "/predict", {"inputs": [["rome"], ["alice", "bob"]]}),
                 classify([{"text": "rome"}, {"text": "alice", "text_pair": "bob"}], top_k=None))  # fmt: skip
    score = albertlite.pipeline(model=model_dirs["score"])
    ranks = _post(servers["score"], "/rerank", {"query": "who", "texts": ["alice", "a tree"], "raw_scores": True})
    expected = [score({"text": "who", "text_pair": t})["score"] for t in ("alice", "a tree")]
    assert sorted(r["score"] for r in ranks) == pytest.approx(sorted(expected), abs=1e-5)
    ner = albertlite.pipeline(model=model_dirs["ner"])
    same_results(_post(servers["ner"], "/token-classification", {"inputs": texts}), ner(texts))
    qa = albertlite.pipeline(model=model_dirs["qa"])
    question = {k: qa_examples(1, 4)[0][k] for k in ("question", "context")}
    same_results(_post(servers["qa"], "/question-answering", {"inputs": question}), qa(question))
    choice = albertlite.pipeline(model=model_dirs["choice"])
    item = {"question": "which one", "choices": ["a red house", "bob"]}
    same_results(_post(servers["choice"], "/multiple-choice", {"inputs": [item]}), choice([item]))

    assert httpx.get(url + "/health").json() == {"status": "ok"}
    assert httpx.get(url + "/info").json()["task"] == "masked-lm"
    assert 'albertlite_requests_total{route="/embed",status="200"}' in httpx.get(url + "/metrics").text
    assert httpx.get(url + "/docs").status_code == 200
    assert "text/html" in httpx.get(url + "/").headers["content-type"]


def test_errors_over_http_are_json(servers):
    url = servers["mlm"]
    cases = [
        (httpx.post(url + "/embed", content=b"[", headers={"content-type": "application/json"}), 422, "validation"),
        (httpx.post(url + "/embed", json={"inputs": ["a"] * 33}), 413, "validation"),
        (httpx.post(url + "/embed", json={"inputs": " ".join(FILLER * 20)}), 413, "validation"),
        (httpx.post(url + "/predict", json={"inputs": "a"}), 400, "validation"),
        (httpx.post(url + "/fill-mask", json={"inputs": "a [MASK]", "parameters": {"k": 1}}), 422, "validation"),
        (httpx.get(url + "/missing"), 404, "not_found"),
    ]
    for response, status, kind in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["error_type"] == kind and body["error"] and "Traceback" not in response.text
    openai = httpx.post(url + "/v1/embeddings", json={"input": 1})
    assert openai.status_code == 422 and openai.json()["error"]["type"] == "validation"


def test_huggingface_hub_inference_client_speaks_to_every_task(servers, model_dirs, monkeypatch):
    from huggingface_hub import InferenceClient, constants
    from huggingface_hub.errors import HfHubHTTPError

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # it reaches only the loopback servers

    def client(head):
        return InferenceClient(base_url=servers[head])

    def same(parsed, expected):
        """The client's parsed results equal the pipeline's (read as attributes: its classes are what it parsed)."""
        assert isinstance(parsed, list) and len(parsed) == len(expected), parsed
        same_results([{key: getattr(e, key) for key in want} for e, want in zip(parsed, expected)], expected)

    text = "alice sees paris near the river"
    fill = albertlite.pipeline(model=model_dirs["mlm"])
    same(client("mlm").fill_mask("alice sees [MASK]", top_k=3), fill("alice sees [MASK]", top_k=3))
    classify = albertlite.pipeline(model=model_dirs["classification"])
    same(client("classification").text_classification(text), classify(text, top_k=None))
    same(client("classification").text_classification(text, top_k=2), classify(text, top_k=2))
    score = albertlite.pipeline(model=model_dirs["score"])
    same(client("score").text_classification(text), [score(text)])
    ner = albertlite.pipeline(model=model_dirs["ner"])
    assert ner(text), "the scaled random head tags something"
    same(client("ner").token_classification(text), ner(text))
    same(client("ner").token_classification(text, aggregation_strategy="none"), ner(text, aggregation_strategy="none"))
    qa = albertlite.pipeline(model=model_dirs["qa"])
    question = {k: qa_examples(1, 4)[0][k] for k in ("question", "context")}
    same([client("qa").question_answering(**question)], [qa(question)])
    same(client("qa").question_answering(**question, top_k=2), qa(question, top_k=2))
    encoder = albertlite.pipeline("feature-extraction", model=model_dirs["base"])
    raw = np.array(encoder([text, "rome"], pooling="mean"))
    np.testing.assert_allclose(client("base").feature_extraction(text, normalize=False), raw[:1], atol=1e-5)
    np.testing.assert_allclose(client("base").feature_extraction([text, "rome"]),
                               raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-5)  # fmt: skip
    with pytest.raises(HfHubHTTPError) as refused:  # an option the server lacks is refused, not ignored
        client("base").feature_extraction(text, dimensions=8)
    assert refused.value.response.status_code == 422 and "dimensions" in refused.value.response.text


def test_64_concurrent_http_requests_take_fewer_forward_passes(servers, model_dirs):
    url = servers["mlm"]
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(FILLER, size=int(rng.integers(1, 40)))) for _ in range(64)]
    before = metric(httpx.get(url + "/metrics").text, "albertlite_forward_passes_total")
    barrier = threading.Barrier(64)

    def call(text):
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            return client.post(url + "/embed", json={"inputs": text, "normalize": False})

    with ThreadPoolExecutor(64) as pool:
        responses = list(pool.map(call, texts))
    passes = metric(httpx.get(url + "/metrics").text, "albertlite_forward_passes_total") - before
    expected = albertlite.pipeline("feature-extraction", model=model_dirs["mlm"])(texts, pooling="mean")
    for response, vector in zip(responses, expected):
        assert response.status_code == 200, response.text
        np.testing.assert_allclose(response.json()[0], vector, atol=1e-5)
    assert passes < 64, passes


def _heavy(index):
    # 32 inputs (the default --max-client-batch-size) of ~60 tokens: at 128 tokens a pass, four of these stay in
    # flight for a while even on a fast machine (8 inputs were sometimes answered before all four were admitted)
    return {"inputs": [" ".join(FILLER[(index + k) % len(FILLER)] for k in range(60))] * 32, "normalize": False}


# four requests admitted, each a heavy one run 128 tokens a pass: they stay in flight long enough to signal
_LIMITED = ("--max-concurrent-requests", "4", "--max-batch-requests", "1", "--max-batch-tokens", "128")


def _stop_answers_requests_in_flight(server, model_dirs, signum):
    """Four heavy requests in flight when ``signum`` arrives: each is answered 200 with its embeddings, and the
    server exits 0."""
    limit = 4
    started = threading.Barrier(limit + 1)

    def in_flight(index):
        with httpx.Client(timeout=120) as client:
            started.wait()
            return client.post(server.url + "/embed", json=_heavy(index))

    with ThreadPoolExecutor(limit) as pool:
        futures = [pool.submit(in_flight, i) for i in range(limit)]
        started.wait()
        deadline = time.monotonic() + 60
        while metric(httpx.get(server.url + "/metrics").text, "albertlite_requests_in_flight") < limit:
            assert time.monotonic() < deadline, "the requests never were in flight together"
            time.sleep(0.01)
        code = server.stop(signum)
        responses = [f.result() for f in futures]
    assert code == 0, server.log.read_text()
    encoder = albertlite.pipeline("feature-extraction", model=model_dirs["mlm"])
    for index, response in enumerate(responses):
        assert response.status_code == 200, response.text
        np.testing.assert_allclose(response.json(), encoder(_heavy(index)["inputs"], pooling="mean"), atol=1e-5)
    log = server.log.read_text()
    assert f"http://127.0.0.1:{server.port}" in log and "max_batch_tokens=128" in log
    assert "Traceback" not in log, log


def test_overload_gets_only_200_or_429_and_sigterm_answers_requests_in_flight(model_dirs, tmp_path):
    server = Subprocess(model_dirs["mlm"], *_LIMITED, log=tmp_path / "server.log").wait()
    try:
        barrier = threading.Barrier(16)

        def call(index):
            with httpx.Client(timeout=120) as client:
                barrier.wait()
                return client.post(server.url + "/embed", json=_heavy(index))

        with ThreadPoolExecutor(16) as pool:
            statuses = [r.status_code for r in pool.map(call, range(16))]
        assert set(statuses) <= {200, 429} and 200 in statuses and 429 in statuses, statuses
        assert httpx.get(server.url + "/health").status_code == 200
        _stop_answers_requests_in_flight(server, model_dirs, signal.SIGTERM)
    finally:
        server.kill()


def test_sigint_answers_requests_in_flight_and_exits_0(model_dirs, tmp_path):
    server = Subprocess(model_dirs["mlm"], *_LIMITED, log=tmp_path / "server.log").wait()
    try:
        _stop_answers_requests_in_flight(server, model_dirs, signal.SIGINT)
    finally:
        server.kill()


def test_two_workers_serve_on_one_port(model_dirs, tmp_path):
    server = Subprocess(model_dirs["mlm"], "--workers", "2", log=tmp_path / "server.log").wait()
    try:
        pids = set()
        for _ in range(200):
            with httpx.Client() as client:  # a fresh connection each time: the kernel spreads them
                pids.add(client.get(server.url + "/info").json()["process_id"])
            if len(pids) == 2:
                break
        assert len(pids) == 2, pids
        encoder = albertlite.pipeline("feature-extraction", model=model_dirs["mlm"])
        texts = [" ".join(FILLER[: k + 1]) for k in range(12)]
        with ThreadPoolExecutor(12) as pool:
            got = list(pool.map(lambda t: _post(server.url, "/embed", {"inputs": t, "normalize": False}), texts))
        np.testing.assert_allclose(np.array(got)[:, 0], encoder(texts, pooling="mean"), atol=1e-5)
        assert server.stop() == 0, server.log.read_text()
    finally:
        server.kill()

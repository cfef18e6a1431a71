"""The web page at GET / in headless Chromium (Debian's chromium + chromium-driver, driven by selenium): it types,
submits and reads the rendered results. `make test` installs the browser; in CI this test never skips."""

from __future__ import annotations

import os
import shutil

import pytest

import albertlite

from .helpers.serve import Subprocess, free_port, task_model_dir

USES_FAST_PATH = True
pytestmark = pytest.mark.slow

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        message = "needs Debian's chromium and chromium-driver (make test installs them: apt-get install -y ...)"
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the browser test: it {message}")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1100,1300",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def servers(base_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("page_models")
    heads = {head: task_model_dir(base_model, root / head, head) for head in ("classification", "ner", "qa")}
    ports = {head: free_port() for head in heads}
    argv = ["-m", "tests.helpers.serve_many", *(f"{heads[h]}={p}" for h, p in ports.items())]
    tasks = Subprocess(base_model, argv=argv, log=root / "tasks.log", port=ports["classification"])
    mlm = Subprocess(base_model, log=root / "mlm.log")
    try:
        tasks.wait()
        urls = {head: f"http://127.0.0.1:{port}" for head, port in ports.items()}
        for head in ("ner", "qa"):
            Subprocess.wait_url(urls[head])
        yield {"mlm": mlm.wait().url, **urls}, {"mlm": base_model, **heads}
    finally:
        tasks.kill()
        mlm.kill()


def _wait(driver, condition, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def _panel(driver, url, route):
    from selenium.webdriver.common.by import By

    driver.get(url + "/")
    panel = driver.find_element(By.ID, f"panel-{route}")
    _wait(driver, lambda d: panel.is_displayed())
    return panel


def _submit(driver, panel, **fields):
    from selenium.webdriver.common.by import By

    for name, value in fields.items():
        box = panel.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    panel.find_element(By.TAG_NAME, "button").click()
    _wait(driver, lambda d: panel.find_elements(By.CSS_SELECTOR, ".result > *") or
          panel.find_element(By.CLASS_NAME, "error").is_displayed())  # fmt: skip


def test_fill_mask_similarity_and_errors_in_the_page(browser, servers):
    from selenium.webdriver.common.by import By

    urls, dirs = servers
    panel = _panel(browser, urls["mlm"], "fill-mask")
    assert not browser.find_element(By.ID, "panel-predict").is_displayed()  # a masked-LM model: no classifier
    _submit(browser, panel, text="alice sees [MASK]")
    expected = albertlite.pipeline(model=dirs["mlm"])("alice sees [MASK]")
    names = [e.text for e in panel.find_elements(By.CSS_SELECTOR, ".bar .name")]
    values = [float(e.text) for e in panel.find_elements(By.CSS_SELECTOR, ".bar .value")]
    assert names == [c["token_str"] for c in expected]
    assert values == pytest.approx([c["score"] for c in expected], abs=1e-3)

    _submit(browser, panel, text="no mask here")
    error = panel.find_element(By.CLASS_NAME, "error")
    assert error.is_displayed() and error.text.startswith("422: No [MASK]"), error.text

    similarity = browser.find_element(By.ID, "panel-embed")
    _submit(browser, similarity, texts="alice sees paris\nbob sees rome")
    cells = [[td.text for td in row.find_elements(By.TAG_NAME, "td")]
             for row in similarity.find_elements(By.CSS_SELECTOR, "tr")[1:]]  # fmt: skip
    assert cells[0][0] == cells[1][1] == "1.000" and cells[0][1] == cells[1][0] and float(cells[0][1]) < 1
    _submit(browser, panel, text="alice sees [MASK]")
    if os.environ.get("ALBERTLITE_PAGE_SCREENSHOT"):  # how docs/images/serving-page.png is made
        browser.save_screenshot(os.environ["ALBERTLITE_PAGE_SCREENSHOT"])


def test_labels_entities_and_answers_in_the_page(browser, servers):
    from selenium.webdriver.common.by import By

    urls, dirs = servers
    panel = _panel(browser, urls["classification"], "predict")
    _submit(browser, panel, text="the big red house is great")
    expected = albertlite.pipeline(model=dirs["classification"])("the big red house is great", top_k=None)
    assert [e.text for e in panel.find_elements(By.CSS_SELECTOR, ".bar .name")] == [r["label"] for r in expected]

    panel = _panel(browser, urls["ner"], "token-classification")
    text = "alice sees bob in paris and rome"
    _submit(browser, panel, text=text)
    entities = albertlite.pipeline(model=dirs["ner"])(text)
    assert entities, "the scaled random head tags some words"
    marks = panel.find_elements(By.CSS_SELECTOR, ".highlighted mark")
    assert [m.find_element(By.CLASS_NAME, "word").text for m in marks] == [e["word"] for e in entities]
    assert [m.find_element(By.CLASS_NAME, "tag").text for m in marks] == [e["entity_group"] for e in entities]

    panel = _panel(browser, urls["qa"], "question-answering")
    _submit(browser, panel, question="what color is it", context="the house near the river is red")
    answer = albertlite.pipeline(model=dirs["qa"])(
        question="what color is it", context="the house near the river is red"
    )
    assert panel.find_element(By.CSS_SELECTOR, "mark.answer").text == answer["answer"]
    assert panel.find_element(By.CSS_SELECTOR, "p.answer").text.startswith(answer["answer"])

// The page of `albertlite serve`: one panel per route the loaded model serves (from /info), each calling the
// server's own JSON API and drawing its result. No build step, nothing from outside the server.
"use strict";

const $ = (root, selector) => root.querySelector(selector);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function authorization() {
  const key = $(document, "#api-key").value.trim();
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function call(route, body) {
  const headers = { "content-type": "application/json", ...authorization() };
  const response = await fetch(route, { method: "POST", headers, body: JSON.stringify(body) });
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) {
    const message = typeof data.error === "string" ? data.error : (data.error && data.error.message) || "error";
    throw new Error(`${response.status}: ${message}`);
  }
  return data;
}

function bars(rows, best) {
  // rows: [{name, score}], scores in [0, 1] for probabilities (raw scores are scaled to the largest)
  const top = Math.max(...rows.map((r) => Math.abs(r.score)), 1e-9);
  const scale = top <= 1 ? 1 : top;
  return element("div", { class: "bars" }, ...rows.map((row, i) => {
    const width = `${(100 * Math.abs(row.score)) / scale}%`;
    return element("div", { class: i === best ? "bar best" : "bar" },
      element("span", { class: "name", title: row.name }, row.name),
      element("span", {}, element("div", { class: "fill", style: `width: ${width}` })),
      element("span", { class: "value" }, row.score.toFixed(3)));
  }));
}

function highlighted(text, spans) {
  // spans: [{start, end, label}] in order, not overlapping
  const out = element("p", { class: "highlighted" });
  let at = 0;
  for (const span of spans) {
    out.append(text.slice(at, span.start));
    const word = element("span", { class: "word" }, text.slice(span.start, span.end));
    const mark = element("mark", span.label === "answer" ? { class: "answer" } : {}, word);
    if (span.label && span.label !== "answer") mark.append(element("span", { class: "tag" }, span.label));
    out.append(mark);
    at = span.end;
  }
  out.append(text.slice(at));
  return out;
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / Math.sqrt(na * nb);
}

const lines = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);

const PANELS = {
  "/predict": async (panel) => {
    const text = $(panel, "[name=text]").value, pair = $(panel, "[name=text_pair]").value.trim();
    const scores = await call("/predict", { inputs: pair ? [text, pair] : text });
    return bars(scores.map((s) => ({ name: s.label, score: s.score })), 0);
  },
  "/token-classification": async (panel) => {
    const text = $(panel, "[name=text]").value;
    const entities = await call("/token-classification", { inputs: text });
    const spans = entities.map((e) => ({ start: e.start, end: e.end, label: e.entity_group || e.entity }));
    const list = element("ul", { class: "entities" },
      ...entities.map((e) => element("li", {}, `${e.word}: ${e.entity_group || e.entity} (${e.score.toFixed(3)})`)));
    return element("div", {}, highlighted(text, spans), entities.length ? list : "no entities found");
  },
  "/question-answering": async (panel) => {
    const question = $(panel, "[name=question]").value, context = $(panel, "[name=context]").value;
    const answer = await call("/question-answering", { inputs: { question, context } });
    return element("div", {},
      element("p", { class: "answer" }, `${answer.answer} (score ${answer.score.toFixed(3)})`),
      highlighted(context, answer.end > answer.start ? [{ ...answer, label: "answer" }] : []));
  },
  "/fill-mask": async (panel) => {
    const result = await call("/fill-mask", { inputs: $(panel, "[name=text]").value });
    const perMask = Array.isArray(result[0]) ? result : [result];
    return element("div", {}, ...perMask.map((candidates) =>
      bars(candidates.map((c) => ({ name: c.token_str, score: c.score })), 0)));
  },
  "/multiple-choice": async (panel) => {
    const choices = lines($(panel, "[name=choices]").value);
    const result = await call("/multiple-choice", { inputs: { question: $(panel, "[name=question]").value, choices } });
    return bars(choices.map((name, i) => ({ name, score: result.scores[i] })), result.label);
  },
  "/embed": async (panel) => {
    const texts = lines($(panel, "[name=texts]").value);
    const vectors = await call("/embed", { inputs: texts });
    const header = element("tr", {}, element("th"), ...texts.map((_, j) => element("th", {}, `${j + 1}`)));
    const rows = texts.map((text, i) => element("tr", {}, element("th", { title: text }, `${i + 1}. ${text}`),
      ...vectors.map((v) => element("td", {}, cosine(vectors[i], v).toFixed(3)))));
    return element("table", { class: "similarity" }, header, ...rows);
  },
};

function wire(panel) {
  if (panel.dataset.wired) return;
  panel.dataset.wired = "yes";
  const run = PANELS[panel.dataset.route];
  const result = $(panel, ".result"), error = $(panel, ".error");
  $(panel, "button").addEventListener("click", async () => {
    error.hidden = true;
    result.replaceChildren("…");
    try {
      result.replaceChildren(await run(panel));
    } catch (failure) {
      result.replaceChildren();
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
}

async function start() {
  const pageError = $(document, "#page-error");
  pageError.hidden = true;
  try {
    const response = await fetch("/info", { headers: authorization() });
    const info = await response.json();
    if (!response.ok) throw new Error(info.error || `HTTP ${response.status}`);
    $(document, "#model").textContent = `${info.model_id}: ${info.task} (${info.model_dtype})` +
      (info.labels ? `, labels ${info.labels.join(", ")}` : "");
    for (const panel of document.querySelectorAll(".panel")) {
      if (info.routes.includes(panel.dataset.route)) {
        panel.hidden = false;
        wire(panel);
      }
    }
  } catch (failure) {
    pageError.textContent = `Cannot read /info: ${failure.message} (a server with --api-key needs the key above)`;
    pageError.hidden = false;
  }
}

$(document, "#api-key").addEventListener("change", start);
start();

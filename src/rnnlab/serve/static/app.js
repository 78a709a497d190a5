// The page talks to the same server that serves it: GET v1/model once, POST v1/explain per click.
"use strict";

const EXAMPLES = [
  ["Loved it", "An excellent movie! The acting was wonderful, the story moving and the ending perfect. One of the best films I have seen this year."],
  ["Hated it", "Don't watch this movie: poor acting, a boring script and bad direction. A complete waste of time, the worst film I have seen."],
  ["Mixed", "The first hour is great fun and the cast is superb, but the plot falls apart and the ending is dull."],
  ["Unknown words", "Zorblax quixotrane flibbertigibbet snarfwobble!"],
];
const FRIENDLY = { pos: "positive", neg: "negative" };
const POSITIVE = new Set(["pos", "positive", "1"]);
const NEGATIVE = new Set(["neg", "negative", "0"]);
// Colour is relative to the strongest word, but never stretched beyond this: a word that moves
// the probability by a point or two is shown faintly even when no word does more.
const MIN_SCALE = 0.05;

const $ = (id) => document.getElementById(id);
let model = null;

function tone(name) {
  if (POSITIVE.has(name)) return "positive";
  if (NEGATIVE.has(name)) return "negative";
  return "neutral";
}

function percent(p) {
  return `${(100 * p).toFixed(1)}%`;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function readError(response) {
  try {
    const body = await response.json();
    if (Array.isArray(body.detail)) {
      return body.detail.map((d) => d.msg).join("; ");
    }
    if (body.detail) return String(body.detail);
  } catch (_) {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`;
}

async function loadModelCard() {
  try {
    const response = await fetch("v1/model");
    if (!response.ok) throw new Error(await readError(response));
    model = await response.json();
  } catch (error) {
    showError(`Could not read the model card: ${error.message}`);
    return;
  }
  $("card-name").textContent = model.name;
  $("card-params").textContent = model.params.toLocaleString("en-US");
  const test = (model.metrics && model.metrics.test) || {};
  $("card-accuracy").textContent = test.regression
    ? `mean absolute error ${test.mae.toFixed(3)}`
    : model.test_accuracy == null ? "not measured" : percent(model.test_accuracy);
  $("card-vocab").textContent = `${model.vocabulary_size.toLocaleString("en-US")} ids`;
  $("card-maxlen").textContent = model.maxlen == null ? "any" : String(model.maxlen);
  $("review").maxLength = model.limits.max_chars;
  updateCounter();
}

function updateCounter() {
  const n = $("review").value.length;
  const limit = model ? ` / ${model.limits.max_chars.toLocaleString("en-US")}` : "";
  $("counter").textContent = `${n.toLocaleString("en-US")}${limit} characters`;
}

function renderBars(result) {
  const bars = $("bars");
  bars.replaceChildren();
  // A model of several labels a text: every label's bar, most probable first; the label set is marked.
  const entries = Object.entries(result.probabilities);
  if (result.labels) entries.sort((a, b) => b[1] - a[1]);
  const chosen = (name) => (result.labels ? result.labels.includes(name) : name === result.label);
  for (const [name, p] of entries) {
    const row = document.createElement("div");
    row.className = `bar-row ${tone(name)}${chosen(name) ? " chosen" : ""}`;
    const label = document.createElement("span");
    label.className = "bar-name";
    label.textContent = FRIENDLY[name] || name;
    const track = document.createElement("span");
    track.className = "bar-track";
    track.setAttribute("role", "meter");
    track.setAttribute("aria-valuemin", "0");
    track.setAttribute("aria-valuemax", "1");
    track.setAttribute("aria-valuenow", p.toFixed(4));
    track.setAttribute("aria-label", `probability of ${name}`);
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.width = percent(p);
    track.append(fill);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = percent(p);
    row.append(label, track, value);
    bars.append(row);
  }
}

function shade(score, scale, method) {
  const strength = Math.min(1, Math.abs(score) / scale) * 0.85;
  if (method === "attention") return `rgba(37, 99, 235, ${strength})`;
  return score >= 0 ? `rgba(22, 163, 74, ${strength})` : `rgba(220, 38, 38, ${strength})`;
}

function renderTokens(result) {
  const box = $("tokens");
  box.replaceChildren();
  const strongest = Math.max(0, ...result.tokens.map((t) => Math.abs(t.score)));
  const scale = Math.max(MIN_SCALE, strongest);
  for (const t of result.tokens) {
    const span = document.createElement("span");
    span.className = `token${t.oov ? " oov" : ""}`;
    span.textContent = t.token;
    span.style.backgroundColor = shade(t.score, scale, result.method);
    if (Math.abs(t.score) / scale > 0.55) span.classList.add("strong");
    const sign = t.score >= 0 ? "+" : "";
    span.title = `${sign}${t.score.toFixed(4)}${t.oov ? " (not in the vocabulary)" : ""}`;
    box.append(span, document.createTextNode(" "));
  }
  if (!result.tokens.length) {
    box.textContent = "No word of this text is known to the model's tokenizer.";
  }
  const target = FRIENDLY[result.target] || result.target;
  $("legend").textContent = result.method === "attention"
    ? "Blue: the model's attention on each word (darker = more)."
    : result.value != null
    ? `Green words raise the predicted ${target}, red words lower it: each score is the prediction with the ` +
      `word minus the prediction without it. Hover a word for its score; the strongest is ` +
      `${strongest.toFixed(3)}. Italic words are not in the vocabulary.`
    : `Green words raise P(${target}), red words lower it: each score is P(${target}) with the word ` +
      `minus P(${target}) without it. Hover a word for its score; the strongest is ` +
      `${strongest.toFixed(3)}. Italic words are not in the vocabulary.`;
}

function render(result) {
  const label = $("label");
  label.textContent = result.labels
    ? result.labels.map((name) => FRIENDLY[name] || name).join(", ")
    : FRIENDLY[result.label] || result.label;
  label.dataset.label = result.label;
  label.className = `label ${tone(result.label)}`;
  $("probability").textContent = result.value != null
    ? `predicted ${result.target || "value"}`
    : result.labels
    ? `${result.labels.length} label${result.labels.length > 1 ? "s" : ""} at or above their thresholds`
    : `${percent(result.probability)} sure`;
  renderBars(result);
  const parts = [`${result.n_tokens} tokens fed to the model`, `${result.n_oov} not in the vocabulary`];
  if (result.truncated) parts.push(`truncated to the last ${model ? model.maxlen : result.n_tokens} tokens`);
  $("details").textContent = `${parts.join(", ")}.`;
  renderTokens(result);
  $("result").hidden = false;
}

async function predict() {
  const text = $("review").value;
  if (!text.trim()) {
    showError("Type a review first.");
    return;
  }
  const button = $("predict");
  button.disabled = true;
  button.textContent = "Predicting…";
  showError("");
  try {
    const response = await fetch("v1/explain", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text }),
    });
    if (!response.ok) throw new Error(await readError(response));
    render(await response.json());
  } catch (error) {
    $("result").hidden = true; // an older answer must not pass for this text's
    showError(error.message);
  } finally {
    button.disabled = false;
    button.textContent = "Predict";
  }
}

function addExamples() {
  const holder = $("examples");
  for (const [title, text] of EXAMPLES) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "example";
    button.textContent = title;
    button.title = text;
    button.addEventListener("click", () => {
      $("review").value = text;
      updateCounter();
      predict();
    });
    holder.append(button);
  }
}

$("predict").addEventListener("click", predict);
$("review").addEventListener("input", updateCounter);
$("review").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) predict();
});
addExamples();
updateCounter();
loadModelCard();

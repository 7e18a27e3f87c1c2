// Keeps a run's page live: follows the run's event stream from the state
// the page was rendered with, and redraws the parts that change. Without
// JavaScript the page still shows the state as of its loading.
"use strict";
(function () {
  const root = document.getElementById("run-state");
  if (!root || root.dataset.over === "true") return;
  const id = root.dataset.run;
  const progress = document.getElementById("progress");
  const progressText = document.getElementById("progress-text");
  const now = document.getElementById("now");
  const state = document.getElementById("state");
  const outcomes = document.querySelector("#outcomes tbody");
  const perModel = Number(root.dataset.perModel);
  let done = Number(progress.value);
  let total = Number(progress.max);

  const text = (tag, content, className) => {
    const node = document.createElement(tag);
    node.textContent = content;
    if (className) node.className = className;
    return node;
  };
  const badge = (kind, content) => text("span", content, "badge " + kind);
  const seconds = (s) => (s < 100 ? s.toFixed(1) + "s" : Math.floor(s / 60) + "m" + String(Math.round(s % 60)).padStart(2, "0") + "s");
  const gib = (bytes) => (bytes / 1073741824).toFixed(1) + " GiB";
  const shortCount = (v) => (v >= 1e9 ? (v / 1e9).toFixed(1) + "G" : v >= 1e6 ? (v / 1e6).toFixed(1) + "M" : v >= 1e3 ? (v / 1e3).toFixed(1) + "k" : String(v));

  function setProgress() {
    progress.max = Math.max(total, 1);
    progress.value = done;
    progressText.textContent = done + " of " + total + " problems";
  }

  function step(model, s) {
    switch (s.kind) {
      case "unloading": return "unloading " + s.model;
      case "memory_settled": return "memory settled: " + gib(s.mem_available_bytes) + " available";
      case "loading": return "loading " + model;
      case "ready": return model + " is ready (after " + seconds(s.waited_s) + ")";
      case "no_longer_loaded": return model + " is no longer loaded";
      case "memory_back": return "memory back: " + gib(s.mem_available_bytes) + " available (" + gib(s.before_bytes) + " before loading)";
      case "not_listed": return model + " is not listed; the server offers " + s.available.join(", ");
      default: return s.kind;
    }
  }

  function row(e) {
    const tr = document.createElement("tr");
    const th = text("th", e.problem + " ");
    th.scope = "row";
    th.appendChild(text("small", e.title));
    tr.appendChild(th);
    const model = text("td", e.model + " ");
    model.appendChild(text("small", e.variant));
    tr.appendChild(model);
    const verdict = document.createElement("td");
    const failure = e.failure_class ? e.failure_class.replace(/_/g, " ") : null;
    verdict.appendChild(e.passed && !failure ? badge("pass", "pass") : badge(e.passed ? "warn" : "fail", failure || "fail"));
    tr.appendChild(verdict);
    tr.appendChild(text("td", e.complexity ? (e.complexity.fitted || "–") + " / " + e.complexity.expected : "–"));
    tr.appendChild(text("td", String(e.tokens), "num"));
    tr.appendChild(text("td", e.tokens_per_s == null ? "–" : e.tokens_per_s.toFixed(1), "num"));
    tr.appendChild(text("td", shortCount(e.fuel_used), "num"));
    tr.appendChild(text("td", seconds(e.total_time_s), "num"));
    return tr;
  }

  function ended(kind, label) {
    state.replaceChildren(badge(kind, label));
    now.textContent = "";
    document.querySelectorAll(".actions form").forEach((form) => form.remove());
    source.close();
    // The finished page has the resume button and the results links.
    window.setTimeout(() => window.location.reload(), 300);
  }

  // Start after the last event the page already shows; on a reconnect the
  // browser sends Last-Event-ID, which takes precedence.
  const source = new EventSource("/api/v1/runs/" + encodeURIComponent(id) + "/events?after=" + root.dataset.lastEvent);
  let skipUntil = Number(root.dataset.lastEvent);
  // The browser reconnects a dropped stream by itself, but gives up on one
  // the server refused (a 503 when it holds all the streams it keeps): the
  // page then reloads a little later, which shows the state and tries again.
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      window.setTimeout(() => window.location.reload(), 5000);
    }
  };
  source.onmessage = (message) => {
    const e = JSON.parse(message.data);
    if (e.event === "snapshot") return;
    if (Number(message.lastEventId) <= skipUntil) return;
    skipUntil = Number(message.lastEventId);
    switch (e.event) {
      case "run_started": state.replaceChildren(badge("info", "running")); break;
      case "model": now.textContent = step(e.model, e.step); break;
      case "model_skipped": now.textContent = "skipped " + e.model + ": " + e.error; total = Math.max(total - perModel, done); setProgress(); break;
      case "variant_complete": break;
      case "variant_started": done += e.done; setProgress(); break;
      case "problem_started": now.textContent = "asking " + e.problem + " (" + e.title + ")"; break;
      case "problem_done": done += 1; setProgress(); outcomes.appendChild(row(e)); break;
      case "warning": root.appendChild(text("p", e.message, "note")); break;
      case "run_finished": ended("pass", "finished"); break;
      case "run_failed": ended("fail", "failed"); break;
      case "run_cancelled": ended("warn", "cancelled"); break;
    }
  };
})();

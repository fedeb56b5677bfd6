// The validator dashboard: fetches this validator's JSON (same origin, relative URLs) and draws the leaderboard, the
// dataset requests and three charts with the bundled Chart.js. Every 5 s the data is fetched again and the charts
// are updated in place.
"use strict";

const REFRESH_MS = 5000;
const MAX_REASONS = 12;
const PALETTE = ["#2f6fde", "#e8710a", "#1e8e3e", "#d93025", "#9334e6", "#12b5cb", "#f9ab00", "#5f6368",
                 "#b31412", "#185abc", "#137333", "#a142f4"];
const charts = {};

function color(i) { return PALETTE[i % PALETTE.length]; }
function short(key) { return key && key.length > 12 ? key.slice(0, 6) + "…" + key.slice(-4) : (key || "-"); }
function num(x, digits) { return x === null || x === undefined ? "-" : Number(x).toFixed(digits); }
function int(x) { return x === null || x === undefined ? "-" : Number(x).toLocaleString("en"); }
function text(id, value) { document.getElementById(id).textContent = value; }
function show(id, visible) { document.getElementById(id).classList.toggle("hidden", !visible); }

async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(url + " answered " + response.status);
  return response.json();
}

// Creates the chart on first use, then swaps its data (no animation: what is drawn is what the data says).
function draw(id, type, data, options) {
  if (charts[id]) {
    charts[id].data = data;
    charts[id].update("none");
    return;
  }
  const base = { animation: false, responsive: true, maintainAspectRatio: false,
                 plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } };
  charts[id] = new Chart(document.getElementById(id), { type, data, options: Object.assign(base, options) });
}

// A table row of [text, class] cells; `title` shows on hover.
function tableRow(cells, title) {
  const tr = document.createElement("tr");
  tr.title = title;
  for (const [value, cls] of cells) {
    const td = document.createElement("td");
    td.textContent = value;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  return tr;
}

function renderLeaderboard(rows, chain) {
  const neurons = new Map(((chain && chain.neurons) || []).map((n) => [n.uid, n]));
  const body = document.querySelector("#leaderboard tbody");
  body.replaceChildren(...rows.map((r) => {
    const n = neurons.get(r.uid) || {};
    const top = r.top_reason ? `${r.top_reason} (${int(r.top_reason_count)})` : "-";
    const cells = [[r.uid, ""], [short(r.hotkey), ""], [int(r.accepted), "num"], [int(r.shared), "num"],
                   [int(r.rejected), "num"], [top, ""], [num(r.value_total, 2), "num"],
                   [[r.verify_pass, r.verify_fail, r.verify_unverified, r.verify_unknown].map(int).join(" / "), "num"],
                   [num(r.credibility, 3), "num"],
                   [num(r.score, 5), "num"], [num(r.weight, 3), "num"], [num(n.incentive, 3), "num"],
                   [num(n.emission, 2), "num"]];
    const tr = tableRow(cells, r.hotkey);
    tr.dataset.uid = r.uid;
    return tr;
  }));
  show("leaderboard-empty", rows.length === 0);
}

function renderRequests(requests) {
  const body = document.querySelector("#requests tbody");
  body.replaceChildren(...requests.map((r) => {
    const target = r.target.records ? int(r.target.records) + " records" : int(r.target.words) + " words";
    const cells = [[r.request_id.slice(0, 12), ""], [r.domain, ""], [r.status, ""], [num(r.weight, 2), "num"],
                   [short(r.requester), ""], [target, "num"],
                   [int(r.target.records ? r.accepted_records : r.accepted_words), "num"],
                   [r.deadline ? r.deadline.slice(0, 10) : "-", ""], [r.decided_by || "-", ""]];
    return tableRow(cells, r.request_id);
  }));
  show("requests-empty", requests.length === 0);
}

function renderEmissions(chain) {
  const series = ((chain && chain.series) || []).filter((s) => s.emission.some((x) => x > 0));
  const datasets = series.map((s, i) => ({
    label: `uid ${s.uid} (${s.validator ? "validator" : "miner"})`, data: s.emission,
    backgroundColor: color(i), stack: "emission" }));
  draw("emissions-chart", "bar", { labels: (chain && chain.epochs || []).map((e) => "epoch " + e), datasets },
       { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "α" } } } });
  show("emissions-empty", datasets.length === 0);
  if (chain && chain.available === false) text("emissions-empty", "No chain data: " + chain.reason + ".");
}

function renderAccepted(accepted) {
  const domains = Object.keys(accepted.domains || {});
  const datasets = domains.map((d, i) => ({ label: d, data: accepted.domains[d], borderColor: color(i),
                                            backgroundColor: color(i), pointRadius: 2,
                                            cubicInterpolationMode: "monotone" }));  // a count never dips
  draw("accepted-chart", "line", { labels: (accepted.steps || []).map((s) => "step " + s), datasets },
       { scales: { y: { beginAtZero: true, title: { display: true, text: "records (cumulative)" } } } });
  show("accepted-empty", !domains.some((d) => accepted.domains[d].some((x) => x > 0)));
}

function renderRejections(rejections) {
  const reasons = Object.keys(rejections.by_reason || {}).slice(0, MAX_REASONS);
  const miners = Object.keys(rejections.by_miner || {}).sort((a, b) => Number(a) - Number(b));
  const datasets = miners.map((uid, i) => ({
    label: "uid " + uid, data: reasons.map((r) => rejections.by_miner[uid][r] || 0), backgroundColor: color(i) }));
  draw("rejections-chart", "bar", { labels: reasons, datasets },
       { indexAxis: "y", scales: { x: { stacked: true, title: { display: true, text: "records" } },
                                   y: { stacked: true, ticks: { autoSkip: false, font: { size: 11 } } } } });
  show("rejections-empty", reasons.length === 0);
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const [health, weights, leaderboard, rejections, accepted, chain, requests] = await Promise.all([
      getJSON("v1/health"), getJSON("api/weights"), getJSON("api/leaderboard"), getJSON("api/rejections"),
      getJSON("api/dashboard/accepted"), getJSON("api/dashboard/chain"), getJSON("api/dashboard/requests")]);
    text("hotkey", short(health.hotkey));
    document.getElementById("hotkey").title = health.hotkey;
    text("step", int(health.step));
    text("accepted-total", int(health.accepted));
    text("weights-block", weights.block === null ? "not yet" : int(weights.block));
    text("chain-block", chain.available ? int(chain.block) : "-");
    renderLeaderboard(leaderboard, chain);
    renderRequests(requests);
    renderEmissions(chain);
    renderAccepted(accepted);
    renderRejections(rejections);
    status.textContent = "updated " + new Date().toLocaleTimeString();
    status.classList.remove("error");
  } catch (err) {
    status.textContent = "could not refresh: " + err.message;
    status.classList.add("error");
  }
}

refresh();
setInterval(refresh, REFRESH_MS);

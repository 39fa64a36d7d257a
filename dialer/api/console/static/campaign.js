// One campaign: progress, counts, charts, window, account, recent attempts, rejects, actions.
// The counters and attempts are polled every 3 s; the window and the account every 15 s.
import {
  campaignPath, call, clock, dateTime, day, download, el, every, fromNow, getJson, number, requireKey,
  stamp, statusBadge, time,
} from "/console/static/api.js";

const $ = (id) => document.getElementById(id);
const name = decodeURIComponent(location.pathname.slice("/console/campaigns/".length));
const FINISHED = new Set(["completed", "cancelled"]);
const COLOURS = {
  placed: "#2e7d4f", completed: "#2e7d4f", voicemail: "#5c8f3a", pending: "#d08c00",
  "no-answer": "#b06f00", busy: "#8f5a00", failed: "#b3261e", unknown: "#6b7785",
  in_flight: "#2f6eb5", cancelled: "#9aa5b1", awaiting: "#7fb08f",
};
const RESULT_WORDS = {
  placed: "placed", pending: "retry later", failed: "failed", unknown: "unknown", in_flight: "in flight",
};
let report = null;

document.title = `dialer · ${name}`;
$("name").textContent = name;

// ---- counters, progress and actions -------------------------------------------------------

function fillCounts(table, counts) {
  table.querySelector("tbody").replaceChildren(...Object.entries(counts).map(([label, count]) =>
    el("tr", {}, el("td", { text: label }), el("td", { class: "n", text: number(count) }))));
}

function showReport(data) {
  report = data;
  $("status").replaceChildren(statusBadge(data.status));
  $("status-reason").textContent = data.status_reason;
  $("progress").max = Math.max(data.total, 1);
  $("progress").value = data.done;
  $("done").textContent = `${number(data.done)} of ${number(data.total)} contacts done`;
  $("estimate").textContent = data.estimate;
  $("dialing").textContent = `Dialed by ${data.dialing}`;
  fillCounts($("states"), Object.fromEntries(Object.entries(data.contacts).filter(([, n]) => n > 0)));
  fillCounts($("outcomes"), data.outcomes);
  $("outcomes").hidden = Object.keys(data.outcomes).length === 0;
  $("start").hidden = data.status !== "draft";
  $("pause").hidden = data.status !== "running";
  $("resume").hidden = data.status !== "paused";
  $("cancel").hidden = FINISHED.has(data.status);
  drawOutcomes(data);
  $("compare-box").hidden = data.accounts.length < 2;
  $("compare-split").textContent = data.accounts.map((a) => `${a.name} ${a.weight}` + (a.out ? ` (out: ${a.out})` : ""))
    .join(", ") + (data.failover ? `; failover on, ${number(data.reassigned)} reassigned` : "; no failover");
}

const notDialed = () => report.contacts.pending + report.contacts.queued;

const ACTIONS = {
  start: () => ({
    title: "Start dialing?",
    text: `Calls to ${number(notDialed())} contacts begin now (or at the campaign's start time), ` +
      "at the account's rate and only inside the calling window.",
    yes: "Start dialing",
  }),
  pause: () => ({
    title: "Pause the campaign?",
    text: `No new call is placed until you resume; calls already ringing finish. ` +
      `${number(notDialed())} contacts wait, and so do scheduled retries.`,
    yes: "Pause",
  }),
  resume: () => ({
    title: "Resume the campaign?",
    text: `Dialing continues for ${number(notDialed())} contacts not yet called, inside the calling window.`,
    yes: "Resume",
  }),
  cancel: () => ({
    title: "Cancel the campaign for good?",
    text: `${number(notDialed())} pending calls will never be made. Calls already in progress ` +
      "finish. This cannot be undone.",
    yes: "Cancel campaign",
    danger: true,
  }),
};

function confirmAction(action) {
  const { title, text, yes, danger } = ACTIONS[action]();
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = yes;
  $("confirm-yes").className = danger ? "danger confirm" : "primary";
  $("confirm-yes").onclick = async () => {
    dialog.close();
    $("action-error").textContent = "";
    try {
      showReport(await (await call("POST", campaignPath(name, `/${action}`))).json());
    } catch (failure) {
      $("action-error").textContent = failure.message;
    }
  };
  dialog.showModal();
  $("confirm-no").focus();
}

$("confirm-no").addEventListener("click", () => $("confirm").close());
for (const action of Object.keys(ACTIONS)) $(action).addEventListener("click", () => confirmAction(action));
// Excel's export is the same CSV with a byte-order mark, so Excel reads it as UTF-8.
for (const [button, query, file] of [["export", "", `${name}-export.csv`], ["export-excel", "?excel=1", `${name}-export-excel.csv`]]) {
  $(button).addEventListener("click", async () => {
    $("action-error").textContent = "";
    try {
      await download(campaignPath(name, `/export${query}`), file);
    } catch (failure) {
      $("action-error").textContent = failure.message;
    }
  });
}

// ---- charts -------------------------------------------------------------------------------

const chartOptions = (stacked, horizontal) => ({
  animation: false,
  maintainAspectRatio: false,
  indexAxis: horizontal ? "y" : "x",
  plugins: { legend: { display: stacked, position: "bottom", labels: { boxWidth: 12 } } },
  scales: {
    x: { stacked, grid: { display: horizontal }, ticks: { maxTicksLimit: 8, autoSkip: true } },
    y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
  },
});

const callsChart = new window.Chart($("calls-chart"), {
  type: "bar",
  data: { labels: [], datasets: [] },
  options: chartOptions(true, false),
});
const outcomesChart = new window.Chart($("outcomes-chart"), {
  type: "bar",
  data: { labels: [], datasets: [{ data: [], backgroundColor: [] }] },
  options: chartOptions(false, true),
});

let series = null;

async function refreshCalls() {
  // The whole life once, then only from the latest bucket on; the whole again when the
  // chart has grown past twice its points (so the buckets get coarser).
  const whole = !series || series.points.length > 480;
  const query = whole ? "" : `?since=${encodeURIComponent(series.points.at(-1).at)}&bucket=${series.bucket_seconds}`;
  const fresh = await getJson(campaignPath(name, `/calls${query}`));
  if (whole) {
    series = fresh;
  } else {
    const from = new Date(fresh.since).getTime();
    series.points = series.points.filter((p) => new Date(p.at).getTime() < from).concat(fresh.points);
  }
  drawCalls();
}

function drawCalls() {
  const perMinute = 60 / series.bucket_seconds;
  const results = ["placed", "pending", "failed", "unknown", "in_flight"];
  const label = series.bucket_seconds >= 86400 ? day : clock;
  callsChart.data.labels = series.points.map((p) => label(p.at));
  callsChart.data.datasets = results.map((result) => ({
    label: RESULT_WORDS[result],
    data: series.points.map((p) => (p.by_result[result] || 0) * perMinute),
    backgroundColor: COLOURS[result],
  }));
  callsChart.update();
  const total = series.points.reduce((sum, p) => sum + p.total, 0);
  const bucket = series.bucket_seconds >= 3600 ? `${series.bucket_seconds / 3600} h` : `${series.bucket_seconds / 60} min`;
  $("calls-note").textContent = series.first_attempt_at
    ? `${number(total)} requests since ${dateTime(series.points[0].at)}; one bar per ${bucket}, as calls per minute.`
    : "No call has been attempted yet.";
  $("calls-chart").setAttribute("aria-label",
    `Calls per minute over the campaign's life: ${number(total)} requests in all`);
}

function drawOutcomes(data) {
  const outcomes = data.outcomes;
  const reported = Object.values(outcomes).reduce((a, b) => a + b, 0);
  const bars = {
    ...outcomes,
    awaiting: Math.max(data.contacts.placed - reported, 0),
    failed: (outcomes.failed || 0) + data.contacts.failed,
    unknown: data.contacts.unknown,
    cancelled: data.contacts.cancelled,
    pending: data.contacts.pending + data.contacts.queued + data.contacts.dialing,
  };
  const words = { awaiting: "placed, outcome not yet known", pending: "not yet done" };
  const shown = Object.entries(bars).filter(([, n]) => n > 0);
  outcomesChart.data.labels = shown.map(([key]) => words[key] || key);
  outcomesChart.data.datasets[0].data = shown.map(([, n]) => n);
  outcomesChart.data.datasets[0].backgroundColor = shown.map(([key]) => COLOURS[key] || "#6b7785");
  outcomesChart.update();
  $("outcomes-chart").setAttribute("aria-label",
    "Contacts by result: " + shown.map(([key, n]) => `${words[key] || key} ${n}`).join(", "));
}

// ---- window, account, attempts, rejects ---------------------------------------------------

async function refreshWindow() {
  const info = await getJson(campaignPath(name, "/window"));
  $("window-hours").textContent = info.hours + (info.is_default
    ? " (the default, stricter than the U.S. TCPA's 08:00-21:00)." : ".");
  let now = "No contact is waiting to be dialed.";
  if (info.pending) {
    now = `Now open for ${info.open_percent} % of pending contacts (${number(info.open_now)} of ${number(info.pending)}).`;
    if (info.next_opening && info.open_now < info.pending) {
      now += ` Next opening ${dateTime(info.next_opening)} (${fromNow(info.next_opening)}).`;
    }
  }
  $("window-now").textContent = now;
  $("window-fallback").textContent = `Numbers with no known time zone use ${info.fallback_zone}.`;
}

async function refreshAccount(account) {
  let health;
  try {
    health = await getJson(`/accounts/${encodeURIComponent(account)}`);
  } catch (failure) {
    if (failure.status !== 404) throw failure;
    $("account").replaceChildren(el("dt", { text: "Account" }),
      el("dd", { text: `${account}: not configured on this server, so nothing is dialed` }));
    return;
  }
  const recent = health.recent;
  const total = Object.values(recent).reduce((a, b) => a + b, 0);
  const facts = [
    ["Account", `${health.name} (${health.provider})`],
    ["Rate limit", health.rate],
    [`Last ${health.recent_seconds / 60} min`, total
      ? Object.entries(recent).map(([k, n]) => `${number(n)} ${RESULT_WORDS[k] || k}`).join(", ")
      : "no requests"],
  ];
  facts.push(...capacityFacts(health.capacity));
  $("account").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]));
}

// Calls in progress of the cap, the outage breaker and a Retry-After hold, as the API reads
// them from the account gate; the server says nothing when it cannot read them (no broker
// and no runner of its own).
function capacityFacts(capacity) {
  if (!capacity) return [["Capacity", "not known to this server (it does not dial, and no broker is configured)"]];
  const cap = capacity.cap == null ? " (no cap)" : ` of ${number(capacity.cap)}`;
  const facts = [["Calls in progress", `${number(capacity.in_progress)}${cap}`]];
  facts.push(["Outage breaker", capacity.breaker === "open"
    ? `open since ${dateTime(capacity.open_since)}: no calls but one probe, next ${time(capacity.next_probe_at)}`
    : "closed: calls go out normally"]);
  if (capacity.held_until) facts.push(["Held until", `${time(capacity.held_until)} (the provider asked us to wait)`]);
  return facts;
}

async function refreshAttempts() {
  const attempts = await getJson(campaignPath(name, "/attempts?limit=20"));
  $("attempts").querySelector("tbody").replaceChildren(...attempts.map((a) => el("tr", {},
    el("td", { class: "mono", text: time(a.started_at) }),
    el("td", { class: "n", text: a.row }),
    el("td", { class: "mono", text: a.phone }),
    el("td", { text: a.outcome ? `${RESULT_WORDS[a.result] || a.result}: ${a.outcome}` : (RESULT_WORDS[a.result] || a.result) }),
    el("td", { class: "n", text: a.http_status ?? "" }),
    el("td", { class: "mono", text: a.provider_call_id || "" }),
    el("td", { class: "small", text: a.error }),
  )));
  $("attempts-empty").hidden = attempts.length > 0;
}

async function loadRejects() {
  try {
    const rejects = await getJson(campaignPath(name, "/rejects/rows?limit=100"));
    $("rejects").querySelector("tbody").replaceChildren(...rejects.rows.map((r) => el("tr", {},
      el("td", { class: "n", text: r.row }), el("td", { class: "mono", text: r.value }),
      el("td", { text: r.reason }))));
    $("rejects-box").hidden = rejects.rows.length === 0;
    $("rejects-download").hidden = rejects.rows.length === 0;
    $("rejects-note").textContent = rejects.rows.length === 0
      ? "The import rejected no row."
      : `${rejects.more ? "The first 100" : "All"} rows the import set aside, with the reason.`;
  } catch (failure) {
    if (failure.status !== 404) throw failure;
    $("rejects-note").textContent = report && report.rows_rejected
      ? `${number(report.rows_rejected)} rows were rejected. The server that imported them keeps the list until it restarts; this one has none.`
      : "The import rejected no row.";
  }
}
$("rejects-download").addEventListener("click", () => download(campaignPath(name, "/rejects"), `${name}-rejects.csv`));

// ---- polling ------------------------------------------------------------------------------

const showError = (failure) => { if (failure) $("page-error").textContent = failure.message; };

if (requireKey()) {
  every(3, async () => {
    showReport(await getJson(campaignPath(name)));
    await Promise.all([refreshCalls(), refreshAttempts(), refreshAccount(report.account)]);
    $("page-error").textContent = "";
    stamp("updated");
  }, showError);
  every(15, refreshWindow, showError);
  setTimeout(() => loadRejects().catch(showError), 300);
}

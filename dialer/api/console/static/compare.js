// A campaign over several accounts: the accounts compared (GET /campaigns/{name}/compare),
// loaded when asked for, never on the page's refresh timer (it reads the whole campaign).
import { campaignPath, el, getJson, number } from "/console/static/api.js";

const $ = (id) => document.getElementById(id);
const name = decodeURIComponent(location.pathname.slice("/console/campaigns/".length));
const OUTCOMES = ["completed", "no-answer", "busy", "voicemail", "failed"];
const pct = (x) => (x === null || x === undefined ? "-" : `${(x * 100).toFixed(1)} %`);
const points = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}`;

function versus(d) {
  if (!d) return "-";
  return `${points(d.difference)} pts [${points(d.low)}, ${points(d.high)}] vs ${d.versus}`;
}

async function load() {
  $("compare-error").textContent = "";
  $("compare-load").disabled = true;
  try {
    const found = await getJson(campaignPath(name, "/compare"));
    $("compare").querySelector("tbody").replaceChildren(...found.accounts.map((a) => el("tr", {},
      el("td", { text: `${a.account} (${a.weight})` }),
      el("td", { class: "n", text: number(a.contacts) }),
      el("td", { class: "n", text: number(a.placed) }),
      ...OUTCOMES.map((o) => el("td", { class: "n", text: number(a.outcomes[o]) })),
      el("td", { class: "n", text: pct(a.unknown_rate) }),
      el("td", { class: "n", text: number(a.provider_errors) }),
      el("td", { class: "n", text: a.median_latency_ms === null ? "-" : `${a.median_latency_ms} ms` }),
      el("td", { class: "n", text: pct(a.completed_rate) }),
      el("td", { text: versus(a.difference) }))));
    $("compare-note").textContent = `${number(found.not_yet_attempted)} contacts not yet attempted; ` +
      `${number(found.reassigned)} reassigned by failover. ${found.method}.`;
    $("compare-table").hidden = false;
  } catch (failure) {
    $("compare-error").textContent = failure.message;
  } finally {
    $("compare-load").disabled = false;
  }
}

$("compare-load").addEventListener("click", load);

// The campaigns list: every campaign with its status, progress and pace, polled every 3 s.
import {
  consolePath, el, every, getJson, number, requireKey, stamp, statusBadge,
} from "/console/static/api.js";

const body = document.querySelector("#campaigns tbody");
const error = document.getElementById("list-error");

// The estimate without its first part (the rate and the dialing time needed), which the
// campaign's own page shows in full.
function finish(campaign) {
  if (campaign.status === "completed") return "done";
  if (campaign.status === "cancelled") return "";
  const parts = campaign.estimate.split("; ");
  return parts.length > 1 ? parts.slice(1).join("; ") : campaign.estimate;
}

function row(campaign) {
  const outcomes = campaign.outcomes || {};
  const progress = el("progress", {
    max: Math.max(campaign.total, 1), value: campaign.done,
    "aria-label": `${campaign.name}: ${campaign.done} of ${campaign.total} contacts done`,
  });
  const status = el("td", {}, statusBadge(campaign.status));
  if (campaign.status_reason) status.append(el("span", { class: "reason", text: campaign.status_reason }));
  const cell = (value) => el("td", { class: "n", text: number(value) });
  return el("tr", { "data-campaign": campaign.name },
    el("td", {}, el("a", { href: consolePath(campaign.name), class: "nowrap", text: campaign.name }),
      el("span", { class: "reason", text: campaign.account })),
    status,
    el("td", {}, el("div", { class: "progress" }, progress,
      el("span", { class: "small nowrap", text: `${number(campaign.done)} of ${number(campaign.total)}` }))),
    cell(campaign.contacts.placed),
    cell(outcomes["no-answer"]),
    cell(outcomes.busy),
    cell(campaign.contacts.failed),
    cell(campaign.contacts.unknown),
    cell(campaign.calls_last_minute),
    el("td", { class: "small", title: campaign.estimate || null, text: finish(campaign) }),
  );
}

async function refresh() {
  const campaigns = await getJson("/campaigns");
  body.replaceChildren(...campaigns.slice().reverse().map(row));
  document.getElementById("empty").hidden = campaigns.length > 0;
  stamp("updated");
}

if (requireKey()) every(3, refresh, (failure) => { error.textContent = failure ? failure.message : ""; });

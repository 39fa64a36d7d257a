// New campaign: the form, then POST /campaigns/preview (nothing created), then POST /campaigns
// with the same form, then start. Changing the form after a preview asks for a new preview.
import {
  call, campaignPath, consolePath, el, getJson, number, requireKey,
} from "/console/static/api.js";

const $ = (id) => document.getElementById(id);
const form = $("upload");
let preview = null;

function formData() {
  const data = new FormData(form);
  for (const [key, value] of [...data.entries()]) {
    if (value === "") data.delete(key);  // left empty: the server's default
  }
  return data;
}

function fill(table, entries) {
  table.querySelector("tbody").replaceChildren(...entries.map((cells) =>
    el("tr", {}, ...cells.map(([text, cls]) => el("td", { class: cls, text })))));
}

// {column} filled from the first contact, as the server renders it ("" when the column is empty).
const render = (template, values) => template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, key) => values[key] ?? "");

function showMessages() {
  const box = $("p-messages");
  const first = preview && preview.contacts[0];
  const fields = ["intro", "voicemail", "instructions"].filter((f) => $(f).value.trim());
  if (!first || fields.length === 0) {
    box.replaceChildren(el("p", { class: "small muted", text: "No message given: the agent's own script is used." }));
    return;
  }
  box.replaceChildren(el("p", { class: "small", text: `Messages for row ${first.row}:` }),
    ...fields.map((f) => el("p", {}, el("b", { text: `${f}: ` }), render($(f).value, first.variables))));
}

function windowText() {
  const window = $("window").value.trim() || "09:00-20:00";
  const days = $("days").value.trim() || "mon-sat";
  const isDefault = !$("window").value.trim() && !$("days").value.trim();
  return `Calls only ${window} in each recipient's own time zone, on ${days}` +
    (isDefault ? " (the default, stricter than the U.S. TCPA's 08:00-21:00)." : ".");
}

function showPreview(data) {
  preview = data;
  $("p-rows").textContent = number(data.rows_read);
  $("p-accepted").textContent = number(data.accepted);
  $("p-rejected").textContent = number(data.rejected);
  $("p-phone-column").textContent = Object.entries(data.phone_columns)
    .map(([column, n]) => `${column} (${number(n)})`).join(", ");
  fill($("p-reasons"), Object.entries(data.rejected_by_reason).map(([reason, n]) => [[reason, ""], [number(n), "n"]]));
  $("p-reasons").hidden = data.rejected === 0;
  fill($("p-contacts"), data.contacts.map((c) => [
    [c.row, "n"], [c.phone + (c.extension ? ` ext. ${c.extension}` : ""), "mono"],
    [c.timezones.join(", "), "small"], [c.number_type, ""],
    [[c.variables.first_name, c.variables.last_name].filter(Boolean).join(" ") || c.variables.name || "", ""],
  ]));
  $("p-window").textContent = windowText();
  $("p-estimate").textContent = data.estimate || "";
  showMessages();
  $("create").disabled = data.accepted === 0;
  $("preview-box").hidden = false;
  $("preview-title").focus();
}

function invalidate() {
  if (preview === null) return;
  preview = null;
  $("preview-box").hidden = true;
  $("created-box").hidden = true;
  $("preview-state").textContent = "The form changed: preview again before creating.";
}

form.addEventListener("input", (event) => {
  if (["intro", "voicemail", "instructions"].includes(event.target.id) && preview) showMessages();
  else invalidate();
});
form.addEventListener("change", (event) => { if (event.target.id === "file" || event.target.id === "account") invalidate(); });

$("file").addEventListener("change", () => {
  const file = $("file").files[0];
  if (file && !$("name").value) $("name").value = file.name.replace(/\.[^.]*$/, "").replace(/\//g, "-");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  $("upload-error").textContent = "";
  if (!$("file").files.length || !$("name").value.trim()) {
    $("upload-error").textContent = "Choose a leads file and give the campaign a name.";
    return;
  }
  $("preview").disabled = true;
  $("preview-state").textContent = "Reading the file...";
  try {
    showPreview(await (await call("POST", "/campaigns/preview", { body: formData() })).json());
    $("preview-state").textContent = "";
  } catch (failure) {
    $("upload-error").textContent = failure.message;
    $("preview-state").textContent = "";
  } finally {
    $("preview").disabled = false;
  }
});

$("create").addEventListener("click", async () => {
  $("create-error").textContent = "";
  $("create").disabled = true;
  try {
    const summary = await (await call("POST", "/campaigns", { body: formData() })).json();
    $("created-text").textContent = `Campaign ${summary.campaign} was created with ` +
      `${number(summary.accepted)} contacts (${number(summary.rejected)} rows rejected). It is a draft: nobody is called until you start it.`;
    $("open").href = consolePath(summary.campaign);
    $("created-box").hidden = false;
    $("created-title").focus();
  } catch (failure) {
    $("create-error").textContent = failure.message;
    $("create").disabled = false;
  }
});

$("start").addEventListener("click", async () => {
  $("start-error").textContent = "";
  const name = new FormData(form).get("name");
  try {
    await call("POST", campaignPath(name, "/start"));
    location.assign(consolePath(name));
  } catch (failure) {
    $("start-error").textContent = failure.message;
  }
});

async function loadAccounts() {
  try {
    const accounts = await getJson("/accounts");
    $("account").replaceChildren(...accounts.map((a) => new Option(`${a.name} (${a.provider})`, a.name)));
  } catch (failure) {
    $("upload-error").textContent = failure.message;
  }
}

if (requireKey()) loadAccounts();

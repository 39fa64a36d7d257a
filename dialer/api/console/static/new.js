// New campaign: the form, then POST /campaigns/preview (nothing created), then POST /campaigns
// with the same form, then start. Changing the form after a preview asks for a new preview.
import {
  call, campaignPath, consolePath, el, getJson, number, requireKey,
} from "/console/static/api.js";

const $ = (id) => document.getElementById(id);
const form = $("upload");
let preview = null;
let accounts = {};

// Message field (as GET /accounts names it) -> its textarea; questions and rules: one a line.
const MESSAGE_INPUTS = {
  intro: "intro", voicemail: "voicemail", instructions: "instructions", intro_notes: "intro_notes",
  questions: "question", rules: "rule",
};
const LISTS = new Set(["question", "rule"]);

function formData() {
  const data = new FormData(form);  // hidden message fields are disabled: left out
  for (const [key, value] of [...data.entries()]) {
    if (value === "") data.delete(key);  // left empty: the server's default
  }
  for (const key of LISTS) {
    const lines = (data.get(key) || "").split("\n").map((line) => line.trim()).filter(Boolean);
    data.delete(key);
    for (const line of lines) data.append(key, line);
  }
  // Several accounts: the API's account field, repeated as NAME=WEIGHT.
  const weight = $("account_weight").value.trim();
  const others = $("other_accounts").value.split(",").map((a) => a.trim()).filter(Boolean);
  data.delete("account_weight");
  data.delete("other_accounts");
  if (weight) data.set("account", `${$("account").value}=${weight}`);
  for (const other of others) data.append("account", other);
  return data;
}

// Only the message fields the chosen account's provider takes are shown (and sent).
function showMessageFields() {
  const account = accounts[$("account").value];
  const taken = new Set(account ? account.messages : []);
  for (const [field, id] of Object.entries(MESSAGE_INPUTS)) {
    const box = document.querySelector(`[data-message="${field}"]`);
    box.hidden = !taken.has(field);
    $(id).disabled = !taken.has(field);
  }
  $("messages-hint").textContent = taken.size
    ? `The fields ${account.provider} takes. {first_name} and the file's other columns are filled in.`
    : `${account ? account.provider : "This provider"} takes no message: the agent's own script is used.`;
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
  const fields = Object.entries(MESSAGE_INPUTS).filter(([, id]) => !$(id).disabled && $(id).value.trim());
  if (!first || fields.length === 0) {
    box.replaceChildren(el("p", { class: "small muted", text: "No message given: the agent's own script is used." }));
    return;
  }
  const lines = ([, id]) => (LISTS.has(id) ? $(id).value.split("\n").filter((l) => l.trim()) : [$(id).value]);
  box.replaceChildren(el("h3", { class: "small", text: `As the agent gets them for row ${first.row}:` }),
    ...fields.flatMap((entry) => lines(entry).map((line) =>
      el("p", { "data-preview": entry[0] }, el("b", { text: `${entry[0].replace("_", " ")}: ` }), render(line, first.variables)))));
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

// Typing a message re-renders its preview at once; any other change asks for a new preview.
form.addEventListener("input", (event) => {
  if (Object.values(MESSAGE_INPUTS).includes(event.target.id)) { if (preview) showMessages(); } else invalidate();
});
form.addEventListener("change", (event) => {
  if (event.target.id === "account") showMessageFields();
  if (event.target.id === "file" || event.target.id === "account") invalidate();
});

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
    const listed = await getJson("/accounts");
    accounts = Object.fromEntries(listed.map((a) => [a.name, a]));
    $("account").replaceChildren(...listed.map((a) => new Option(`${a.name} (${a.provider})`, a.name)));
    showMessageFields();
  } catch (failure) {
    $("upload-error").textContent = failure.message;
  }
}

if (requireKey()) loadAccounts();

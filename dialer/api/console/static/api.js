// What every console page shares: the API key, calls to this server's API, small DOM helpers.
// The key lives in sessionStorage: it is kept for this browser tab's session only and sent in
// the X-API-Key header, never in a cookie.

const KEY = "dialer-api-key";

export const getKey = () => sessionStorage.getItem(KEY) || "";
export const setKey = (key) => sessionStorage.setItem(KEY, key);
export const forgetKey = () => sessionStorage.removeItem(KEY);

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// One request to the API. Rejects with ApiError carrying the server's one-line message.
// A 401 on any page but sign-in sends the browser to sign in, and back here afterwards.
export async function call(method, path, { body, key, signIn = true } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method, body, cache: "no-store", headers: { "X-API-Key": key ?? getKey() },
    });
  } catch (_) {
    throw new ApiError(0, "The server cannot be reached. Is dialer serve still running?");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
    if (response.status === 401 && signIn) goToSignIn();
    throw new ApiError(response.status, message);
  }
  return response;
}

export const getJson = async (path) => (await call("GET", path)).json();

export function goToSignIn() {
  const next = location.pathname + location.search;
  location.assign(`/console/sign-in?next=${encodeURIComponent(next)}`);
}

// Pages other than sign-in call this first: without a key there is nothing to show.
export function requireKey() {
  if (!getKey()) {
    goToSignIn();
    return false;
  }
  const out = document.getElementById("sign-out");
  if (out) {
    out.addEventListener("click", () => {
      forgetKey();
      location.assign("/console/sign-in");
    });
  }
  return true;
}

export const campaignPath = (name, suffix = "") => `/campaigns/${encodeURIComponent(name)}${suffix}`;
export const consolePath = (name) => `/console/campaigns/${encodeURIComponent(name)}`;

// el("td", {class: "n"}, "12") -> <td class="n">12</td>; children may be nodes or text.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export const number = (n) => (n ?? 0).toLocaleString("en-US");

export function time(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString([], {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
}

// "14:05" and "Dec 4": a chart's axis labels.
export const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
export const day = (iso) => new Date(iso).toLocaleDateString([], { month: "short", day: "numeric" });

export function dateTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString([], {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false,
  });
}

// "in 3 h 20 min", "in 45 min", "now"
export function fromNow(iso) {
  const minutes = Math.round((new Date(iso) - Date.now()) / 60000);
  if (minutes <= 0) return "now";
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h ${minutes % 60} min`;
  return `in ${Math.round(hours / 24)} days`;
}

export function statusBadge(status) {
  return el("span", { class: `badge ${status}`, text: status });
}

// Save a response as a file (the API needs the key header, so a plain link cannot do it).
export async function download(path, filename) {
  const blob = await (await call("GET", path)).blob();
  const link = el("a", { href: URL.createObjectURL(blob), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// Run `task` now and every `seconds` while the page is open; errors go to `onError`.
export function every(seconds, task, onError) {
  let timer = null;
  const run = async () => {
    try {
      await task();
      onError(null);
    } catch (error) {
      onError(error);
    }
    timer = setTimeout(run, seconds * 1000);
  };
  run();
  return () => clearTimeout(timer);
}

export function stamp(id) {
  document.getElementById(id).textContent = `Updated ${time(new Date().toISOString())}`;
}

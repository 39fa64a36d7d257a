// Sign in: check the key against the API (GET /accounts), keep it, go where the user was going.
import { ApiError, call, setKey } from "/console/static/api.js";

const form = document.getElementById("sign-in");
const key = document.getElementById("key");
const error = document.getElementById("sign-in-error");

function destination() {
  const next = new URLSearchParams(location.search).get("next") || "";
  // Only a console page of this server: never an address someone put in a link.
  return next.startsWith("/console/") ? next : "/console/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const given = key.value.trim();
  if (!given) {
    error.textContent = "Enter the API key.";
    key.focus();
    return;
  }
  try {
    await call("GET", "/accounts", { key: given, signIn: false });
    setKey(given);
    location.assign(destination());
  } catch (failure) {
    error.textContent = failure instanceof ApiError && failure.status === 401
      ? "This key was not accepted: check it and try again."
      : failure.message;
    key.focus();
  }
});

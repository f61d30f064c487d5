// The dashboard's shell: the hash router (#/dashboard, #/customers, #/customer/<id>, #/lifecycle),
// the date range picker, the API key dialog and the confirm dialog. Each screen is a module loaded on
// first use (the lifecycle screen is not fetched until it is opened) and makes one request.

import { ApiError, getKey, setKey } from "./api.js";
import { setStore } from "./format.js";
import { h, errorBox, loading } from "./dom.js";

const PRODUCTION = document.querySelector('meta[name="crm-graph-mode"]').content === "production";
const SCREENS = {
  dashboard: () => import("./dashboard.js"),
  customers: () => import("./customers.js"),
  customer: () => import("./customer360.js"),
  lifecycle: () => import("./lifecycle.js"),
};
const DEFAULT_PRESET = "LAST_30_DAYS";
/** The URL parameters of a page of a list (cursors): cleared whenever the list itself changes. */
export const FIRST_PAGE = { after: null, before: null };
const main = document.getElementById("main");
let generation = 0;

/** The current route: screen, id (#/customer/<id>) and parameters (after "?"). */
export function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const [screen, id] = path.split("/");
  return { screen: SCREENS[screen] ? screen : "dashboard", id: id ? decodeURIComponent(id) : null,
    params: new URLSearchParams(query || "") };
}

/** Go to a screen, keeping the date range unless `params` sets one. */
export function navigate(screen, params = {}, id = null) {
  const current = route().params;
  const next = new URLSearchParams();
  for (const name of ["preset", "from", "to"]) if (current.get(name)) next.set(name, current.get(name));
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") next.delete(name);
    else next.set(name, value);
  }
  const query = next.toString();
  location.hash = `#/${screen}${id ? `/${encodeURIComponent(id)}` : ""}${query ? `?${query}` : ""}`;
}

/** Change some parameters of the current screen. */
export function setParams(params) {
  const { screen, id, params: current } = route();
  const next = new URLSearchParams(current);
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") next.delete(name);
    else next.set(name, value);
  }
  const query = next.toString();
  location.hash = `#/${screen}${id ? `/${encodeURIComponent(id)}` : ""}${query ? `?${query}` : ""}`;
}

/** GraphQL variables of the selected range: {range: {from, to}} or {preset}. */
export function rangeVariables(params = route().params) {
  if (params.get("from") && params.get("to")) return { range: { from: params.get("from"), to: params.get("to") }, preset: null };
  return { range: null, preset: params.get("preset") || DEFAULT_PRESET };
}

// --- date range picker ---------------------------------------------------------------------------
const preset = document.getElementById("preset");
const custom = document.getElementById("custom-range");
const fromInput = document.getElementById("range-from");
const toInput = document.getElementById("range-to");

function syncPicker() {
  const { params } = route();
  if (params.get("from") && params.get("to")) {
    preset.value = "CUSTOM";
    custom.hidden = false;
    fromInput.value = params.get("from");
    toInput.value = params.get("to");
  } else {
    preset.value = params.get("preset") || DEFAULT_PRESET;
    custom.hidden = true;
  }
}

preset.addEventListener("change", () => {
  if (preset.value === "CUSTOM") {
    custom.hidden = false;
    fromInput.focus();
    return;
  }
  setParams({ preset: preset.value === DEFAULT_PRESET ? null : preset.value, from: null, to: null, ...FIRST_PAGE });
});

function applyCustom() {
  if (!fromInput.value || !toInput.value) return;
  const [from, to] = fromInput.value <= toInput.value ? [fromInput.value, toInput.value] : [toInput.value, fromInput.value];
  setParams({ preset: null, from, to, ...FIRST_PAGE });
}
document.getElementById("range-apply").addEventListener("click", applyCustom);
for (const input of [fromInput, toInput]) input.addEventListener("keydown", (e) => e.key === "Enter" && applyCustom());

/** Show the range the API answered for (presets resolve to days of the store). */
export function showRange(from, to) {
  document.getElementById("range-shown").textContent = from && to ? `${from} – ${to}` : "";
}

// --- API key -------------------------------------------------------------------------------------
const keyDialog = document.getElementById("key-dialog");
const keyInput = document.getElementById("key-input");
const keyError = document.getElementById("key-error");
const keyButton = document.getElementById("key-button");

function askForKey(message) {
  keyButton.hidden = false;
  keyError.hidden = !message;
  keyError.textContent = message || "";
  keyInput.value = "";
  if (!keyDialog.open) keyDialog.showModal();
  keyInput.focus();
}

function saveKey() {
  if (!keyInput.value.trim()) return;
  setKey(keyInput.value);
  keyDialog.close();
  render();
}
document.getElementById("key-save").addEventListener("click", saveKey);
keyInput.addEventListener("keydown", (e) => e.key === "Enter" && saveKey());
document.getElementById("key-forget").addEventListener("click", () => {
  setKey("");
  if (PRODUCTION) {
    askForKey("");
    return;
  }
  keyDialog.close();  // development: requests from this machine need no key
  render();
});
keyButton.addEventListener("click", () => askForKey(""));

// --- confirm dialog ------------------------------------------------------------------------------
const confirmDialog = document.getElementById("confirm-dialog");

/** Ask before something that cannot be undone; resolves true on Confirm. */
export function confirmAction(title, text, action = "Confirm") {
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-yes").textContent = action;
  confirmDialog.showModal();
  document.getElementById("confirm-no").focus();
  return new Promise((resolve) => {
    const done = (value) => () => {
      confirmDialog.close();
      resolve(value);
    };
    document.getElementById("confirm-yes").onclick = done(true);
    document.getElementById("confirm-no").onclick = done(false);
    confirmDialog.oncancel = done(false);
  });
}

/** A short message at the bottom of the page. */
export function toast(text, kind = "info") {
  const item = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  document.getElementById("toasts").append(item);
  setTimeout(() => item.remove(), 6000);
}

// --- rendering -----------------------------------------------------------------------------------

/** Called by screens with the `store` of their answer: instants follow its timezone. */
export function useStore(store) {
  setStore(store);
  document.getElementById("store-name").textContent = `${store.name} · ${store.currencyCode} · ${store.timezone}`;
}

/** Handle a failed screen request: a key problem opens the key dialog, others show in place. */
export function failed(error, where, retry) {
  if (error instanceof ApiError && error.code === "UNAUTHENTICATED") {
    const message = getKey() ? `The API key was refused: ${error.message} Enter a valid key.` : "";
    where.replaceChildren(errorBox(getKey() ? "the API key was refused (expired or revoked)." : "an API key is needed."));
    askForKey(message);
    return;
  }
  where.replaceChildren(errorBox(error.message, retry));
}

async function render() {
  const current = ++generation;
  const { screen, id, params } = route();
  syncPicker();
  document.querySelectorAll("nav a[data-screen]").forEach((link) => {
    const active = link.dataset.screen === screen || (screen === "customer" && link.dataset.screen === "customers");
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  });
  if (PRODUCTION && !getKey()) {
    main.replaceChildren(errorBox("an API key is needed to read this store."));
    askForKey("");
    return;
  }
  main.replaceChildren(loading());
  main.setAttribute("aria-busy", "true");
  const slow = setTimeout(() => {
    if (current === generation) main.querySelector(".state.loading")?.append(h("span", { class: "muted" }, " (this is taking longer than usual)"));
  }, 3000);
  try {
    const module = await SCREENS[screen]();
    if (current !== generation) return;
    await module.render({ main, id, params, isCurrent: () => current === generation });
  } catch (error) {
    if (current === generation) failed(error, main, render);
  } finally {
    clearTimeout(slow);
    if (current === generation) main.removeAttribute("aria-busy");
  }
}

if (PRODUCTION) {
  keyButton.hidden = false;
  document.getElementById("graphiql-link").hidden = true;  // GraphiQL is off in production
}
window.addEventListener("hashchange", render);
render();

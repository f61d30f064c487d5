// A small helper to build DOM trees without innerHTML (so no markup is ever parsed from API data) and
// the shared pieces of every screen: panels, loading, empty and error states.

import { freshness } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** h("div", {class: "x", onclick: f}, "text", otherNode) */
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
/** The same for SVG elements. */
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

/** A titled panel (a widget) with optional tools, its body and a freshness footer. */
export function panel({ title, id, tools, body, fresh, wide, note }) {
  return h("section", { class: `panel${wide ? " wide" : ""}`, "data-widget": id, "aria-labelledby": `${id}-title` },
    h("header", { class: "panel-head" }, h("h2", { id: `${id}-title` }, title), tools ? h("div", { class: "tools" }, tools) : null),
    body,
    note ? h("p", { class: "note muted" }, note) : null,
    fresh ? h("footer", { class: "fresh muted", "data-fresh": "" }, freshness(fresh)) : null);
}

export const loading = (what = "Loading…") => h("div", { class: "state loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), what);
export const empty = (what) => h("div", { class: "state empty" }, what);
export const errorBox = (message, retry) => h("div", { class: "state error", role: "alert" },
  h("strong", {}, "Could not load this: "), message,
  retry ? h("button", { type: "button", onclick: retry }, "Retry") : null);

/** Segmented buttons (aria-pressed) for a small set of choices. */
export function toggle(label, options, current, onChange) {
  return h("div", { class: "toggle", role: "group", "aria-label": label },
    options.map(([value, text]) => h("button", {
      type: "button", "aria-pressed": String(value === current), "data-value": value,
      onclick: () => value !== current && onChange(value),
    }, text)));
}

/** Tabs with arrow-key movement (WAI-ARIA tabs pattern); `render(value)` fills the panel. */
export function tabs(label, options, render) {
  const list = h("div", { role: "tablist", "aria-label": label, class: "tabs" });
  const body = h("div", { role: "tabpanel", tabindex: "0" });
  const buttons = options.map(([value, text], index) => h("button", {
    type: "button", role: "tab", "data-value": value, "aria-selected": String(index === 0), tabindex: index === 0 ? "0" : "-1",
    onclick: () => select(index),
    onkeydown: (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) { event.preventDefault(); select((index + step + options.length) % options.length, true); }
    },
  }, text));
  function select(index, focus) {
    buttons.forEach((button, i) => {
      button.setAttribute("aria-selected", String(i === index));
      button.tabIndex = i === index ? 0 : -1;
    });
    if (focus) buttons[index].focus();
    body.replaceChildren(render(options[index][0]));
  }
  list.append(...buttons);
  select(0);
  return h("div", {}, list, body);
}

/** A visually hidden table with a chart's numbers: for screen readers, and what tests read. */
export function dataTable(caption, columns, rows, testid) {
  // In a hidden box: a table is as wide as its content whatever its own width says.
  return h("div", { class: "sr-only" }, h("table", { "data-testid": testid },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell) => h("td", {}, cell)))))));
}

/** Replace the children of `element` (null and false children are left out). */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

// Hand-written SVG charts: a line chart and a bar chart (grouped or stacked), sized by their viewBox so
// they scale with the panel. Colours come from CSS classes (.c0 … .c5), never from style attributes.

import { s, h } from "./dom.js";
import { num } from "./format.js";

const NARROW = 640;
const WIDE = 1240;
const H = 260;
const PAD = { top: 12, right: 12, bottom: 32, left: 56 };

/** The top of the value axis: four equal steps of a round size that reach `value`. */
function niceMax(value) {
  if (value <= 0) return 4;
  const raw = value / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * power >= raw) * power;
  return step * 4;
}

function axes(svg, W, max, labels, xOf, yFormat) {
  const ticks = 4;  // niceMax divides the axis in four
  for (let i = 0; i <= ticks; i += 1) {
    const value = (max * i) / ticks;
    const y = PAD.top + (H - PAD.top - PAD.bottom) * (1 - i / ticks);
    svg.append(s("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
    svg.append(s("text", { class: "tick", x: PAD.left - 6, y: y + 4, "text-anchor": "end" }, yFormat(value)));
  }
  const every = Math.max(1, Math.ceil(labels.length / (W / 90)));
  labels.forEach((label, i) => {
    const last = i === labels.length - 1;
    if (i % every !== 0 && !(last && i % every > every / 2)) return;
    svg.append(s("text", { class: "tick", x: xOf(i), y: H - PAD.bottom + 16, "text-anchor": "middle" }, label));
  });
}

function legend(series) {
  return h("ul", { class: "legend" }, series.map((item, i) => h("li", {},
    h("span", { class: `swatch c${item.color ?? i}`, "aria-hidden": "true" }), item.name)));
}

/** Lines of `series` ({name, values, color}) over `labels`; `wide` for a panel across the page (the
 * viewBox is wider, so that the text keeps its size). */
export function lineChart({ labels, series, label, yFormat = num, wide = false }) {
  const W = wide ? WIDE : NARROW;
  const max = niceMax(Math.max(1, ...series.flatMap((item) => item.values.map(Number))));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const xOf = (i) => PAD.left + (labels.length <= 1 ? innerW / 2 : (innerW * i) / (labels.length - 1));
  const yOf = (v) => PAD.top + innerH * (1 - Number(v) / max);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  axes(svg, W, max, labels, xOf, yFormat);
  series.forEach((item, index) => {
    const color = item.color ?? index;
    const points = item.values.map((v, i) => `${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`).join(" ");
    svg.append(s("polyline", { class: `line c${color}`, points }));
    if (labels.length <= 60) {
      item.values.forEach((v, i) => svg.append(s("circle", { class: `dot c${color}`, cx: xOf(i), cy: yOf(v), r: 2.5 },
        s("title", {}, `${labels[i]} · ${item.name}: ${yFormat(v)}`))));
    }
  });
  return h("figure", { class: "figure" }, svg, legend(series));
}

/** Bars of `series` per category: side by side, or stacked. */
export function barChart({ labels, series, label, stacked = false, yFormat = num, wide = false }) {
  const W = wide ? WIDE : NARROW;
  const totals = labels.map((_, i) => series.reduce((sum, item) => sum + Number(item.values[i] || 0), 0));
  const max = niceMax(Math.max(1, ...(stacked ? totals : series.flatMap((item) => item.values.map(Number)))));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const band = innerW / Math.max(1, labels.length);
  const xOf = (i) => PAD.left + band * (i + 0.5);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  axes(svg, W, max, labels, xOf, yFormat);
  const groupW = band * 0.7;
  labels.forEach((category, i) => {
    let base = 0;
    series.forEach((item, index) => {
      const value = Number(item.values[i] || 0);
      const height = (innerH * value) / max;
      const width = stacked ? groupW : groupW / series.length;
      const x = stacked ? xOf(i) - groupW / 2 : xOf(i) - groupW / 2 + width * index;
      const y = PAD.top + innerH - height - (stacked ? (innerH * base) / max : 0);
      svg.append(s("rect", { class: `bar c${item.color ?? index}`, x, y, width: Math.max(1, width - 1), height },
        s("title", {}, `${category} · ${item.name}: ${yFormat(value)}`)));
      base += value;
    });
  });
  return h("figure", { class: "figure" }, svg, legend(series));
}

/** A horizontal proportion bar of parts ({name, value, color}); widths through CSSOM. */
export function shareBar(parts, label) {
  const total = parts.reduce((sum, part) => sum + Number(part.value || 0), 0) || 1;
  const bar = h("div", { class: "sharebar", role: "img", "aria-label": label });
  parts.forEach((part, i) => {
    const piece = h("span", { class: `piece c${part.color ?? i}`, title: `${part.name}: ${num(part.value)}` });
    piece.style.width = `${(100 * Number(part.value || 0)) / total}%`;
    bar.append(piece);
  });
  return bar;
}

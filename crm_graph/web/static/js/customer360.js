// Customer 360: one customer's profile, identities, consents, tags, revenue, RFM, predicted value,
// lifecycle stage, recent orders, products bought and recent activity, in one request.

import { gql } from "./api.js";
import { fill, h, panel, empty } from "./dom.js";
import { num, pct, cur, dec, instant, titleCase } from "./format.js";
import { navigate, rangeVariables, showRange, useStore } from "./main.js";

const MONEY = "{ amount currencyCode }";
/** The latest orders shown (the API pages through all of them). */
const ORDERS = 10;
/** The products shown (most units first) and the latest consent changes. */
const PRODUCTS = 12;
const HISTORY = 20;
export const QUERY = `
query Customer360($id: ID!, $range: DateRange, $preset: DatePreset) {
  store { name timezone currencyCode customerCount }
  customer(id: $id) {
    id email phone firstName lastName gender country city identified acquisitionChannel createdAt lastActivityAt
    ordersCount totalSpent ${MONEY} lifecycleStage
    identities { source externalId crmId }
    consents { channel bucket state optInLevel since }
    consentHistory(first: ${HISTORY}) { channel state occurredAt source reason }
    tags { name appliedAt source }
    revenue { totalSales ${MONEY} refunds ${MONEY} netRevenue ${MONEY} orders averageOrderValue ${MONEY} firstOrderAt lastOrderAt }
    spenderSegment { value frequency valueLow ${MONEY} valueHigh ${MONEY} frequentThreshold }
    rfm(range: $range, preset: $preset) { recencyDays frequency monetary ${MONEY} r f m fm segment }
    clv { expectedOrders12Months pAlive expectedOrderValue ${MONEY} predictedValue12Months ${MONEY} frequency recencyDays }
    orders(first: ${ORDERS}) { totalCount nodes { id externalId status placedAt total ${MONEY} lines { name quantity lineTotal ${MONEY} } } }
    productsBought(first: ${PRODUCTS}) { productId name orders quantity revenue ${MONEY} lastBoughtAt }
    recentEvents(first: 10) { kind occurredAt source }
  }
}`;

const facts = (pairs) => h("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]));

export async function render({ main, id, params, isCurrent }) {
  const { data } = await gql(QUERY, { id, ...rangeVariables(params) });
  if (!isCurrent()) return;
  useStore(data.store);
  showRange(null, null);
  const back = h("button", { type: "button", class: "link", onclick: () => history.length > 1 ? history.back() : navigate("customers") }, "← Back to the list");
  const c = data.customer;
  if (!c) {
    fill(main, back, h("h1", {}, "Customer not found"), empty(`This store has no customer ${id} (erased, or a wrong link).`));
    return;
  }
  const name = [c.firstName, c.lastName].filter(Boolean).join(" ") || c.email || `Customer ${c.id}`;
  fill(main, back, h("h1", { "data-testid": "customer-name" }, name),
    h("div", { class: "grid", "data-testid": "customer-360" },
      panel({ title: "Profile", id: "profile", body: facts([
        ["ID", c.id], ["Email", c.email], ["Phone", c.phone], ["Gender", titleCase(c.gender)],
        ["Location", [c.city, c.country].filter(Boolean).join(", ") || null], ["Identified", c.identified ? "yes" : "no"],
        ["Acquired through", c.acquisitionChannel], ["First seen", instant(c.createdAt)], ["Last activity", instant(c.lastActivityAt)],
        ["Lifecycle stage", c.lifecycleStage ? titleCase(c.lifecycleStage) : null],
        ["CRM IDs", c.identities.map((i) => `${i.crmId} (${i.source})`).join(", ") || null],
      ]) }),
      panel({ title: "Revenue", id: "revenue", body: facts([
        ["Orders", num(c.revenue.orders)], ["Total sales", cur(c.revenue.totalSales)], ["Refunds", cur(c.revenue.refunds)],
        ["Net revenue", h("span", { "data-testid": "net-revenue", "data-value": c.revenue.netRevenue.amount,
          "data-currency": c.revenue.netRevenue.currencyCode }, cur(c.revenue.netRevenue))],
        ["Average order", cur(c.revenue.averageOrderValue)],
        ["First / last order", `${instant(c.revenue.firstOrderAt)} / ${instant(c.revenue.lastOrderAt)}`],
        ["Spender segment", c.spenderSegment ? `${titleCase(c.spenderSegment.value)} value, ${titleCase(c.spenderSegment.frequency)}` : null],
      ]) }),
      panel({ title: "RFM and predicted value", id: "scores", body: facts([
        ["RFM segment", c.rfm ? `${titleCase(c.rfm.segment)} (R${c.rfm.r} · F${c.rfm.f} · M${c.rfm.m})` : "no orders in the range"],
        ["Recency", c.rfm ? `${num(c.rfm.recencyDays)} days` : null],
        ["P(alive)", c.clv ? pct(c.clv.pAlive) : "no prediction (no CLV fit covers this customer)"],
        ["Expected orders (12 months)", c.clv ? dec(c.clv.expectedOrders12Months) : null],
        ["Predicted value (12 months)", c.clv ? cur(c.clv.predictedValue12Months) : null],
      ]) }),
      panel({ title: "Consents and tags", id: "consents", body: h("div", {},
        facts(c.consents.map((x) => [x.channel === "EMAIL" ? "Email" : "SMS",
          `${titleCase(x.bucket)}${x.state ? ` (${titleCase(x.state)})` : ""}${x.since ? ` since ${instant(x.since)}` : ""}`])),
        h("p", {}, c.tags.length ? c.tags.map((t) => h("span", { class: "chip", title: `${t.source}, ${instant(t.appliedAt)}` }, t.name)) : h("span", { class: "muted" }, "No tags."))) }),
      panel({ title: "Recent orders", id: "orders", wide: true,
        note: c.orders.totalCount > c.orders.nodes.length ? `The latest ${num(c.orders.nodes.length)} of ${num(c.orders.totalCount)} orders.` : null,
        body: c.orders.nodes.length ? h("div", { class: "table-wrap" }, h("table", { class: "data" },
        h("thead", {}, h("tr", {}, ["Placed", "Order", "Status", "Items", "Total"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, c.orders.nodes.map((o) => h("tr", {}, h("td", {}, instant(o.placedAt)), h("td", {}, o.externalId), h("td", {}, titleCase(o.status)),
          h("td", {}, o.lines.map((l) => `${l.quantity}× ${l.name || "?"}`).join(", ")), h("td", { class: "num", "data-testid": "order-total", "data-value": o.total.amount, "data-currency": o.total.currencyCode }, cur(o.total)))))))
        : empty("No orders.") }),
      panel({ title: "Products bought", id: "products", body: c.productsBought.length ? h("ul", { class: "jobs" }, c.productsBought.map((p) =>
        h("li", {}, h("span", {}, p.name), h("span", { class: "muted" }, `${num(p.quantity)} units, ${cur(p.revenue)}, last ${instant(p.lastBoughtAt)}`))))
        : empty("Nothing bought yet.") }),
      panel({ title: "Recent activity", id: "events", body: c.recentEvents.length ? h("ul", { class: "jobs" }, c.recentEvents.map((e) =>
        h("li", {}, h("strong", {}, titleCase(e.kind)), h("span", { class: "muted" }, `${instant(e.occurredAt)} · ${e.source}`))))
        : empty("No recorded activity.") }),
      panel({ title: "Consent history", id: "consent-history", wide: true, body: c.consentHistory.length ? h("ul", { class: "jobs" },
        c.consentHistory.map((e) => h("li", {}, h("strong", {}, e.channel), titleCase(e.state),
          h("span", { class: "muted" }, `${instant(e.occurredAt)} · ${e.source}${e.reason ? ` · ${e.reason}` : ""}`))))
        : empty("No consent changes recorded.") })));
}

// GraphiQL on the local, vendored bundles (no CDN): opens with the query of the dashboard's first
// screen. Outside production, requests from this machine without a key act on the development store;
// other clients add `{"Authorization": "Bearer <key>"}` in the Headers tab (not persisted).
(function () {
  "use strict";
  var DASHBOARD_QUERY = [
    "# The first screen of the dashboard at / in one request: store, consent KPI cards,",
    "# spenders vs prospects, top tags and the RFM grid of the last 30 days.",
    "# Ctrl-Enter runs it; the Docs panel lists every field.",
    "query Dashboard($preset: DatePreset = LAST_30_DAYS) {",
    "  store { name timezone currencyCode customerCount }",
    "  dashboard(preset: $preset) {",
    "    from",
    "    to",
    "    comparisonDay",
    "    consentKpis { channel bucket value previous change relativeChange }",
    "    spendersProspects { spenders prospects customers }",
    "    activity { active lowRisk highRisk }",
    "    topTags { tag { name } customers }",
    "  }",
    "  rfmGrid(preset: $preset) {",
    "    scheme",
    "    cells { r fm segmentLabel customers revenue { amount currencyCode } shareOfCustomers }",
    "    prospects",
    "    freshness { computedAt source }",
    "  }",
    "}",
    "",
  ].join("\n");

  var params = new URLSearchParams(window.location.search);
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: DASHBOARD_QUERY,
    query: params.get("query") || undefined,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }));
})();

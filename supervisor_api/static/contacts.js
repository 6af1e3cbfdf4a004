/* The contacts behind a report figure. The page's own URL carries the list's parameters
 * (GET /api/v1/contacts: from, to, tz, queue, channel, agent, tag, outcome, within_sl, ...,
 * <metric>_gt|_gte|_lt|_lte); it shows the list's `total` (= the figure), pages on with
 * `next_cursor`, and links every contact to /contact?id=…. Behind a response-time figure (a
 * response_bucket, or the response-time card) it also shows `responses`, the figure itself: those
 * count responses, and a contact can hold several. The downloads are plain links to the
 * API with format=csv|ndjson: the browser streams every row to disk. */
(function () {
  "use strict";
  const TOKEN_KEY = "tablero.token";
  const { $, el } = window.TableroDom;
  const params = new URLSearchParams(location.search);
  const token = params.get("token") || localStorage.getItem(TOKEN_KEY) || "";
  if (params.get("token")) localStorage.setItem(TOKEN_KEY, params.get("token"));
  params.delete("token");
  // `metric` and `label` say which figure this list is behind; they are not list filters
  const metric = params.get("metric"), figureLabel = params.get("label");
  params.delete("metric");
  params.delete("label");
  const isNum = (x) => typeof x === "number" && isFinite(x);
  function fmtDuration(s) {
    if (!isNum(s)) return "–";
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(Math.round(s % 60)).padStart(2, "0") + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + String(Math.round((s % 3600) / 60)).padStart(2, "0") + "m";
    return (s / 86400).toFixed(1) + "d";
  }
  function outcome(c) {
    if (c.is_abandoned) return c.is_short_abandoned ? "abandoned (short)" : "abandoned";
    if (c.is_closed) return "closed";
    if (c.is_answered) return "answered";
    return "open";
  }
  const tz = params.get("tz") || "UTC";
  function fmtTime(iso) {
    if (!iso) return "–";
    try {
      return new Intl.DateTimeFormat(undefined, { timeZone: tz, year: "numeric", month: "short", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date(iso));
    } catch (e) { return iso; }
  }
  const COLUMNS = [
    ["contact_id", "Contact", (c) => el("a", { href: "/contact?id=" + encodeURIComponent(c.contact_id), text: c.contact_id })],
    ["created", "Created (" + tz + ")", (c) => fmtTime(c.created)],
    ["queue", "Queue"], ["channel", "Channel"],
    ["customer", "Customer", (c) => c.customer ? el("a", { href: "/contact?id=" + encodeURIComponent(c.contact_id) + "#journey", text: c.customer }) : "–"],
    ["agent", "Agent", (c) => c.agent || "–"],
    ["outcome", "Outcome", outcome],
    ["wait_s", "Wait", (c) => fmtDuration(c.wait_s)],
    ["first_response_s", "First response", (c) => fmtDuration(c.first_response_s)],
    ["handle_s", "Handle", (c) => fmtDuration(c.handle_s)],
    ["threshold_s", "SL threshold", (c) => fmtDuration(c.threshold_s)],
    ["is_within_sl", "Within SL", (c) => c.is_within_sl ? "yes" : "no"],
  ];
  if (params.has("response_bucket")) COLUMNS.push(["matching_responses", "Responses in bucket"]);
  let rows = [], next = null, total = null, responses = null;
  const countsResponses = params.has("response_bucket") || metric === "response_time_s";

  function describe() {
    const parts = [];
    for (const [k, v] of params.entries()) if (!["limit", "cursor"].includes(k)) parts.push(k + " = " + v);
    $("filters").textContent = parts.join(" · ");
    if (figureLabel) $("what").textContent = "contacts behind " + figureLabel;
  }

  function draw() {
    const head = el("tr", {}, ...COLUMNS.map(([k, t]) => el("th", { scope: "col", "data-key": k, text: t })));
    const body = rows.map((c) => el("tr", { "data-id": c.contact_id }, ...COLUMNS.map(([k, , f]) => {
      const v = f ? f(c) : (c[k] ?? "–");
      return el("td", { class: isNum(c[k]) ? "n" : "" }, typeof v === "string" ? document.createTextNode(v) : v);
    })));
    if (!body.length) body.push(el("tr", {}, el("td", { colspan: String(COLUMNS.length), class: "muted", text: "No contacts." })));
    $("table-contacts").replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
    $("total").textContent = total === null ? "…" : total.toLocaleString();
    $("responses").hidden = !(countsResponses && responses !== null);
    $("responses-n").textContent = responses === null ? "" : responses.toLocaleString();
    $("more").hidden = !next;
    $("shown").textContent = total === null ? "" : "showing " + rows.length.toLocaleString() + " of " + total.toLocaleString();
  }

  async function load(cursor) {
    const q = new URLSearchParams(params);
    q.set("limit", "100");
    if (cursor) q.set("cursor", cursor);
    const res = await fetch("/api/v1/contacts?" + q, { headers: { Authorization: "Bearer " + token } });
    if (!res.ok) {
      let why = "HTTP " + res.status;
      try { const d = (await res.json()).detail; why += ": " + (d && d.reason ? (d.param + ": " + d.reason) : d); } catch (e) { /* not JSON */ }
      $("error").textContent = "Could not load the contacts: " + why;
      document.body.dataset.loaded = "1";
      return;
    }
    const body = await res.json();
    if (!cursor) { rows = []; total = body.total ?? null; responses = body.responses ?? null; }
    rows = rows.concat(body.contacts || []);
    next = body.next_cursor || null;
    draw();
    document.body.dataset.loaded = "1";
  }

  async function definition() {
    const key = metric;
    if (!key) return;
    try {
      const res = await fetch("/api/v1/definitions", { headers: { Authorization: "Bearer " + token } });
      const m = ((await res.json()).metrics || []).find((x) => x.key === key);
      if (m) $("definition").textContent = m.label + ": " + m.formula + ". Counted at " + m.counted_at + "." + (m.excludes ? " Excludes " + m.excludes + "." : "");
    } catch (e) { /* the tooltip is optional */ }
  }

  const exportQuery = (fmt) => {
    const q = new URLSearchParams(params);
    for (const k of ["limit", "cursor"]) q.delete(k);
    q.set("format", fmt);
    q.set("token", token);
    return "/api/v1/contacts?" + q;
  };
  $("csv").href = exportQuery("csv");
  $("ndjson").href = exportQuery("ndjson");
  const back = new URLSearchParams();
  for (const k of ["from", "to", "tz", "queue", "channel", "agent", "tag", "by"]) if (params.get(k)) back.set(k, params.get(k));
  $("back").href = "/reports?" + back;
  $("more").addEventListener("click", () => load(next));
  describe();
  definition();
  window.tableroContacts = { load, rows: () => rows };
  load(null);
})();

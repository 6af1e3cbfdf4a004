/* One contact: GET /api/v1/contacts/{id} (derived values, the definitions and thresholds applied,
 * every event with its time; raw event data for admin and supervisor tokens) and
 * GET /api/v1/customers/{customer}/contacts (the customer's contacts on every channel). */
(function () {
  "use strict";
  const TOKEN_KEY = "tablero.token";
  const { $, el } = window.TableroDom;
  const params = new URLSearchParams(location.search);
  const token = params.get("token") || localStorage.getItem(TOKEN_KEY) || "";
  if (params.get("token")) localStorage.setItem(TOKEN_KEY, params.get("token"));
  const id = params.get("id") || "";
  const isNum = (x) => typeof x === "number" && isFinite(x);
  function fmtDuration(s) {
    if (!isNum(s)) return "–";
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(Math.round(s % 60)).padStart(2, "0") + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + String(Math.round((s % 3600) / 60)).padStart(2, "0") + "m";
    return (s / 86400).toFixed(1) + "d";
  }
  const fmtValue = (k, v) => v === null || v === undefined ? "–" : /_s$/.test(k) ? fmtDuration(v) + " (" + v + " s)"
    : /^(is_|has_)/.test(k) ? (v ? "yes" : "no") : String(v);
  const get = async (path) => {
    const res = await fetch(path, { headers: { Authorization: "Bearer " + token } });
    if (!res.ok) {
      let why = "HTTP " + res.status;
      try { const d = (await res.json()).detail; why += ": " + (d && d.reason ? d.param + ": " + d.reason : d); } catch (e) { /* not JSON */ }
      throw new Error(why);
    }
    return res.json();
  };
  function table(id, columns, rows, rowAttrs) {
    const head = el("tr", {}, ...columns.map(([, t]) => el("th", { scope: "col", text: t })));
    const body = rows.map((r) => el("tr", rowAttrs ? rowAttrs(r) : {}, ...columns.map(([k, , f]) => {
      const v = f ? f(r) : (r[k] ?? "–");
      return el("td", {}, typeof v === "string" ? document.createTextNode(v) : v);
    })));
    if (!body.length) body.push(el("tr", {}, el("td", { colspan: String(columns.length), class: "muted", text: "None." })));
    $(id).replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
  }
  function kv(id, pairs) {
    $(id).replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { "data-key": k }, typeof v === "string" ? document.createTextNode(v) : v)]));
  }

  async function load() {
    $("contact-id").textContent = id;
    let body;
    try { body = await get("/api/v1/contacts/" + encodeURIComponent(id)); }
    catch (e) { $("error").textContent = "Could not load contact " + id + ": " + e.message; document.body.dataset.loaded = "1"; return; }
    const c = body.contact, ex = body.explain;
    kv("summary", [["queue", c.queue], ["channel", c.channel], ["customer", c.customer || "–"], ["agent", c.agent || "–"],
      ["agents", (c.agents || []).join(", ") || "–"], ["created", c.created], ["answered", c.answered || "–"],
      ["first response", c.first_response || "–"], ["abandoned", c.abandoned || "–"], ["closed", c.closed || "–"],
      ["replies", String(c.replies)], ["transfers", String(c.transfers)], ["reopened", String(c.reopened)],
      ["CSAT", c.csat === null ? "–" : String(c.csat)],
      ["next contact", c.next_contact_id ? el("a", { href: "/contact?id=" + encodeURIComponent(c.next_contact_id), text: c.next_contact_id + " (" + c.next_contact_created + ")" }) : "–"]]);
    const counted = Object.entries(ex.counted_in || {}).filter(([, v]) => v).map(([k]) => k).join(", ");
    kv("applied", [["SL threshold", fmtDuration(ex.applied.threshold_s)], ["short abandon", fmtDuration(ex.applied.short_abandon_s)],
      ["SL formula", ex.applied.sl_formula || "default"], ["repeat window", ex.applied.repeat_contact_days + " days"],
      ["counted in", counted || "–"]]);
    table("table-explain", [["key", "Measure"], ["value", "Value", (r) => fmtValue(r.key, r.value)], ["meaning", "Meaning"],
      ["sql", "SQL", (r) => r.sql ? el("code", { class: "sql", text: r.sql }) : "(fact row)"]], ex.values,
      (r) => ({ "data-key": r.key }));
    table("table-events", [["time", "Time (UTC)"], ["since_created_s", "Since created", (e) => fmtDuration(e.since_created_s)],
      ["type", "Event"], ["agent", "Agent", (e) => e.agent || "–"], ["queue", "Queue"], ["source", "Source"],
      ["raw", "Raw", (e) => e.raw ? el("details", {}, el("summary", { text: "data" }), el("pre", { text: JSON.stringify(e.raw, null, 1) })) : "–"]],
      body.events, (e) => ({ "data-type": e.type }));
    if (c.customer) {
      $("customer-name").textContent = c.customer;
      try {
        const j = await get("/api/v1/customers/" + encodeURIComponent(c.customer) + "/contacts?limit=200");
        table("table-journey", [["created", "Created (UTC)"],
          ["contact_id", "Contact", (r) => r.contact_id === id ? r.contact_id + " (this one)" : el("a", { href: "/contact?id=" + encodeURIComponent(r.contact_id), text: r.contact_id })],
          ["channel", "Channel"], ["queue", "Queue"], ["agent", "Agent", (r) => r.agent || "–"],
          ["outcome", "Outcome", (r) => r.is_abandoned ? "abandoned" : r.is_closed ? "closed" : r.is_answered ? "answered" : "open"],
          ["wait_s", "Wait", (r) => fmtDuration(r.wait_s)], ["handle_s", "Handle", (r) => fmtDuration(r.handle_s)]],
          j.contacts, (r) => ({ class: r.contact_id === id ? "current" : "", "data-id": r.contact_id }));
      } catch (e) { $("error").textContent = "Could not load the customer's contacts: " + e.message; }
    } else {
      $("customer-name").textContent = "(this contact has no customer id)";
      table("table-journey", [["contact_id", "Contact"]], []);
    }
    document.body.dataset.loaded = "1";
  }
  load();
})();

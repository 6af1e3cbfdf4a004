/* Tablero planning page: GET /api/v1/planning/staffing (Authorization: Bearer <token>; token from
 * ?token= or localStorage "tablero.token"). URL parameters prefill the form (from, to, queue, channel,
 * model, target_sl, target_answer_s, shrinkage, tz). Charts: forecast vs actual volume, required vs
 * present agents per interval (uPlot). Table with CSV download (the server's CSV). Exposes
 * window.tableroPlanning = {data, charts} and sets body[data-loaded="1"] after each load. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "tablero.token";
  const params = new URLSearchParams(location.search);
  let token = params.get("token") || localStorage.getItem(TOKEN_KEY) || "";
  if (params.get("token")) localStorage.setItem(TOKEN_KEY, params.get("token"));
  const FIELDS = ["from", "to", "queue", "channel", "model", "target_sl", "target_answer_s", "shrinkage", "tz"];
  const charts = {};
  const state = { data: null, charts };
  window.tableroPlanning = state;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v; else if (v !== null && v !== undefined) e.setAttribute(k, v);
    }
    for (const k of kids) if (k) e.append(k);
    return e;
  }
  const isNum = (v) => typeof v === "number" && isFinite(v);
  const fmt = (v, d) => (isNum(v) ? v.toFixed(d === undefined ? 1 : d) : "");

  const today = new Date().toISOString().slice(0, 10);
  for (const f of FIELDS) if (params.get(f) !== null) $(f).value = params.get(f);
  if (!$("from").value) $("from").value = today;
  if (!$("to").value) $("to").value = today;

  function query(extra) {
    const q = new URLSearchParams();
    for (const f of FIELDS) { const v = $(f).value.trim(); if (v !== "") q.set(f, v); }
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q.toString();
  }

  async function get(extra) {
    const res = await fetch("/api/v1/planning/staffing?" + query(extra), {
      headers: { Authorization: "Bearer " + token } });
    if (res.status === 401 || res.status === 403) {
      askToken(res.status === 401 ? "The token was not accepted." : "This token cannot read planning.");
      throw new Error("HTTP " + res.status);
    }
    if (!res.ok) {
      let reason = "HTTP " + res.status;
      try { const b = await res.json(); const d = b.detail; reason = d && d.reason ? d.param + ": " + d.reason : (typeof d === "string" ? d : JSON.stringify(d)); } catch (e) { /* not JSON */ }
      throw new Error(reason);
    }
    return res;
  }

  async function load() {
    document.body.removeAttribute("data-loaded");
    $("error").textContent = "";
    $("load-status").textContent = "Loading…";
    if (!token) { askToken(""); return; }
    try {
      const data = await (await get()).json();
      state.data = data;
      render(data);
      $("load-status").textContent = "Updated " + new Date().toLocaleTimeString();
    } catch (e) {
      $("error").textContent = String(e.message || e);
      $("load-status").textContent = "Failed";
    }
    document.body.setAttribute("data-loaded", "1");
  }

  function card(key, title, value) {
    return el("div", { class: "card", "data-key": key }, el("span", { class: "card-label", text: title }),
      el("span", { class: "card-value", text: value }));
  }

  function render(d) {
    const s = d.summary || {};
    $("summary").replaceChildren(
      card("method", "Forecast method", d.method || "–"),
      card("model", "Staffing model", d.model === "a" ? "Erlang A" : d.model === "backlog" ? "Backlog" : "Erlang C"),
      card("intervals", "Intervals", String(s.intervals ?? 0)),
      card("understaffed", "Understaffed intervals", (s.understaffed_intervals ?? 0) + " of " + (s.past_intervals ?? 0)),
      card("shortfall", "Shortfall (agent-hours)", fmt(s.shortfall_agent_hours, 2)),
      card("surplus", "Surplus (agent-hours)", fmt(s.surplus_agent_hours, 2)));
    $("presence-note").textContent = s.presence === "agent_states"
      ? "Present = agents logged in (time-weighted, from agent states)."
      : "No agent states in this range: present = agents seen working contacts (a lower bound).";
    const rows = d.rows || [];
    const x = rows.map((r) => Date.parse(r.start) / 1000);
    const axis = { stroke: "#93a1b0", grid: { stroke: "#2c3640" }, ticks: { stroke: "#2c3640" } };
    const present = rows.map((r) => (r.agents_logged_in !== null && r.agents_logged_in !== undefined ? r.agents_logged_in : (r.past ? r.agents_seen : null)));
    chart("volume", $("chart-volume"), [x, rows.map((r) => r.forecast_volume), rows.map((r) => (r.past ? r.actual_volume : null))],
      [{ label: "forecast", stroke: "#4ea1ff", width: 2 }, { label: "actual", stroke: "#f2c14e", width: 1 }], axis);
    chart("agents", $("chart-agents"), [x, rows.map((r) => r.agents_required), rows.map((r) => (r.past ? r.agents_required_actual : null)), present],
      [{ label: "required (forecast)", stroke: "#4ea1ff", width: 2 }, { label: "required (actual)", stroke: "#e5534b", width: 1 },
        { label: "present", stroke: "#57ab5a", width: 2 }], axis);
    const cols = ["start", "forecast_volume", "forecast_aht_s", "agents_required", "staff_required", "actual_volume",
      "actual_aht_s", "actual_service_level", "agents_required_actual", "agents_logged_in", "agents_seen", "shortfall"];
    $("table-staffing").querySelector("thead").replaceChildren(el("tr", {}, ...cols.map((c) => el("th", { text: c.replace(/_/g, " ") }))));
    $("table-staffing").querySelector("tbody").replaceChildren(...rows.map((r) => el("tr", r.understaffed ? { class: "understaffed" } : {},
      ...cols.map((c) => el("td", { text: c === "start" ? r.start.slice(0, 16).replace("T", " ")
        : c === "actual_service_level" ? (isNum(r[c]) ? (r[c] * 100).toFixed(1) + "%" : "")
        : isNum(r[c]) ? (Number.isInteger(r[c]) ? String(r[c]) : r[c].toFixed(1)) : "" })))));
  }

  function chart(name, div, data, series, axis) {
    if (charts[name]) { charts[name].destroy(); delete charts[name]; }
    div.replaceChildren();
    if (!window.uPlot) { div.textContent = "Chart library missing."; return; }
    if (!data[0].length) { div.append(el("p", { class: "muted", text: "No intervals in this range." })); return; }
    charts[name] = new uPlot({ width: Math.max(300, div.clientWidth - 4), height: 240,
      series: [{}, ...series], axes: [axis, axis], scales: { x: { time: true } } }, data, div);
  }

  $("csv").addEventListener("click", async () => {
    try {
      const blob = await (await get({ format: "csv" })).blob();
      const a = el("a", { href: URL.createObjectURL(blob), download: "staffing.csv" });
      document.body.append(a); a.click(); a.remove();
    } catch (e) { $("error").textContent = String(e.message || e); }
  });

  function askToken(msg) {
    $("token-form").hidden = false;
    $("token-error").textContent = msg;
    document.body.setAttribute("data-loaded", "1");
  }
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("token-input").value.trim();
    localStorage.setItem(TOKEN_KEY, token);
    $("token-form").hidden = true;
    load();
  });
  $("controls").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  load();
})();

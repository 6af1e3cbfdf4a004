/* Small DOM helpers shared by the wallboard and the reports page (no framework). */
window.TableroDom = (function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  // el("div", {class: "x", text: "hi", "data-k": 1}, child, ...): null/false attributes are skipped
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k === "style") e.setAttribute("style", v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  };
  return { $, el };
})();

// daxlite console: theme toggle, confirmations, Ctrl+Enter, live SVG charts, stream tail.
"use strict";
(function () {
  const root = document.documentElement;
  const saved = localStorage.getItem("daxlite-theme");
  if (saved) root.dataset.theme = saved;
  function dark() {
    return root.dataset.theme ? root.dataset.theme === "dark"
      : matchMedia("(prefers-color-scheme: dark)").matches;
  }
  document.addEventListener("DOMContentLoaded", function () {
    const t = document.getElementById("theme");
    if (t) t.addEventListener("click", function () {
      root.dataset.theme = dark() ? "light" : "dark";
      localStorage.setItem("daxlite-theme", root.dataset.theme);
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.dataset.confirm)) e.preventDefault();
      });
    });
    document.querySelectorAll("textarea").forEach(function (a) {
      a.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && a.form) a.form.requestSubmit();
      });
    });
    const charts = document.querySelector(".charts[data-source]");
    if (charts) live(charts);
    const stream = document.getElementById("stream");
    if (stream) tail(stream);
  });

  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6"];
  function color(i) {
    return getComputedStyle(root).getPropertyValue(COLORS[i % COLORS.length]).trim();
  }
  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // Draws {name: [values]} (null = gap) as lines; fixedMax for ratios.
  function draw(svg, series, fixedMax) {
    const W = 600, H = 160, L = 44, R = 8, T = 8, B = 18;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const names = Object.keys(series);
    let n = 0, max = fixedMax || 0;
    names.forEach(function (k) {
      n = Math.max(n, series[k].length);
      if (!fixedMax) series[k].forEach(function (v) { if (v !== null && v > max) max = v; });
    });
    if (max <= 0) max = 1;
    svg.appendChild(el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
    svg.appendChild(el("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
    svg.appendChild(el("text", { x: 2, y: T + 8 }, fmt(max)));
    svg.appendChild(el("text", { x: 2, y: H - B }, "0"));
    svg.appendChild(el("text", { x: L, y: H - 4 }, n + " s"));
    names.slice(0, 12).forEach(function (k, i) {
      const vs = series[k];
      let d = "", pen = false;
      vs.forEach(function (v, j) {
        if (v === null || v === undefined) { pen = false; return; }
        const x = L + (n <= 1 ? 0 : (j + n - vs.length) * (W - L - R) / (n - 1));
        const y = H - B - (v / max) * (H - T - B);
        d += (pen ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
        pen = true;
      });
      svg.appendChild(el("path", { d: d, fill: "none", stroke: color(i), "stroke-width": 1.6 }));
      svg.appendChild(el("text", { x: W - R - 150, y: T + 10 + i * 11, fill: color(i), style: "fill:" + color(i) }, k));
    });
  }
  function fmt(v) {
    if (v >= 1048576) return (v / 1048576).toFixed(1) + "M";
    if (v >= 1024) return (v / 1024).toFixed(1) + "k";
    return (Math.round(v * 100) / 100).toString();
  }
  function sum(rates) {
    const out = [];
    Object.values(rates.series || {}).forEach(function (col) {
      col.forEach(function (v, i) { out[i] = (out[i] || 0) + v; });
    });
    while (out.length < (rates.t || []).length) out.push(0);
    return out;
  }
  function charts(data) {
    const out = {};
    if (data.hits) {
      const ratio = {};
      Object.keys(Object.assign({}, data.hits.series, data.misses.series)).forEach(function (t) {
        const h = data.hits.series[t] || [], m = data.misses.series[t] || [];
        ratio[t] = h.map(function (v, i) { const all = v + (m[i] || 0); return all ? v / all : null; });
      });
      out.ratio = [ratio, 1];
      out.hits = [{ hits: sum(data.hits), misses: sum(data.misses) }];
      out.bytes = [{ bytes: data.bytes.v, budget: data.max_bytes.v }];
      out.evictions = [{ "evicted bytes": sum(data.evicted), invalidations: sum(data.invalidations) }];
    }
    if (data.requests) {
      out.requests = [data.requests.series];
      const p99 = {};
      Object.keys(data.p99).forEach(function (k) { p99[k] = data.p99[k].v; });
      out.p99 = [p99];
      out.errors = [{ client: sum(data.client_errors), server: sum(data.server_errors), throttled: sum(data.throttled) }];
    }
    return out;
  }
  function live(box) {
    function tick() {
      fetch(box.dataset.source, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (data) {
          const c = charts(data);
          box.querySelectorAll("svg[data-chart]").forEach(function (svg) {
            const spec = c[svg.dataset.chart];
            if (spec) draw(svg, spec[0], spec[1]);
          });
          if (data.tables) ratios(data.tables);
        }).catch(function () {}).finally(function () { setTimeout(tick, 1000); });
    }
    tick();
  }
  function ratios(tables) {
    const body = document.querySelector("#ratios tbody");
    if (!body) return;
    body.textContent = "";
    tables.forEach(function (t) {
      const tr = document.createElement("tr");
      tr.dataset.table = t.table;
      [t.table, t.hits, t.misses, t.ratio].forEach(function (v, i) {
        const td = document.createElement("td");
        td.textContent = v;
        if (i > 0) td.className = i === 3 ? "num ratio" : "num";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function tail(table) {
    let pos = "", paused = false;
    const state = document.getElementById("stream-state");
    const from = document.getElementById("stream-from");
    const toggle = document.getElementById("stream-toggle");
    from.addEventListener("change", function () { pos = ""; });
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.textContent = paused ? "Resume" : "Pause";
    });
    const body = table.querySelector("tbody");
    function tick() {
      if (paused) { setTimeout(tick, 1000); return; }
      const q = "table=" + encodeURIComponent(table.dataset.table) + "&from=" + from.value + "&pos=" + pos;
      fetch("/console/api/stream?" + q, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (data) {
          if (data.error) { state.textContent = data.error; return; }
          pos = data.pos;
          state.textContent = "live, " + body.rows.length + " records shown";
          data.records.forEach(function (rec) {
            const tr = document.createElement("tr");
            const d = rec.dynamodb || {};
            const when = d.ApproximateCreationDateTime ? new Date(d.ApproximateCreationDateTime * 1000).toLocaleTimeString() : "";
            [when, rec.eventName, JSON.stringify(d.Keys || {}), d.SequenceNumber || ""].forEach(function (v) {
              const td = document.createElement("td");
              td.textContent = v;
              tr.appendChild(td);
            });
            body.insertBefore(tr, body.firstChild);
          });
          while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
        }).catch(function (e) { state.textContent = String(e); })
        .finally(function () { setTimeout(tick, 1000); });
    }
    tick();
  }
})();

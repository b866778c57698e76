/* plekzoeker map: context (streets, buildings, water, green) from the database, both candidate layers
   coloured by score on top, a side panel with the ranked list (filters, search, click to zoom) and a
   popup per candidate. No network access: everything is in the page. */
(function () {
  "use strict";
  var root = document.documentElement;
  function fail(msg) {
    var box = document.getElementById("pz-errors");
    if (box) { box.textContent += msg + "\n"; box.hidden = false; }
    root.setAttribute("data-pz-error", "1");
  }
  window.addEventListener("error", function (e) { fail(String(e.message || e)); });

  var cfg = JSON.parse(document.getElementById("pz-config").textContent);
  var data = JSON.parse(document.getElementById("pz-data").textContent);
  var KIND_WORDS = { vacant_building: "vacant building", undeveloped_plot: "undeveloped plot" };

  function colour(score) {
    for (var i = 0; i < cfg.classes.length; i++) {
      var c = cfg.classes[i];
      if (score >= c[0] && score < c[1]) { return c[2]; }
    }
    return cfg.nodata;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || v === "") { return "–"; }
    return typeof v === "number" ? v.toFixed(digits === undefined ? 0 : digits) : String(v);
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  var FACTS = [["excluded_reason", "veto"], ["flags", "to check"], ["zoning", "zoning"],
               ["zoning_verdict", "zoning verdict"], ["zoning_plan", "zoning plan"],
               ["zoning_functions", "designations"], ["zoning_max_floors", "max floors (plan)"],
               ["zoning_max_height_m", "max height (plan, m)", 1], ["bouwvlak_pct", "in building plane (%)", 0],
               ["energy_label", "energy label"],
               ["label_rule", "label-C rule applies"], ["monument", "monument"], ["bouwjaar", "built"],
               ["floors", "floors"], ["height_m", "height (m)", 1]];
  function people(p) {
    if (p.people_low === null || p.people_low === undefined) { return "unknown"; }
    return p.people_high !== null && p.people_high !== undefined && p.people_high !== p.people_low ?
      fmt(p.people_low) + "–" + fmt(p.people_high) : fmt(p.people_low);
  }
  /* built from DOM nodes with textContent: labels and evidence never become markup */
  function popup(p) {
    var box = el("div", null, "pz-popup");
    box.appendChild(el("div", "#" + fmt(p.rank) + " · " + (KIND_WORDS[p.kind] || p.kind), "pz-kind"));
    box.appendChild(el("div", p.label || p.candidate_key, "pz-label"));
    var t = el("table");
    function row(k, v) { var tr = el("tr"); tr.appendChild(el("th", k)); tr.appendChild(el("td", v)); t.appendChild(tr); }
    row("score", fmt(p.score, 3) + (typeof p.score_relative === "number" ? " (percentile " + fmt(p.score_relative * 100) + " in its municipality)" : ""));
    if (p.rank_range) { row("rank", p.rank_range); }
    if (p.why) { row("why", p.why); }
    if (p.people_low !== null && p.people_low !== undefined) {
      row("capacity", fmt(p.people_low) + "–" + fmt(p.people_high) + " people, " + fmt(p.homes_low) + "–" + fmt(p.homes_high) + " homes");
    }
    if (p.flags) { row("quick scan", p.flags); }
    if (p.offered) { row("offered", "offered by owner"); }
    row("area", fmt(p.area_m2) + " m²");
    if (p.kind === "vacant_building") { row("vacancy confidence", fmt(p.confidence, 2)); }
    row(p.kind === "vacant_building" ? "evidence" : "removed", p.evidence || "–");
    cfg.categories.forEach(function (c) {
      var v = p["dist_" + c[0] + "_m"];
      row(c[1], v === null || v === undefined ? "none within reach" : fmt(v) + " m");
    });
    /* the facts and vetoes that decide whether people can live there: shown when the publish has
       them; an empty value is unknown (no source covered it), never a guess */
    FACTS.forEach(function (f) {
      if (Object.prototype.hasOwnProperty.call(p, f[0])) {
        var v = p[f[0]];
        row(f[1], v === null || v === undefined || v === "" ? "unknown" :
            typeof v === "boolean" ? (v ? "yes" : "no") : typeof v === "number" ? fmt(v, f[2]) : String(v));
      }
    });
    if (Object.prototype.hasOwnProperty.call(p, "people_low")) { row("people", people(p)); }
    row("municipality", fmt(p.municipality));
    row("first seen", fmt(p.first_seen));
    row("outreach status", fmt(p.outreach_status));
    box.appendChild(t);
    if (typeof p.bag_viewer === "string" && p.bag_viewer.indexOf("https://") === 0) {
      var a = el("a", "open in the BAG viewer");
      a.href = p.bag_viewer; a.target = "_blank"; a.rel = "noopener noreferrer";
      box.appendChild(a);
    }
    box.appendChild(el("div", "A candidate to verify, not a verdict.", "pz-note"));
    return box;
  }

  var map = L.map("map", { preferCanvas: !!cfg.canvas, zoomSnap: 0.25, attributionControl: !!cfg.tiles });
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles.url, { attribution: cfg.tiles.attribution, maxZoom: 19 }).addTo(map);
  }

  /* --- context: below the candidates, not clickable ------------------------------------------ */
  map.createPane("pz-context");
  map.getPane("pz-context").style.zIndex = 350;
  map.getPane("pz-context").style.pointerEvents = "none";
  var CTX = {
    "water:water": { color: "#8fb8de", weight: 0.5, fillColor: "#b5d0ea", fillOpacity: 1 },
    "green:green": { color: "#b7d7a0", weight: 0.5, fillColor: "#d3e8c3", fillOpacity: 1 },
    "buildings:building": { color: "#b9aea3", weight: 0.6, fillColor: "#d9d0c7", fillOpacity: 1 },
    "streets:path": { color: "#a89f95", weight: 1, dashArray: "3 3", fill: false },
    "streets:minor": { color: "#ffffff", weight: 3.5, fill: false },
    "streets:major": { color: "#f5c76b", weight: 5, fill: false }
  };
  var context = data.context || { parts: [] }, ctxCount = 0, ctxLayer = L.featureGroup();
  ["water:water", "green:green", "buildings:building", "streets:path", "streets:minor", "streets:major"].forEach(function (k) {
    context.parts.forEach(function (part) {
      if (part.layer + ":" + part["class"] !== k) { return; }
      var st = CTX[k];
      ctxLayer.addLayer(L.geoJSON({ type: "Feature", properties: {}, geometry: part.geometry }, {
        pane: "pz-context", interactive: false,
        style: function () {
          return { className: "pz-ctx pz-ctx-" + part.layer + " pz-ctx-" + part.layer + "-" + part["class"], color: st.color,
                   weight: st.weight, fill: st.fill !== false, fillColor: st.fillColor, fillOpacity: st.fillOpacity,
                   dashArray: st.dashArray || null, opacity: 1 };
        }
      }));
      ctxCount += part.n;
    });
  });
  if (context.parts.length) { ctxLayer.addTo(map); }

  /* --- candidates ---------------------------------------------------------------------------- */
  var overlays = {}, bounds = L.latLngBounds([]), markers = 0, areas = 0, items = [];
  data.layers.forEach(function (layer) {
    var group = L.featureGroup();
    layer.polygons.features.forEach(function (f) {
      var p = f.properties;
      var area = L.geoJSON(f, {
        style: function () {
          return { className: "pz-area pz-" + layer.kind, color: "#232323", weight: 1, fillOpacity: 0.55,
                   fillColor: colour(typeof p.score_relative === "number" ? p.score_relative : p.score), dashArray: layer.kind === "undeveloped_plot" ? "5 3" : null };
        }
      });
      area.bindPopup(function () { return popup(p); });
      areas++;
      var item = { p: p, kind: layer.kind, area: area, marker: null, group: group, shown: true };
      var pt = layer.points[p.candidate_key];
      if (pt) {
        var m = L.circleMarker([pt[1], pt[0]], {
          className: "pz-marker pz-" + layer.kind, radius: 7, weight: layer.kind === "undeveloped_plot" ? 3 : 1.5,
          color: layer.kind === "undeveloped_plot" ? "#1f4e9c" : "#232323",
          fillColor: colour(typeof p.score_relative === "number" ? p.score_relative : p.score), fillOpacity: 0.95
        });
        m.bindPopup(function () { return popup(p); });
        /* a string would be set as innerHTML: give Leaflet a text-only element instead */
        m.bindTooltip(el("span", "#" + fmt(p.rank) + " " + (p.label || "")), { direction: "top" });
        item.marker = m;
        markers++;
      }
      group.addLayer(area);
      if (item.marker) { group.addLayer(item.marker); }
      items.push(item);
    });
    group.addTo(map);
    if (layer.polygons.features.length) { bounds.extend(group.getBounds()); }
    overlays[layer.title + " (" + layer.polygons.features.length + ")"] = group;
  });
  if (context.parts.length) { overlays["Context: streets, buildings, water, green"] = ctxLayer; }
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  items.sort(function (a, b) { return (a.p.rank || 1e9) - (b.p.rank || 1e9); });

  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var d = el("div", null, "pz-legend");
    d.appendChild(el("strong", "score"));
    cfg.classes.slice().reverse().forEach(function (c) {
      var r = el("div"); var sw = el("span", null, "pz-swatch"); sw.style.background = c[2];
      r.appendChild(sw); r.appendChild(document.createTextNode(" " + c[3])); d.appendChild(r);
    });
    d.appendChild(el("div", "dashed, blue ring: undeveloped plot", "pz-legend-note"));
    if (context.note) { d.appendChild(el("div", context.note, "pz-legend-note")); }
    return d;
  };
  legend.addTo(map);

  /* --- the list: filters, search, click to zoom ---------------------------------------------- */
  var $ = function (id) { return document.getElementById(id); };
  function options(select, values, words) {
    values.forEach(function (v) { var o = el("option", words ? (words[v] || v) : v); o.value = v; select.appendChild(o); });
  }
  function uniq(f) {
    var seen = {};
    items.forEach(function (it) { var v = f(it); if (v !== null && v !== undefined && v !== "") { seen[v] = 1; } });
    return Object.keys(seen).sort();
  }
  options($("pz-kind"), uniq(function (it) { return it.kind; }), KIND_WORDS);
  options($("pz-gm"), uniq(function (it) { return it.p.municipality; }));
  options($("pz-status"), uniq(function (it) { return it.p.outreach_status; }));
  var selected = null;
  function norm(s) { return String(s || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, ""); }
  function matches(it, f) {
    var p = it.p;
    if (f.kind && it.kind !== f.kind) { return false; }
    if (f.gm && p.municipality !== f.gm) { return false; }
    if (f.status && p.outreach_status !== f.status) { return false; }
    if (f.min > 0 && !(typeof p.score === "number" && p.score >= f.min - 1e-9)) { return false; }
    if (f.q && norm(p.label).indexOf(f.q) < 0 && norm(p.candidate_key).indexOf(f.q) < 0) { return false; }
    return true;
  }
  function zoomTo(it) {
    var b = it.area.getBounds();
    map.fitBounds(b.pad(0.6), { maxZoom: 18, animate: false });
    if (selected) { selected.classList.remove("pz-selected"); }
    (it.marker || it.area).openPopup(it.marker ? undefined : b.getCenter());
    root.setAttribute("data-pz-zoomed", it.p.candidate_key);
  }
  function render() {
    var f = { kind: $("pz-kind").value, gm: $("pz-gm").value, status: $("pz-status").value,
              min: parseFloat($("pz-min").value) || 0, q: norm($("pz-search").value.trim()) };
    $("pz-min-out").textContent = f.min.toFixed(2);
    var list = $("pz-list"), shown = 0;
    list.textContent = "";
    items.forEach(function (it) {
      var ok = matches(it, f);
      if (ok !== it.shown) {
        [it.area, it.marker].forEach(function (l) { if (l) { if (ok) { it.group.addLayer(l); } else { it.group.removeLayer(l); } } });
        it.shown = ok;
      }
      if (!ok) { return; }
      shown++;
      if (shown > cfg.list_max) { return; }
      var p = it.p, li = el("li", null, "pz-item pz-item-" + it.kind);
      li.setAttribute("data-key", p.candidate_key);
      li.appendChild(el("span", "#" + fmt(p.rank), "pz-rank"));
      li.appendChild(el("span", p.label || p.candidate_key, "pz-item-label"));
      var sc = el("span", fmt(p.score, 2), "pz-score"); sc.style.background = colour(typeof p.score_relative === "number" ? p.score_relative : p.score);
      li.appendChild(sc);
      li.appendChild(el("span", (KIND_WORDS[it.kind] || it.kind) + " · " + fmt(p.area_m2) + " m² · " +
                        (Object.prototype.hasOwnProperty.call(p, "people_low") ? people(p) + " people · " : "") +
                        fmt(p.municipality) + " · " + fmt(p.outreach_status), "pz-item-meta"));
      li.addEventListener("click", function () { zoomTo(it); li.classList.add("pz-selected"); selected = li; });
      list.appendChild(li);
    });
    if (shown > cfg.list_max) {
      list.appendChild(el("li", (shown - cfg.list_max) + " more: narrow the filter or search to list them", "pz-more"));
    }
    $("pz-count").textContent = shown + " of " + items.length + " candidates" +
      (shown > cfg.list_max ? " (first " + cfg.list_max + " listed)" : "");
    root.setAttribute("data-pz-listed", String(shown));
  }
  ["pz-kind", "pz-gm", "pz-status", "pz-min", "pz-search"].forEach(function (id) {
    $(id).addEventListener("input", render);
    $(id).addEventListener("change", render);
  });
  $("pz-filters").addEventListener("submit", function (e) { e.preventDefault(); });
  render();

  if (bounds.isValid()) { map.fitBounds(bounds.pad(0.1)); } else { map.setView([52.15, 5.3], 7); }
  root.setAttribute("data-pz-markers", String(markers));
  root.setAttribute("data-pz-areas", String(areas));
  root.setAttribute("data-pz-context", String(ctxCount));
  root.setAttribute("data-pz-ready", "1");
})();

/* plekzoeker map: both candidate layers coloured by score, a popup per candidate. No network access. */
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
  /* built from DOM nodes with textContent: labels and evidence never become markup */
  function popup(p) {
    var box = el("div", null, "pz-popup");
    box.appendChild(el("div", "#" + fmt(p.rank) + " · " + (p.kind === "vacant_building" ? "vacant building" : "undeveloped plot"), "pz-kind"));
    box.appendChild(el("div", p.label || p.candidate_key, "pz-label"));
    var t = el("table");
    function row(k, v) { var tr = el("tr"); tr.appendChild(el("th", k)); tr.appendChild(el("td", v)); t.appendChild(tr); }
    row("score", fmt(p.score, 3));
    row("area", fmt(p.area_m2) + " m²");
    if (p.kind === "vacant_building") { row("vacancy confidence", fmt(p.confidence, 2)); }
    row(p.kind === "vacant_building" ? "evidence" : "removed", p.evidence || "–");
    cfg.categories.forEach(function (c) {
      var v = p["dist_" + c[0] + "_m"];
      row(c[1], v === null || v === undefined ? "none within reach" : fmt(v) + " m");
    });
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
  var overlays = {}, bounds = L.latLngBounds([]), markers = 0, areas = 0;
  data.layers.forEach(function (layer) {
    var group = L.featureGroup();
    var areaLayer = L.geoJSON(layer.polygons, {
      style: function (f) {
        return { className: "pz-area pz-" + layer.kind, color: "#232323", weight: 1, fillOpacity: 0.55,
                 fillColor: colour(f.properties.score), dashArray: layer.kind === "undeveloped_plot" ? "5 3" : null };
      },
      onEachFeature: function (f, l) { l.bindPopup(function () { return popup(f.properties); }); areas++; }
    });
    group.addLayer(areaLayer);
    layer.polygons.features.forEach(function (f) {
      var pt = layer.points[f.properties.candidate_key];
      if (!pt) { return; }
      var m = L.circleMarker([pt[1], pt[0]], {
        className: "pz-marker pz-" + layer.kind, radius: 7, weight: layer.kind === "undeveloped_plot" ? 3 : 1.5,
        color: layer.kind === "undeveloped_plot" ? "#1f4e9c" : "#232323",
        fillColor: colour(f.properties.score), fillOpacity: 0.95
      });
      m.bindPopup(function () { return popup(f.properties); });
      /* a string would be set as innerHTML: give Leaflet a text-only element instead */
      m.bindTooltip(el("span", "#" + fmt(f.properties.rank) + " " + (f.properties.label || "")), { direction: "top" });
      group.addLayer(m);
      markers++;
    });
    group.addTo(map);
    if (layer.polygons.features.length) { bounds.extend(group.getBounds()); }
    overlays[layer.title + " (" + layer.polygons.features.length + ")"] = group;
  });
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);

  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var d = el("div", null, "pz-legend");
    d.appendChild(el("strong", "score"));
    cfg.classes.slice().reverse().forEach(function (c) {
      var r = el("div"); var sw = el("span", null, "pz-swatch"); sw.style.background = c[2];
      r.appendChild(sw); r.appendChild(document.createTextNode(" " + c[3])); d.appendChild(r);
    });
    d.appendChild(el("div", "dashed, blue ring: undeveloped plot", "pz-legend-note"));
    return d;
  };
  legend.addTo(map);

  if (bounds.isValid()) { map.fitBounds(bounds.pad(0.1)); } else { map.setView([52.15, 5.3], 7); }
  root.setAttribute("data-pz-markers", String(markers));
  root.setAttribute("data-pz-areas", String(areas));
  root.setAttribute("data-pz-ready", "1");
})();

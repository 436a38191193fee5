// The map component (templates/_macros/map.html). Every element with data-hotline-map becomes a Leaflet map:
// points from data-points (JSON) and/or data-points-url; tiles from data-tile-url when set. With no tile server
// (a government intranet) or when tiles fail to load, the points still show on a plain background. Coordinates are
// WGS-84; data-tile-system="gcj02" (高德-style tiles) shifts them for display.
(function () {
  "use strict";
  var PI = Math.PI, A = 6378245.0, EE = 0.00669342162296594323;
  function outOfChina(lat, lng) { return !(lng > 73.66 && lng < 135.05 && lat > 3.86 && lat < 53.55); }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
    return r + (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
    return r + (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
  }
  function toGcj(lat, lng) {
    if (outOfChina(lat, lng)) return [lat, lng];
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35), rad = lat / 180 * PI;
    var magic = 1 - EE * Math.sin(rad) * Math.sin(rad), s = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * s) * PI);
    dLng = (dLng * 180) / (A / s * Math.cos(rad) * PI);
    return [lat + dLat, lng + dLng];
  }
  function fromGcj(lat, lng) {
    var w = [lat, lng];
    for (var i = 0; i < 20; i++) { var g = toGcj(w[0], w[1]); w = [w[0] - (g[0] - lat), w[1] - (g[1] - lng)]; }
    return w;
  }

  function mount(el) {
    if (el.dataset.mounted) return;
    el.dataset.mounted = "1";
    var note = document.getElementById(el.id + "-note");
    var gcj = el.dataset.tileSystem === "gcj02";
    var show = function (lat, lng) { return gcj ? toGcj(lat, lng) : [lat, lng]; };
    var center = JSON.parse(el.dataset.center || "[39.9087,116.3975]");
    var points = JSON.parse(el.dataset.points || "[]");
    if (!window.L) { el.textContent = "地图组件未加载"; return; }
    var map = L.map(el, { zoomControl: true, attributionControl: !!el.dataset.tileUrl });
    var layer = L.featureGroup().addTo(map);
    el.hotlineMap = map;
    el.dataset.pointsShown = "0";
    if (el.dataset.tileUrl) {
      var tiles = L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.attribution || "", subdomains: "01234567", maxZoom: 18 });
      var failed = 0, loaded = 0;
      tiles.on("tileerror", function () {
        failed += 1;
        if (!loaded && failed >= 4) { el.classList.add("ev-map-offline"); if (note) note.textContent = "底图无法加载（离线），仅显示位置点"; }
      });
      tiles.on("tileload", function () { loaded += 1; });
      tiles.addTo(map);
    } else {
      el.classList.add("ev-map-offline");
      if (note) note.textContent = "未配置底图：仅显示位置点";
    }
    function add(list) {
      list.forEach(function (p) {
        var at = show(p.lat, p.lng);
        var color = p.urgency === "emergency" ? "#c00" : p.urgency === "urgent" ? "#e67e22" : "#1f6feb";
        var marker = L.circleMarker(at, { radius: 8, color: "#fff", weight: 2, fillColor: color, fillOpacity: 0.95 });
        if (p.label) marker.bindTooltip(p.label);
        if (p.url) marker.on("click", function () { window.location.assign(p.url); });
        marker.addTo(layer);
      });
      var count = layer.getLayers().length;
      el.dataset.pointsShown = String(count);
      if (count === 1) map.setView(layer.getLayers()[0].getLatLng(), 16);
      else if (count > 1) map.fitBounds(layer.getBounds().pad(0.1));
      if (note && count === 0 && !el.dataset.picker) note.textContent = (note.textContent ? note.textContent + "；" : "") + "暂无带坐标的工单";
    }
    map.setView(show(center[0], center[1]), 12);
    add(points);
    if (el.dataset.pointsUrl) {
      fetch(el.dataset.pointsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (body) { add(body.points || []); });
    }
    if (el.dataset.picker) {  // address picker: a click sets the pin and fills the lat/long inputs (WGS-84)
      var ids = el.dataset.picker.split(","), pin = null;
      map.on("click", function (e) {
        var wgs = gcj ? fromGcj(e.latlng.lat, e.latlng.lng) : [e.latlng.lat, e.latlng.lng];
        document.getElementById(ids[0]).value = wgs[0].toFixed(6);
        document.getElementById(ids[1]).value = wgs[1].toFixed(6);
        if (pin) layer.removeLayer(pin);
        pin = L.circleMarker(e.latlng, { radius: 9, color: "#fff", weight: 2, fillColor: "#c00", fillOpacity: 1 }).addTo(layer);
        if (note) note.textContent = "已选位置：" + wgs[0].toFixed(5) + ", " + wgs[1].toFixed(5);
      });
    }
  }

  function mountAll() { document.querySelectorAll("[data-hotline-map]").forEach(mount); }
  window.HotlineMap = { mount: mount, toGcj: toGcj, fromGcj: fromGcj };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();

// 大屏: today's figures, refreshed live. Every case event that reaches this page over Socket.IO (case.created,
// case.updated: hotline/realtime/publish.py, after the commit; realtime.js turns them into "hotline:case") makes
// it fetch today's figures again (debounced) and redraw the tables and their charts; a slow poll covers a lost
// connection.
(function () {
  "use strict";
  var root = document.getElementById("dash-screen");
  if (!root) return;
  var day = root.getAttribute("data-day");
  var timer = null;
  var POLL_MS = 60000;

  function api(path) {
    return fetch("/api/v1" + path, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); });
  }
  function fill(id, items) {
    var body = document.querySelector("#" + id + " tbody");
    if (!body) return;
    while (body.firstChild) body.removeChild(body.firstChild);
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-label", item[0]);
      tr.setAttribute("data-value", String(item[1]));
      [item[2] || item[0], String(item[1])].forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    if (window.hotlineDashboards) window.hotlineDashboards.redraw(id);
  }
  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = String(value);
  }

  function refresh() {
    var q = "?from=" + day + "&to=" + day;
    Promise.all([api("/stats/overview" + q), api("/stats/hot" + q + "&by=category&level=1&limit=8"),
      api("/stats/hot" + q + "&by=area&level=1&limit=10")])
      .then(function (got) {
        var o = got[0];
        text("screen-total", o.total);
        text("screen-previous", o.trend.previous.total);
        o.by_channel.forEach(function (c) {
          var el = root.querySelector('[data-channel="' + c.key + '"]');
          if (el) el.textContent = String(c.count);
        });
        fill("scr-hour", o.by_hour.map(function (h) { return [h.hour + "时", h.count, h.hour + " 时"]; }));
        fill("scr-channel", o.by_channel.map(function (c) { return [c.label, c.count]; }));
        fill("scr-hot", got[1].items.map(function (i) { return [i.label, i.count]; }));
        fill("scr-area", got[2].items.map(function (i) { return [i.label, i.count]; }));
        root.setAttribute("data-updates", String(Number(root.getAttribute("data-updates")) + 1));
        text("screen-updated", "已更新 " + new Date().toLocaleTimeString("zh-CN", { hour12: false }));
      })
      .catch(function () { text("screen-updated", "刷新失败，稍后重试"); });
  }
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  }
  document.addEventListener("hotline:case", soon);
  document.addEventListener("hotline:reset", soon);
  setInterval(refresh, POLL_MS);
  setInterval(function () { text("screen-clock", new Date().toLocaleTimeString("zh-CN", { hour12: false })); }, 1000);
  var full = document.getElementById("screen-full");
  if (full) {
    full.addEventListener("click", function () {
      if (document.fullscreenElement) document.exitFullscreen();
      else if (root.requestFullscreen) root.requestFullscreen();
    });
  }
})();

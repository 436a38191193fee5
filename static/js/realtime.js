// Live updates for staff pages: one Socket.IO connection to /console (browser session auth).
// Pages listen for DOM events "hotline:call" / "hotline:case" / "hotline:notification".
// After a reconnect the page asks /api/v1/console/changes?since=CURSOR for what it missed.
(function () {
  "use strict";
  if (typeof io === "undefined") return;
  var statusEl = document.getElementById("live-status");
  var KEY = "hotline.cursor";
  var cursor = parseInt(sessionStorage.getItem(KEY) || "0", 10) || 0;
  var connectedOnce = false;

  function setStatus(state, text) {
    if (!statusEl) return;
    statusEl.setAttribute("data-state", state);
    statusEl.textContent = text;
  }
  function remember(c) {
    if (c && c > cursor) { cursor = c; sessionStorage.setItem(KEY, String(c)); }
  }
  function fire(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }
  function catchUp() {
    if (!cursor) return;
    fetch("/api/v1/console/changes?since=" + cursor, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        body.items.forEach(function (item) { fire("hotline:case", Object.assign({ missed: true }, item)); });
        remember(body.cursor);
        if (body.items.length) fire("hotline:missed", { count: body.items.length });
      }).catch(function () {});
  }

  var socket = io("/console", { transports: ["websocket", "polling"] });
  socket.on("connect", function () {
    setStatus("up", "实时已连接");
    if (connectedOnce) catchUp();
    connectedOnce = true;
  });
  socket.on("disconnect", function () { setStatus("down", "实时连接已断开，正在重连…"); });
  socket.on("connect_error", function () { setStatus("down", "实时连接失败，正在重试…"); });
  socket.on("call.ringing", function (data) { fire("hotline:call", data); });
  ["case.created", "case.updated", "sla.card", "sla.cards"].forEach(function (name) {
    socket.on(name, function (data) { remember(data.cursor); fire("hotline:case", Object.assign({ event: name }, data)); });
  });
  socket.on("notification", function (data) { fire("hotline:notification", data); });
  window.hotlineSocket = socket;

  // Generic live regions: any element with data-live-region is re-fetched (debounced) on case events.
  var regions = document.querySelectorAll("[data-live-region]");
  var timer = null;
  function refreshRegions() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        regions.forEach(function (el) {
          var fresh = doc.querySelector('[data-live-region="' + el.getAttribute("data-live-region") + '"]');
          if (fresh) el.innerHTML = fresh.innerHTML;
        });
      }).catch(function () {});
  }
  if (regions.length) {
    document.addEventListener("hotline:case", function () {
      clearTimeout(timer);
      timer = setTimeout(refreshRegions, 300);
    });
  }
})();

// Live updates for staff pages: one Socket.IO connection to /console (browser session auth).
// Pages listen for DOM events "hotline:call" / "hotline:case" / "hotline:notification" (detail.missed is true
// for an event that was caught up instead of arriving live).
//
// Never missing silently (docs/api.md, Socket.IO): every event carries a cursor. The page starts at the cursor
// the server rendered (#live-status data-cursor) and asks GET /api/v1/console/changes?since=CURSOR for the events
// after it — on every (re)connect, when the tab becomes visible again, when the server says "console.resync"
// (its Redis listener reconnected, or an event did not reach it) and when a "console.heartbeat" names a cursor
// this page has not seen. Caught-up events are applied exactly like live ones, each cursor once.
(function () {
  "use strict";
  if (typeof io === "undefined") return;
  var statusEl = document.getElementById("live-status");
  var SEEN_MAX = 200; // live cursors remembered above the watermark before a fetch compacts them
  // watermark: every event for this page up to it has been applied (advanced by fetches only)
  var cursor = parseInt((statusEl && statusEl.getAttribute("data-cursor")) || "0", 10) || 0;
  var seen = {}; // cursors above the watermark applied from the socket
  var seenCount = 0;
  var fetching = false;
  var again = false;

  function setStatus(state, text) {
    if (!statusEl) return;
    statusEl.setAttribute("data-state", state);
    statusEl.textContent = text;
  }
  function fire(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }
  function apply(event, data, missed) {
    var c = data.cursor;
    if (typeof c === "number") {
      if (c <= cursor || seen[c]) return false; // already applied
      if (!missed) { seen[c] = true; seenCount++; }
    }
    var detail = Object.assign({ event: event }, data, missed ? { missed: true } : {});
    if (event === "call.ringing") fire("hotline:call", detail);
    else if (event === "notification") fire("hotline:notification", detail);
    else fire("hotline:case", detail);
    return true;
  }
  function advance(to) {
    if (to <= cursor) return;
    cursor = to;
    Object.keys(seen).forEach(function (k) { if (+k <= cursor) { delete seen[k]; seenCount--; } });
  }

  // One fetch at a time; a request for another while one runs makes it go round once more.
  function catchUp() {
    if (fetching) { again = true; return; }
    fetching = true;
    again = false;
    var first = !cursor; // no cursor (the page could not read one): start from the server's head, replay nothing
    var url = "/api/v1/console/changes?since=" + cursor + (first ? "&limit=1" : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        fetching = false;
        if (!body) return;
        if (first) { advance(body.head); return; }
        var count = 0;
        body.items.forEach(function (item) {
          if (apply(item.event, item.data, true)) count++;
        });
        if (body.reset) { // events were deleted (retention), or the server's log is behind this page (restore)
          cursor = body.next;
          seen = {};
          seenCount = 0;
          fire("hotline:reset", {});
          setStatus("stale", "部分实时消息已过期，请刷新页面");
        }
        advance(body.next);
        if (count) fire("hotline:missed", { count: count });
        if (body.more || again) catchUp();
      })
      .catch(function () { fetching = false; });
  }

  var socket = io("/console", { transports: ["websocket", "polling"] });
  socket.on("connect", function () {
    setStatus("up", "实时已连接");
    catchUp(); // what happened between the page's data and this connection, or while it was down
  });
  socket.on("disconnect", function () { setStatus("down", "实时连接已断开，正在重连…"); });
  socket.on("connect_error", function () { setStatus("down", "实时连接失败，正在重试…"); });
  ["case.created", "case.updated", "sla.card", "rating.poor", "call.ringing", "notification"].forEach(function (name) {
    socket.on(name, function (data) {
      apply(name, data, false);
      if (seenCount > SEEN_MAX) catchUp(); // compacts `seen` into the watermark
    });
  });
  socket.on("console.resync", function () { catchUp(); });
  socket.on("console.heartbeat", function (data) {
    if (data && data.cursor > cursor && !seen[data.cursor]) catchUp();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") catchUp();
  });
  window.hotlineSocket = socket;
  window.hotlineLive = { cursor: function () { return cursor; }, catchUp: catchUp };

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

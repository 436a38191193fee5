// The to-do bell on every staff page: the unread count rises live with each "notification" event
// (realtime.js fires "hotline:notification"), and a short toast names the notice with a link to its case.
(function () {
  "use strict";
  var counters = document.querySelectorAll("[data-bell-count]");
  var bell = document.getElementById("bell");
  if (!counters.length) return;

  function setCount(n) {
    counters.forEach(function (el) { el.textContent = String(n); });
    if (bell) {
      bell.classList.toggle("bell-unread", n > 0);
      bell.setAttribute("aria-label", "待办通知，未读 " + n + " 条");
    }
  }
  function count() { return parseInt(counters[0].textContent, 10) || 0; }

  function toast(detail) {
    var box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    var item = document.createElement("div");
    item.className = "toast";
    var text = document.createElement("span");
    text.textContent = detail.text || "新通知";
    item.appendChild(text);
    if (detail.case_number) {
      var link = document.createElement("a");
      link.href = "/cases/" + encodeURIComponent(detail.case_number);
      link.textContent = "去处理";
      item.appendChild(link);
    }
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
  }

  document.addEventListener("hotline:notification", function (e) {
    setCount(count() + 1);
    if (!e.detail.missed) toast(e.detail);
  });
})();

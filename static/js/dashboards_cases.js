// The cases behind a number: GET /api/v1/stats/cases with the page's own query string, shown as a table with links.
(function () {
  "use strict";
  var table = document.getElementById("drill-cases");
  if (!table) return;
  var summary = document.getElementById("drill-summary");
  var pages = document.getElementById("drill-pages");
  var params = new URLSearchParams(table.getAttribute("data-query") || "");
  var CHANNELS = { phone: "电话", web: "网站", wechat: "微信", app: "App", sms: "短信", walk_in: "来访" };
  var KINDS = { consult: "咨询", help: "求助", complaint: "投诉", report: "举报", suggestion: "建议", praise: "表扬" };

  function cell(tr, text, href) {
    var td = document.createElement("td");
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      a.className = "mono";
      td.appendChild(a);
    } else {
      td.textContent = text || "—";
    }
    tr.appendChild(td);
  }
  function load(page) {
    params.set("page", String(page));
    fetch("/api/v1/stats/cases?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        var body = table.querySelector("tbody");
        while (body.firstChild) body.removeChild(body.firstChild);
        if (!res.ok) { summary.textContent = res.body.error ? res.body.error.message : "加载失败"; return; }
        var b = res.body;
        summary.textContent = "共 " + b.total + " 件（" + (params.get("from") || "") + " 至 " + (params.get("to") || "") + "）";
        b.items.forEach(function (c) {
          var tr = document.createElement("tr");
          cell(tr, c.number, "/cases/" + encodeURIComponent(c.number));
          cell(tr, c.title);
          cell(tr, CHANNELS[c.channel] || c.channel);
          cell(tr, KINDS[c.kind] || c.kind);
          cell(tr, c.category_path);
          cell(tr, c.department_name);
          cell(tr, c.status_label);
          cell(tr, c.created_at ? new Date(c.created_at).toLocaleString("zh-CN", { hour12: false }) : "");
          body.appendChild(tr);
        });
        while (pages.firstChild) pages.removeChild(pages.firstChild);
        var last = Math.max(1, Math.ceil(b.total / b.per_page));
        if (last > 1) {
          if (b.page > 1) pages.appendChild(link("‹ 上一页", b.page - 1));
          var span = document.createElement("span");
          span.className = "current";
          span.textContent = "第 " + b.page + " / " + last + " 页";
          pages.appendChild(span);
          if (b.page < last) pages.appendChild(link("下一页 ›", b.page + 1));
        }
      })
      .catch(function () { summary.textContent = "加载失败，请刷新重试"; });
  }
  function link(text, page) {
    var a = document.createElement("a");
    a.href = "#";
    a.textContent = text;
    a.addEventListener("click", function (e) { e.preventDefault(); load(page); });
    return a;
  }
  load(Number(params.get("page")) || 1);
})();

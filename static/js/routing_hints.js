// Console registration: while the agent types, ask the router (emergency / out-of-scope / suggestions) and the
// duplicate check (并单), and show the answers next to the form. Emergency: one click registers the case and
// records the transfer to 110/119/120/122.
(function () {
  "use strict";
  var form = document.getElementById("case-form");
  var box = document.getElementById("routing-hints");
  if (!form || !box) return;
  var content = form.querySelector("[name=content]");
  var address = form.querySelector("[name=address]");
  var district = form.querySelector("[name=district]");
  var token = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var timer = null, seq = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function post(path, body) {
    return fetch("/api/v1" + path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : null; });
  }
  function place() {
    var label = district && district.selectedIndex > 0 ? district.options[district.selectedIndex].text : "";
    return (label.replace("（全区）", "") + (address ? address.value : "")).trim();
  }
  function render(s, d) {
    box.innerHTML = "";
    var any = false;
    if (s && s.emergency) {
      any = true;
      var banner = el("div", "banner banner-emergency");
      banner.setAttribute("role", "alert");
      banner.appendChild(el("strong", "", "疑似紧急情况，请立即转接 " + s.emergency + "（三方通话）"));
      var btn = el("button", "btn btn-danger", "登记并转接 " + s.emergency);
      btn.type = "submit"; btn.name = "transfer"; btn.value = s.emergency; btn.id = "transfer-button";
      banner.appendChild(btn);
      box.appendChild(banner);
    }
    if (s && s.out_of_scope) {
      any = true;
      var scope = el("div", "banner banner-warn");
      scope.appendChild(el("strong", "", "不属于派单范围（" + s.out_of_scope.reason + "），请答复指引，不派单："));
      scope.appendChild(el("p", "", s.out_of_scope.answer));
      box.appendChild(scope);
    }
    if (d && d.duplicates && d.duplicates.length) {
      any = true;
      var dup = el("div", "banner banner-warn");
      dup.appendChild(el("strong", "", "疑似重复工单（近 " + d.window_days + " 天、同一地点）："));
      var ul = el("ul", "case-mini-list");
      d.duplicates.forEach(function (c) {
        var li = el("li");
        var a = el("a", "mono", c.number);
        a.href = "/cases/" + encodeURIComponent(c.number); a.target = "_blank";
        li.appendChild(a);
        li.appendChild(el("span", "muted", " 相似度 " + Math.round(c.score * 100) + "% · " + (c.title || "")));
        ul.appendChild(li);
      });
      dup.appendChild(ul);
      dup.appendChild(el("p", "hint", "登记后可在工单页并入已有工单（并单），由主工单统一答复。"));
      box.appendChild(dup);
    }
    if (s && s.suggestions && s.suggestions.length) {
      any = true;
      var tip = el("p", "hint", "分类建议：" + s.suggestions.map(function (x) {
        return x.category + "（" + Math.round(x.score * 100) + "%）";
      }).join("、"));
      box.appendChild(tip);
    }
    box.hidden = !any;
  }
  function check() {
    var text = (content.value || "").trim();
    if (text.length < 4) { box.hidden = true; return; }
    var mine = ++seq, where = place();
    Promise.all([post("/routing/suggest", { content: text, address: where || null }),
                 post("/routing/duplicates", { content: text, address: where || null })])
      .then(function (res) { if (mine === seq) render(res[0], res[1]); })
      .catch(function () { /* hints are optional: registration works without them */ });
  }
  function later() { clearTimeout(timer); timer = setTimeout(check, 500); }
  [content, address].forEach(function (f) { if (f) f.addEventListener("input", later); });
  if (district) district.addEventListener("change", later);
})();

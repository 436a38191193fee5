// Agent console: pop the caller's file on call.ringing, link the registration form to the call.
(function () {
  "use strict";
  var panel = document.getElementById("call-panel");
  if (!panel) return;
  var STATUS = { registered: "已登记", dispatched: "已派单", handling: "办理中", returned: "已退回",
    replied: "已答复", reopened: "重办", closed: "已办结", merged: "已并单" };
  var current = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function caseItems(list, target, empty) {
    target.innerHTML = "";
    if (!list || !list.length) { target.appendChild(el("li", "muted", empty)); return; }
    list.forEach(function (c) {
      var li = el("li");
      var top = el("div", "row-top");
      var a = el("a", "mono", c.number || c.ref);
      if (c.number) a.href = "/cases/" + encodeURIComponent(c.number);
      top.appendChild(a);
      top.appendChild(el("span", "badge", c.status_label || STATUS[c.status] || c.status || ""));
      li.appendChild(top);
      li.appendChild(el("div", "row-title", c.title || ""));
      target.appendChild(li);
    });
  }

  document.addEventListener("hotline:call", function (ev) {
    var call = ev.detail;
    current = call;
    var file = call.citizen;
    document.getElementById("call-caller").textContent = call.caller;
    document.getElementById("call-meta").textContent = file
      ? ((file.name || "未留姓名") + " · 近期来电/来件 " + file.flags.contacts_recent + " 次")
      : "新来电人（暂无档案）";
    var flags = document.getElementById("call-flags");
    flags.innerHTML = "";
    if (file) {
      if (file.flags.repeat_caller) flags.appendChild(el("span", "flag flag-warn", "重复来电"));
      if (file.flags.poor_ratings) flags.appendChild(el("span", "flag flag-bad", "差评 " + file.flags.poor_ratings + " 次"));
      file.care.forEach(function (t) { flags.appendChild(el("span", "flag flag-care", t)); });
    }
    caseItems(file && file.open_cases, document.getElementById("call-open"), "无在办工单");
    caseItems(file && file.past_cases, document.getElementById("call-past"), "无历史工单");
    caseItems(file && file.records, document.getElementById("call-records"), "无");
    panel.hidden = false;
  });

  var use = document.getElementById("call-use");
  if (use) use.addEventListener("click", function () {
    if (!current) return;
    var form = document.getElementById("case-form");
    if (!form) return;
    document.getElementById("call-id").value = current.call_id;
    var linked = document.getElementById("call-linked");
    linked.hidden = false;
    linked.querySelector(".mono").textContent = current.call_id;
    var phone = form.querySelector("[name=phone]");
    if (phone) { phone.value = ""; phone.placeholder = "来电 " + current.caller + "（自动关联）"; }
    var content = form.querySelector("[name=content]");
    if (content) content.focus();
  });
})();

// Console knowledge base: suggestions while the agent types the case content (debounced fetch), "??words"+Enter
// searches, insert an entry as the answer, "not found"/"outdated" feedback to the owning unit.
(function () {
  "use strict";
  var panel = document.getElementById("kb-panel");
  if (!panel) return;
  var content = document.querySelector("#case-form textarea[name=content]");
  var box = document.getElementById("kb-q");
  var list = document.getElementById("kb-results");
  var status = document.getElementById("kb-status");
  var notFound = document.getElementById("kb-notfound");
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var FIELDS = [["conditions", "办理条件"], ["materials", "申请材料"], ["fees", "收费标准"], ["time_limit", "办理时限"],
    ["place", "办理地点"], ["hours", "办理时间"], ["phone", "咨询电话"], ["online", "网上办理"]];
  var timer = null, lastQuery = "", seq = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function api(url, body) {
    var opts = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body) {
      opts.method = "POST";
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRFToken"] = csrf;
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok) throw new Error((data.error && data.error.message) || ("HTTP " + resp.status));
        return data;
      });
    });
  }
  // "??words" at the end of the content box: the words are the query.
  function shortcut(text) {
    var m = /(?:\?\?|？？)([^?？\n]*)$/.exec(text);
    return m ? m[1].trim() : null;
  }
  function queryFromContent() {
    var text = content.value;
    var s = shortcut(text);
    if (s !== null) return s;
    return text.slice(-80).trim();
  }

  function search(q) {
    q = (q || "").trim();
    if (q.length < 2 || q === lastQuery) return;
    lastQuery = q;
    var mine = ++seq;
    status.textContent = "搜索中…";
    api(panel.dataset.search + "?limit=5&q=" + encodeURIComponent(q)).then(function (data) {
      if (mine !== seq) return;  // a newer search is on its way
      render(data.results, q);
    }).catch(function (err) { status.textContent = "知识库搜索失败：" + err.message; });
  }

  function render(results, q) {
    list.innerHTML = "";
    status.textContent = results.length ? "“" + q + "” 的推荐：" : "没有找到与“" + q + "”相关的条目";
    notFound.hidden = false;
    notFound.dataset.query = q;
    results.forEach(function (r) {
      var li = el("li", "kb-hit");
      li.dataset.id = r.id;
      var head = el("div", "kb-hit-head");
      head.appendChild(el("strong", "kb-title", r.title));
      head.appendChild(el("span", "badge", r.kind === "service_item" ? "服务事项" : "问答"));
      li.appendChild(head);
      li.appendChild(el("div", "muted small mono", r.code || ""));
      li.appendChild(el("p", "kb-snippet", r.snippet));
      var actions = el("div", "kb-actions");
      var use = el("button", "btn btn-small kb-use", "插入答复");
      use.type = "button";
      use.addEventListener("click", function () { insert(r); });
      var old = el("button", "btn btn-small kb-outdated", "内容过时");
      old.type = "button";
      old.addEventListener("click", function () {
        api(panel.dataset.feedback, { kind: "outdated", entry_id: r.id, query: q }).then(function () {
          old.disabled = true; old.textContent = "已反馈";
        }).catch(function (err) { status.textContent = err.message; });
      });
      actions.appendChild(use);
      actions.appendChild(old);
      li.appendChild(actions);
      list.appendChild(li);
    });
  }

  function insert(hit) {
    api(panel.dataset.entries + hit.id).then(function (e) {
      var lines = [e.title + "：" + (e.body || "")];
      FIELDS.forEach(function (f) { if (e.fields && e.fields[f[0]]) lines.push(f[1] + "：" + e.fields[f[0]]); });
      document.getElementById("kb-answer").value = lines.join("\n");
      document.getElementById("kb-id").value = e.id;
      document.getElementById("kb-cite").textContent = "引用 " + (e.code || e.id) + " " + e.title;
      document.getElementById("kb-answer-box").hidden = false;
      var kind = document.querySelector("input[name=kind][value=consult]");
      if (kind && !document.querySelector("input[name=kind]:checked")) kind.checked = true;
    }).catch(function (err) { status.textContent = "读取条目失败：" + err.message; });
  }

  if (content) {
    content.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { search(queryFromContent()); }, 300);
    });
    content.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter") return;
      var s = shortcut(content.value);
      if (s === null) return;
      ev.preventDefault();  // "??words" + Enter: search, and take the shortcut out of the case text
      content.value = content.value.replace(/(?:\?\?|？？)[^?？\n]*$/, "").replace(/\s+$/, "");
      box.value = s;
      lastQuery = "";
      search(s);
    });
  }
  box.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); lastQuery = ""; search(box.value); }
  });
  document.getElementById("kb-go").addEventListener("click", function () { lastQuery = ""; search(box.value); });
  notFound.addEventListener("click", function () {
    api(panel.dataset.feedback, { kind: "not_found", query: notFound.dataset.query || box.value }).then(function () {
      status.textContent = "已反馈给知识库管理员，谢谢！";
    }).catch(function (err) { status.textContent = err.message; });
  });
})();

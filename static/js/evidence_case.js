// The case page's evidence panel: drag-and-drop upload with progress (XMLHttpRequest to the API, the session and
// its CSRF token), then the list refreshed; thumbnails still being made are polled until the media job is done.
(function () {
  "use strict";
  var panel = document.getElementById("evidence-panel");
  if (!panel) return;
  var drop = document.getElementById("evidence-drop");
  var status = document.getElementById("evidence-status");
  var bar = document.getElementById("evidence-progress");
  var token = (document.querySelector("meta[name=csrf-token]") || {}).content || "";

  function refresh() { window.location.reload(); }

  function sendOne(file, kind) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("file", file, file.name);
      data.append("kind", kind);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", drop.dataset.uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (xhr.status === 201) resolve(file.name + "：已上传");
        else if (xhr.status === 200) resolve(file.name + "：与已有附件相同，未重复保存");
        else resolve(file.name + "：" + ((body.error && body.error.message) || ("上传失败（" + xhr.status + "）")));
      });
      xhr.addEventListener("error", function () { resolve(file.name + "：网络中断，上传失败"); });
      xhr.send(data);
    });
  }

  function upload(files) {
    if (!files || !files.length) return;
    var kind = document.getElementById("evidence-kind").value;
    bar.hidden = false;
    var results = [], list = Array.prototype.slice.call(files);
    var next = function () {
      if (!list.length) {
        status.textContent = results.join("；");
        panel.dataset.uploaded = String(results.length);
        setTimeout(refresh, 900);
        return;
      }
      var file = list.shift();
      status.textContent = "正在上传 " + file.name + "…";
      bar.value = 0;
      sendOne(file, kind).then(function (msg) { results.push(msg); next(); });
    };
    next();
  }

  if (drop) {
    ["dragenter", "dragover"].forEach(function (n) {
      drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.add("ev-over"); });
    });
    ["dragleave", "drop"].forEach(function (n) {
      drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.remove("ev-over"); });
    });
    drop.addEventListener("drop", function (e) { upload(e.dataTransfer.files); });
    drop.addEventListener("submit", function (e) { e.preventDefault(); });
    document.getElementById("evidence-file").addEventListener("change", function (e) { upload(e.target.files); });
  }

  // thumbnails being made: poll the list (every 2 s, at most a minute) and swap them in
  var tries = 0;
  function poll() {
    if (!panel.querySelector("[data-thumb=pending]") || tries++ > 30) return;
    fetch(panel.dataset.listUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        (body.items || []).forEach(function (item) {
          var li = panel.querySelector('li[data-id="' + item.id + '"]');
          if (!li || item.thumbnail_status !== "done" || li.dataset.thumb === "done") return;
          li.dataset.thumb = "done";
          var img = li.querySelector("img");
          if (img) img.src = item.thumbnail_url;
        });
        setTimeout(poll, 2000);
      });
  }
  setTimeout(poll, 2000);
})();

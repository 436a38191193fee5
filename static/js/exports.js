// Export progress (/exports/ID): polls GET /api/v1/exports/ID until done or failed.
(function () {
  var LABELS = { queued: "排队中，请稍候…", running: "正在导出…", done: "导出完成", failed: "导出失败" };
  function poll(box) {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.json(); })
      .then(function (data) {
        box.dataset.status = data.status;
        document.getElementById("export-state").textContent = LABELS[data.status] || data.status;
        var pct = Math.round((data.progress || 0) * 100);
        var bar = document.getElementById("export-bar");
        bar.value = pct;
        bar.textContent = pct + "%";
        document.getElementById("export-rows").textContent = data.rows;
        document.getElementById("export-total").textContent = data.total === null ? "—" : data.total;
        if (data.url) {
          var link = document.getElementById("export-download");
          link.href = data.url;
          link.hidden = false;
        }
        if (data.error) {
          var err = document.getElementById("export-error");
          err.textContent = data.error;
          err.hidden = false;
        }
        if (data.status !== "done" && data.status !== "failed") { window.setTimeout(function () { poll(box); }, 1000); }
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, 3000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("export-status");
    if (box && box.dataset.status !== "done" && box.dataset.status !== "failed") { poll(box); }
  });
})();

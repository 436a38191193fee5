// The case page's 公开/取消公开 control (supervisors): POST /api/v1/cases/NUMBER/publication {public} with the
// page's CSRF token, then reload; a refusal (e.g. a confidential case) is shown next to the button.
(function () {
  "use strict";
  function submit(event) {
    event.preventDefault();
    var form = event.currentTarget;
    var error = form.querySelector("[data-publication-error]");
    var meta = document.querySelector('meta[name="csrf-token"]');
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": meta ? meta.getAttribute("content") : "" },
      body: JSON.stringify({ public: form.getAttribute("data-public") === "true" }),
    })
      .then(function (resp) {
        if (resp.ok) {
          window.location.reload();
          return null;
        }
        return resp.json().then(function (body) {
          throw new Error((body && body.error && body.error.message) || "操作失败");
        });
      })
      .catch(function (err) {
        button.disabled = false;
        error.textContent = (err && err.message) || "操作失败，请稍后重试";
        error.hidden = false;
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-publication]").forEach(function (form) {
      form.addEventListener("submit", submit);
    });
  });
})();

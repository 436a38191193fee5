// Rating page: the large-font (大字) toggle, remembered on this device.
(function () {
  var page = document.getElementById("rating-page");
  var toggle = document.getElementById("font-toggle");
  if (!page || !toggle) return;
  function apply(on) {
    page.classList.toggle("large", on);
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? "标准字" : "大字";
  }
  var stored = null;
  try { stored = window.localStorage.getItem("hotline-large-font"); } catch (e) { /* private mode */ }
  apply(stored === "1" || /[?&]large=1/.test(window.location.search));
  toggle.addEventListener("click", function () {
    var on = !page.classList.contains("large");
    apply(on);
    try { window.localStorage.setItem("hotline-large-font", on ? "1" : "0"); } catch (e) { /* ignore */ }
  });
})();

/* Large-font / high-contrast switch: flips in place and remembers the choice (cookie for the server,
   localStorage as a backup). Without JavaScript the link does the same through /portal/a11y. */
(function () {
  var root = document.documentElement;
  var link = document.getElementById("a11y-toggle");
  function remember(on) {
    document.cookie = "portal_large=" + (on ? "1" : "0") + "; path=/; max-age=31536000; SameSite=Lax";
    try { window.localStorage.setItem("portal_large", on ? "1" : "0"); } catch (e) { /* private mode */ }
  }
  function show(on) {
    root.className = on ? "large" : "";
    if (link) {
      link.textContent = on ? "标准字体" : "大字模式";
      link.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }
  try {  // cookie lost (cleared by WeChat) but localStorage kept: restore it
    var saved = window.localStorage.getItem("portal_large");
    if (saved === "1" && !/(?:^|; )portal_large=1/.test(document.cookie)) { remember(true); show(true); }
  } catch (e) { /* ignore */ }
  if (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var on = root.className.indexOf("large") < 0;
      remember(on);
      show(on);
    });
  }
})();

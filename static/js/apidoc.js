// The API reference page (/api/docs): Swagger UI from static/vendor/ renders /api/v1/openapi.json.
// A static file, not inline script, so the page works under a Content-Security-Policy without 'unsafe-inline'.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("swagger-ui");
    if (!root) {
      return;
    }
    if (typeof window.SwaggerUIBundle !== "function") {
      root.textContent = "接口文档组件未安装（请运行 make install）；可直接下载 " + root.dataset.spec;
      return;
    }
    window.SwaggerUIBundle({
      url: root.dataset.spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      tryItOutEnabled: false,
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* 12345 hotline staff pages: small progressive enhancements (every page also works without them). */
(function () {
  "use strict";

  // Cascading category picker: choosing a level loads the children of the choice into the next select.
  function initCascade(box) {
    var source = box.getAttribute("data-source");
    var selects = Array.prototype.slice.call(box.querySelectorAll("select[data-level]"));
    var hint = document.getElementById("category-hint");
    var hintDefault = hint ? hint.textContent : "";

    function reset(select) {
      while (select.options.length > 1) select.remove(1);
      select.disabled = true;
    }

    function showHint() {
      if (!hint) return;
      for (var i = selects.length - 1; i >= 0; i--) {
        var opt = selects[i].selectedOptions[0];
        if (opt && opt.value && opt.dataset.department) {
          hint.textContent = "责任单位：" + opt.dataset.department + (opt.dataset.local === "true" ? "（属地办理，按事发区县/街道派单）" : "");
          return;
        }
      }
      hint.textContent = hintDefault;
    }

    selects.forEach(function (select, index) {
      var next = selects[index + 1];
      if (next && next.options.length <= 1 && !select.value) next.disabled = true;
      select.addEventListener("change", function () {
        showHint();
        if (!next) return;
        for (var j = index + 1; j < selects.length; j++) reset(selects[j]);
        if (!select.value) return;
        fetch(source + "?parent=" + encodeURIComponent(select.value), {
          credentials: "same-origin", headers: { Accept: "application/json" }
        }).then(function (resp) {
          if (!resp.ok) throw new Error("HTTP " + resp.status);
          return resp.json();
        }).then(function (data) {
          data.items.forEach(function (item) {
            var opt = new Option(item.name, String(item.id));
            opt.dataset.department = item.department || "";
            opt.dataset.local = String(item.local);
            next.add(opt);
          });
          next.disabled = data.items.length === 0;
        }).catch(function () {
          if (hint) hint.textContent = "分类加载失败，请刷新页面重试";
        });
      });
    });
  }

  // Confidentiality follows the kind (default on for 举报) until the agent sets it by hand.
  function initConfidential(box) {
    var defaultFor = box.getAttribute("data-default-for");
    var form = box.form;
    var touched = false;
    box.addEventListener("change", function () { touched = true; });
    form.querySelectorAll("input[type=radio][name=kind]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (!touched && radio.checked) box.checked = radio.value === defaultFor;
      });
    });
  }

  // Show a block only while a radio group has a given value: data-show-if="name=value".
  function initShowIf(block) {
    var parts = block.getAttribute("data-show-if").split("=");
    var radios = document.querySelectorAll("input[type=radio][name='" + parts[0] + "']");
    function update() {
      var checked = document.querySelector("input[type=radio][name='" + parts[0] + "']:checked");
      block.hidden = !checked || checked.value !== parts[1];
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  }

  // Live character count for long texts: data-counter="MAX".
  function initCounter(area) {
    var max = parseInt(area.getAttribute("data-counter"), 10);
    var out = document.createElement("span");
    out.className = "char-count";
    var label = area.parentNode.querySelector("label");
    (label || area.parentNode).appendChild(out);
    function update() {
      out.textContent = area.value.length + " / " + max;
      out.classList.toggle("over", area.value.length > max);
    }
    area.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-cascade]").forEach(initCascade);
    document.querySelectorAll("input[data-default-for]").forEach(initConfidential);
    document.querySelectorAll("[data-show-if]").forEach(initShowIf);
    document.querySelectorAll("textarea[data-counter]").forEach(initCounter);

    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var question = form.getAttribute("data-confirm");
        if (question && !window.confirm(question)) {
          event.preventDefault();
          return;
        }
        // One click, one submission: a double click must not register the same case twice.
        if (form.method.toLowerCase() === "post") {
          window.setTimeout(function () {
            form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
          }, 0);
        }
      });
    });
  });
})();

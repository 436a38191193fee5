// Citizen portal: photos / one video with the request (issue 18). Pictures are resized on the phone before the
// upload (canvas → JPEG, longest side data-max-edge) unless the citizen lets us use the photo's location (then the
// original goes, the server reads its GPS and strips it); the form is sent with XMLHttpRequest to show progress.
(function () {
  "use strict";
  var box = document.getElementById("ev-upload");
  if (!box) return;
  var form = box.closest("form");
  var inputs = box.querySelectorAll(".ev-input");
  var list = document.getElementById("ev-previews");
  var consent = document.getElementById("ev-consent");
  var maxPhotos = parseInt(box.dataset.maxPhotos || "6", 10);
  var maxEdge = parseInt(box.dataset.maxEdge || "1920", 10);
  var chosen = [];

  function render() {
    list.innerHTML = "";
    chosen.forEach(function (file, i) {
      var li = document.createElement("li");
      if (file.type.indexOf("image/") === 0) {
        var img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        li.appendChild(img);
      } else {
        li.appendChild(document.createTextNode("[视频] "));
      }
      li.appendChild(document.createTextNode(file.name));
      var drop = document.createElement("button");
      drop.type = "button";
      drop.textContent = "移除";
      drop.addEventListener("click", function () { chosen.splice(i, 1); render(); });
      li.appendChild(drop);
      list.appendChild(li);
    });
  }

  inputs.forEach(function (input) {
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (f) { chosen.push(f); });
      input.value = "";
      var videos = chosen.filter(function (f) { return f.type.indexOf("video/") === 0; });
      if (videos.length) chosen = [videos[videos.length - 1]];
      chosen = chosen.slice(0, maxPhotos);
      render();
    });
  });

  function resized(file) {
    return new Promise(function (resolve) {
      if (file.type.indexOf("image/") !== 0 || (consent && consent.checked) || !window.createImageBitmap) {
        resolve(file);
        return;
      }
      createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height));
        if (scale === 1 && file.size < 1024 * 1024) { resolve(file); return; }
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg" }));
        }, "image/jpeg", 0.85);
      }).catch(function () { resolve(file); });
    });
  }

  var locate = document.getElementById("ev-locate");
  if (locate) {
    locate.addEventListener("click", function () {
      var out = document.getElementById("ev-located");
      if (!navigator.geolocation) { out.textContent = "此浏览器无法定位，请填写地址"; return; }
      out.textContent = "正在定位…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("ev-lat").value = pos.coords.latitude.toFixed(6);
        document.getElementById("ev-long").value = pos.coords.longitude.toFixed(6);
        out.textContent = "已定位：" + pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5);
      }, function () { out.textContent = "未能定位，请填写地址"; }, { timeout: 10000 });
    });
  }

  form.addEventListener("submit", function (event) {
    if (!chosen.length || !window.FormData || !window.XMLHttpRequest) return; // plain form post
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    var progressBox = document.getElementById("ev-progress-box");
    var bar = document.getElementById("ev-progress");
    var text = document.getElementById("ev-progress-text");
    progressBox.hidden = false;
    text.textContent = "正在处理照片…";
    Promise.all(chosen.map(resized)).then(function (files) {
      var data = new FormData(form);
      data.delete("evidence");
      files.forEach(function (f) { data.append("evidence", f, f.name); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.round((e.loaded / e.total) * 100);
        bar.value = pct;
        text.textContent = "正在上传 " + pct + "%";
        box.dataset.progress = String(pct);
      });
      xhr.addEventListener("load", function () {
        bar.value = 100;
        if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL && xhr.responseURL !== form.action) {
          text.textContent = "上传完成";
          window.location.assign(xhr.responseURL);
        } else {
          document.open();
          document.write(xhr.responseText);
          document.close();
        }
      });
      xhr.addEventListener("error", function () {
        text.textContent = "网络中断，上传失败，请重试";
        if (button) button.disabled = false;
      });
      xhr.send(data);
    });
  });
})();

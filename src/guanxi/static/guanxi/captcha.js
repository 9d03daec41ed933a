/* Login captcha: "换一张" fetches a new challenge without reloading the form. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-captcha-refresh]") : null;
    if (!button) { return; }
    var box = button.closest("[data-captcha]");
    fetch(box.dataset.refreshUrl, { headers: { "X-Requested-With": "XMLHttpRequest" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        box.querySelector("input[type=hidden]").value = data.key;
        box.querySelector("img").src = data.image_url;
        var answer = box.querySelector("input[type=text]");
        answer.value = "";
        answer.focus();
      });
  });
})();

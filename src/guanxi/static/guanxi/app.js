/* Small page behaviours; every page also works without this file. */
(function () {
  "use strict";

  // Live clock in the system time zone, corrected for the browser's clock skew.
  function startClock(el) {
    var skew = Number(el.dataset.serverNow || Date.now()) - Date.now();
    var fmt = new Intl.DateTimeFormat("en-CA", {
      timeZone: el.dataset.timeZone || undefined, hourCycle: "h23",
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    function tick() {
      var p = {};
      fmt.formatToParts(new Date(Date.now() + skew)).forEach(function (x) { p[x.type] = x.value; });
      el.textContent = p.year + "-" + p.month + "-" + p.day + " " +
        p.hour + ":" + p.minute + ":" + p.second;
    }
    tick();
    setInterval(tick, 1000);
  }

  // Cascading region selects: <select data-region-child="#id_city" data-region-url="...">.
  function fillSelect(select, items) {
    var blank = select.querySelector("option[value='']");
    select.innerHTML = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = blank ? blank.textContent : "";
    select.appendChild(first);
    items.forEach(function (item) {
      var opt = document.createElement("option");
      opt.value = item.name;
      opt.textContent = item.name;
      select.appendChild(opt);
    });
  }

  function clearChain(select) {
    while (select) {
      fillSelect(select, []);
      select = select.dataset.regionChild ? document.querySelector(select.dataset.regionChild) : null;
    }
  }

  function onRegionChange(select) {
    var child = document.querySelector(select.dataset.regionChild);
    if (!child) { return; }
    clearChain(child);
    var params = new URLSearchParams();
    var province = document.querySelector(select.dataset.regionProvince || "#" + select.id);
    params.set("province", province ? province.value : select.value);
    if (select.dataset.regionProvince) { params.set("city", select.value); }
    if (!select.value) { return; }
    fetch(select.dataset.regionUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) { fillSelect(child, data.items || []); });
  }

  // Enterprise vs individual: show the USCC or the ID number field (never hide typed input).
  function applyCustomerType(form) {
    var checked = form.querySelector("input[name='customer_type']:checked");
    if (!checked) { return; }
    form.querySelectorAll("[data-show-for-type]").forEach(function (box) {
      var input = box.querySelector("input");
      var keep = input && input.value.trim() !== "";
      box.classList.toggle("d-none", box.dataset.showForType !== checked.value && !keep);
    });
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-region-child]")) { onRegionChange(el); }
    if (el.name === "customer_type" && el.form) { applyCustomerType(el.form); }
  });

  // Filter forms: leave empty fields out of htmx GETs so the pushed URL stays short and readable.
  document.addEventListener("htmx:configRequest", function (event) {
    var d = event.detail;
    if (d.verb !== "get" || !d.elt.closest || !d.elt.closest("form[data-drop-empty]")) { return; }
    Array.from(d.formData.keys()).forEach(function (key) {
      if (d.formData.getAll(key).every(function (v) { return v === ""; })) { d.formData.delete(key); }
    });
  });

  // Export forms post the filters as they are on screen now (htmx may have changed them
  // since the page loaded): the server-rendered copies are replaced on submit.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-copy-from]")) { return; }
    var source = document.querySelector(form.dataset.copyFrom);
    if (!source) { return; }
    form.querySelectorAll("input[data-copied]").forEach(function (el) { el.remove(); });
    new FormData(source).forEach(function (value, key) {
      if (value === "") { return; }
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = key;
      input.value = value;
      input.dataset.copied = "";
      form.appendChild(input);
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-clock]").forEach(startClock);
    document.querySelectorAll("form[data-customer-form]").forEach(applyCustomerType);
  });
})();

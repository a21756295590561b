// Small behaviours of the dashboard's forms, loaded by every page (no inline scripts: see the
// Content-Security-Policy in tillage.web.security).

// The data page: refuse a file over the upload limit here, before sending it.
document.querySelectorAll("form.upload").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    var input = form.querySelector('input[name="file"]');
    var message = form.querySelector("#upload-error");
    var file = input.files && input.files[0];
    if (file && file.size > Number(form.dataset.limit)) {
      event.preventDefault();
      message.textContent = message.dataset.tooLarge;
      message.hidden = false;
    } else {
      message.hidden = true;
    }
  });
});

// The strategy editor: a click on an error's line number selects that line in the editor.
document.querySelectorAll("a.line").forEach(function (link) {
  link.addEventListener("click", function (event) {
    event.preventDefault();
    var area = document.getElementById("strategy-text");
    var lines = area.value.split("\n");
    var line = Number(link.dataset.line);
    var start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    area.focus();
    area.setSelectionRange(start, start + lines[line - 1].length);
    area.scrollTop = (line - 3) * parseFloat(getComputedStyle(area).lineHeight || 18);
  });
});

// Meters (share of capacity used): the width comes from data-fill, as a style attribute in the
// page would need 'unsafe-inline' styles.
document.querySelectorAll(".meter > span[data-fill]").forEach(function (bar) {
  bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.fill))) + "%";
});

// The menu on a phone: folded behind its button, which opens and closes it.
document.querySelectorAll("header.top .menu-toggle").forEach(function (button) {
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    button.closest("header").classList.toggle("open", open);
  });
});

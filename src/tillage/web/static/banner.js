// The stale banner while a re-score runs: follow the job (an admin: its progress, from
// GET /api/v1/jobs/{id}; anyone else: GET /api/v1/freshness) and say when it has ended. The page
// is not reloaded, so that a form being filled in stays as it is.
(function () {
  var box = document.getElementById("stale-job");
  if (!box) return;
  var admin = box.dataset.admin === "1";
  var percent = document.getElementById("stale-job-percent");
  var url = admin ? "/api/v1/jobs/" + encodeURIComponent(box.dataset.job) : "/api/v1/freshness";
  function end(text) {
    box.textContent = text;
    box.dataset.state = "ended";
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) { setTimeout(poll, 10000); return; }
        if (!admin) {
          if (answer.stale === false) { end(box.dataset.done); return; }
        } else if (answer.state === "done") {
          end(box.dataset.done); return;
        } else if (answer.state === "failed") {
          end(box.dataset.failed); return;
        } else if (percent) {
          percent.textContent = Math.round(100 * answer.progress) + "%";
        }
        setTimeout(poll, admin ? 2000 : 5000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  poll();
})();

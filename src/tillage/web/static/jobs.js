// The Data page's progress bar: while a job runs, poll its status (GET /api/v1/jobs/{id}) and
// move the bar; when it ends, reload the page, which then lists it as done or failed.
(function () {
  var box = document.getElementById("job-progress");
  if (!box) return;
  var panel = document.getElementById("jobs");
  var labels = JSON.parse(panel.dataset.labels || "{}");
  var bar = document.getElementById("job-bar");
  var step = document.getElementById("job-step");
  var percent = document.getElementById("job-percent");
  var url = "/api/v1/jobs/" + encodeURIComponent(box.dataset.job);
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { setTimeout(poll, 5000); return; }
        bar.value = job.progress;
        percent.textContent = Math.round(100 * job.progress) + "%";
        if (job.step && labels[job.step]) step.textContent = labels[job.step];
        box.dataset.state = job.state;
        if (job.state === "done" || job.state === "failed") {
          window.location.replace("/data#jobs");
        } else {
          setTimeout(poll, 1000);
        }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();

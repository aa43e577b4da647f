/* FuseGuard dashboard: a capacity plan's charts.
 *
 * Draws what the server stored for a finished plan (json_script
 * "plan-chart-data"): each grid phase over a typical day against the fuse,
 * and each session's energy delivered against wanted. Nothing is fetched.
 */
(function () {
  "use strict";

  var source = document.getElementById("plan-chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var PHASE_COLOURS = ["#a16207", "#1f2937", "#6b7280"]; // IEC 60446 brown, black, grey, as on the site page
  var LIMIT_COLOUR = "#dc2626";
  var charts = {};
  window.FuseGuardPlan = { charts: charts };

  function dayChart(canvas) {
    var labels = data.typical_day.map(function (slot) { return slot.time; });
    var datasets = [];
    ["L1", "L2", "L3"].forEach(function (phase, p) {
      datasets.push({
        label: phase + " peak", data: data.typical_day.map(function (slot) { return slot.peak_a[p]; }),
        borderColor: PHASE_COLOURS[p], backgroundColor: PHASE_COLOURS[p], pointRadius: 0, borderWidth: 1.5, tension: 0,
      });
      datasets.push({
        label: phase + " mean", data: data.typical_day.map(function (slot) { return slot.mean_a[p]; }),
        borderColor: PHASE_COLOURS[p], backgroundColor: PHASE_COLOURS[p], pointRadius: 0, borderWidth: 1, borderDash: [4, 3],
      });
    });
    datasets.push({
      label: "Fuse", data: labels.map(function () { return Math.min.apply(null, data.fuse_a); }),
      borderColor: LIMIT_COLOUR, backgroundColor: LIMIT_COLOUR, pointRadius: 0, borderWidth: 2, borderDash: [8, 4],
    });
    return new Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, title: { display: true, text: "A" } }, x: { ticks: { maxTicksLimit: 13 } } },
      },
    });
  }

  function sessionsChart(canvas) {
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.sessions.map(function (s) { return s.label; }),
        datasets: [
          { label: "Wanted (kWh)", data: data.sessions.map(function (s) { return s.wanted_kwh; }), backgroundColor: "#d1d5db" },
          {
            label: "Delivered (kWh)", data: data.sessions.map(function (s) { return s.delivered_kwh; }),
            backgroundColor: data.sessions.map(function (s) { return s.delivered_kwh + 0.01 >= s.wanted_kwh ? "#059669" : "#dc2626"; }),
          },
        ],
      },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, title: { display: true, text: "kWh" } }, x: { ticks: { display: data.sessions.length <= 40 } } },
      },
    });
  }

  charts.day = dayChart(document.getElementById("plan-day-chart"));
  charts.sessions = sessionsChart(document.getElementById("plan-sessions-chart"));
})();

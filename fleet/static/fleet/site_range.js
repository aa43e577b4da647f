/* FuseGuard dashboard: the site page's chart range and zoom controls.
 *
 * The short ranges (10 min, 1 h) are the live window the page's poll fills;
 * the long ones (24 h, 7 days) draw the server's bucket means from
 * history.json, reloaded every minute, in place of the live window. Changing
 * the range empties every chart and resets its zoom; "Reset zoom" puts each
 * chart back on its whole window.
 */
(function () {
  "use strict";

  var RANGES = { "10m": { span: 600, live: true }, "1h": { span: 3600, live: true }, "24h": { span: 86400 }, "7d": { span: 604800 } };
  var HISTORY_REFRESH_MS = 60000; // the long ranges' buckets are a minute or more wide

  /* options: networks (id -> network, see site_chart.js), historyUrl, windowMs (the live window at first),
   * status (the page's window.FuseGuardDashboard: takes `range` and `loadedRange`),
   * onChange(live) (the range changed: restart the live poll's cursor, and poll now if `live`). */
  function controls(options) {
    var chart = window.FuseGuardSiteChart;
    var networks = options.networks;
    var range = "10m";
    var windowMs = options.windowMs;
    var historyTimer = null;
    options.status.range = range;

    /* Loads the bucket means of a long range and draws them in place of the live window. */
    function loadHistory() {
      clearTimeout(historyTimer);
      var wanted = range;
      fetch(options.historyUrl + "?range=" + encodeURIComponent(wanted), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (wanted !== range) return; // the operator moved on meanwhile
          var nowMs = Date.now();
          Object.keys(networks).forEach(function (id) {
            var network = networks[id];
            network.rows = [];
            if (data.networks[id] && network.chart) {
              chart.merge(network, data.networks[id], nowMs, windowMs);
              chart.redraw(network, nowMs, windowMs);
            }
          });
          options.status.loadedRange = wanted;
          historyTimer = setTimeout(loadHistory, HISTORY_REFRESH_MS);
        })
        .catch(function (error) {
          console.warn("history failed", error);
          historyTimer = setTimeout(loadHistory, HISTORY_REFRESH_MS);
        });
    }

    function setRange(key) {
      if (!RANGES[key]) return;
      range = key;
      options.status.range = key;
      windowMs = RANGES[key].span * 1000;
      clearTimeout(historyTimer);
      document.querySelectorAll("[data-range]").forEach(function (button) {
        button.setAttribute("aria-pressed", String(button.dataset.range === key));
      });
      Object.values(networks).forEach(function (network) {
        network.rows = [];
        if (network.chart && network.chart.resetZoom) network.chart.resetZoom("none");
      });
      options.onChange(Boolean(RANGES[key].live));
      if (!RANGES[key].live) {
        loadHistory();
      }
    }

    document.querySelectorAll("[data-range]").forEach(function (button) {
      button.addEventListener("click", function () { setRange(button.dataset.range); });
    });
    var resetZoom = document.getElementById("reset-zoom");
    if (resetZoom) {
      resetZoom.addEventListener("click", function () {
        Object.values(networks).forEach(function (network) {
          if (network.chart && network.chart.resetZoom) {
            network.chart.resetZoom("none");
            chart.redraw(network, Date.now(), windowMs);
          }
        });
      });
    }

    return {
      /* Whether the live poll's samples belong on the charts (a short range). */
      isLive: function () { return Boolean(RANGES[range].live); },
      /* How many seconds of samples the live poll asks for: the range's, or a token 10 s in a long range. */
      liveWindowS: function () { return RANGES[range].live ? RANGES[range].span : 10; },
      windowMs: function () { return windowMs; },
    };
  }

  window.FuseGuardSiteRange = { controls: controls };
})();

/* FuseGuard dashboard: the site page's live charts and tables.
 *
 * The page renders the latest state on the server; this script asks the
 * site's live.json every few seconds for the samples stored since its
 * cursor, keeps a sliding window of them per network, and redraws each
 * network's Chart.js chart and the chargers' table cells in place.
 */
(function () {
  "use strict";

  var page = document.getElementById("site-page");
  if (!page || typeof Chart === "undefined") {
    return;
  }

  var liveUrl = page.dataset.liveUrl;
  var historyUrl = page.dataset.historyUrl;
  var RANGES = { "10m": { span: 600, live: true }, "1h": { span: 3600, live: true }, "24h": { span: 86400 }, "7d": { span: 604800 } };
  var HISTORY_REFRESH_MS = 60000; // the long ranges' buckets are a minute or more wide
  var range = "10m";
  var historyTimer = null;
  var expanded = { grid: false, chargers: false }; // legend groups, collapsed to one entry each
  var pollMs = parseInt(page.dataset.pollMs, 10) || 3000;
  var windowMs = (parseInt(page.dataset.windowS, 10) || 600) * 1000;
  var PHASE_COLOURS = ["#a16207", "#1f2937", "#6b7280"]; // IEC 60446 brown, black, grey
  var CHARGER_COLOURS = ["#2563eb", "#059669", "#7c3aed", "#db2777", "#0891b2", "#ea580c"];
  var LIMIT_COLOUR = "#dc2626";

  var timeFormat = makeTimeFormat(page.dataset.timeZone);
  var clockFormat = makeTimeFormat(page.dataset.timeZone, { timeZoneName: "short" });
  var networks = {}; // network id -> {chart, limitA, rows, chargerKeys}
  var lastId = null;
  var timer = null;
  var inFlight = false;
  var state = { polls: 0, failures: 0 };

  window.FuseGuardDashboard = { networks: networks, state: state, range: range };

  function makeTimeFormat(timeZone, extra) {
    var options = Object.assign({ hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }, extra || {});
    try {
      return new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: timeZone }, options));
    } catch (error) {
      return new Intl.DateTimeFormat("en-GB", options); // an unknown zone: the browser's own
    }
  }

  /* Shades periods behind the lines: the fallback (amber) and external caps such as a grid
   * operator's dimming (blue); a span without an end lasts to the chart's right edge. */
  function shading(id, colour) {
    return {
      id: id,
      beforeDatasetsDraw: function (chart, args, options) {
        var spans = options.spans || [];
        var area = chart.chartArea;
        var x = chart.scales.x;
        var ctx = chart.ctx;
        ctx.save();
        ctx.fillStyle = options.colour || colour;
        spans.forEach(function (span) {
          var left = Math.max(area.left, x.getPixelForValue(span[0]));
          var right = span[1] === null ? area.right : Math.min(area.right, x.getPixelForValue(span[1]));
          if (right > left) {
            ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
          }
        });
        ctx.restore();
      },
    };
  }
  var fallbackShading = shading("fallbackShading", "rgba(245, 158, 11, 0.18)");
  var capShading = shading("capShading", "rgba(59, 130, 246, 0.12)");

  /* Ticks on whole minutes (or 2, 5, 10... minutes), so that the time axis reads like a clock. */
  function wholeMinuteTicks(scale) {
    var span = scale.max - scale.min;
    var steps = [60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3];
    var step = steps.find(function (candidate) { return span / candidate <= 8; }) || steps[steps.length - 1];
    var ticks = [];
    for (var t = Math.ceil(scale.min / step) * step; t <= scale.max; t += step) {
      ticks.push({ value: t });
    }
    if (ticks.length >= 2) {
      scale.ticks = ticks;
    }
  }

  function lineDataset(label, colour, extra) {
    return Object.assign(
      { label: label, data: [], borderColor: colour, backgroundColor: colour, borderWidth: 1.6, pointRadius: 0, spanGaps: false },
      extra || {}
    );
  }

  function createChart(network, info) {
    var canvas = document.getElementById("chart-" + info.id);
    if (!canvas) {
      return null;
    }
    var datasets = [
      lineDataset("L1", PHASE_COLOURS[0], { group: "grid" }),
      lineDataset("L2", PHASE_COLOURS[1], { group: "grid" }),
      lineDataset("L3", PHASE_COLOURS[2], { group: "grid" }),
      lineDataset("Limit per phase", LIMIT_COLOUR, { borderDash: [6, 4], borderWidth: 1.5, group: "grid" }),
    ];
    network.chargerKeys.forEach(function (key, index) {
      var colour = CHARGER_COLOURS[index % CHARGER_COLOURS.length];
      var name = network.chargerNames[key] || "charger " + key;
      datasets.push(lineDataset(name + " current", colour, { borderWidth: 1.4, group: "chargers" }));
      datasets.push(lineDataset(name + " setpoint", colour, { borderDash: [3, 3], stepped: true, borderWidth: 1.2, group: "chargers" }));
    });
    return new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      plugins: [capShading, fallbackShading],
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        maintainAspectRatio: false,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        scales: {
          x: {
            type: "linear",
            afterBuildTicks: wholeMinuteTicks,
            ticks: { autoSkip: true, maxRotation: 0, callback: function (value) { return timeFormat.format(new Date(value)); } },
            grid: { color: "#eef0f3" },
          },
          y: {
            title: { display: true, text: "A" },
            suggestedMin: 0,
            suggestedMax: Math.ceil(network.limitA * 1.15),
            grid: { color: "#eef0f3" },
          },
        },
        plugins: {
          legend: { position: "bottom", onClick: legendClick, labels: { boxWidth: 14, boxHeight: 2, usePointStyle: false, generateLabels: groupedLabels } },
          zoom: {
            // Drag or pinch to pan, wheel or pinch to zoom, along time only and within the range's data.
            pan: { enabled: true, mode: "x" },
            zoom: { wheel: { enabled: true }, pinch: { enabled: true }, mode: "x" },
            limits: { x: { min: "original", max: "original", minRange: 10000 } },
          },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? timeFormat.format(new Date(items[0].parsed.x)) : ""; },
              label: function (item) {
                return item.dataset.label + ": " + (item.parsed.y === null ? "–" : item.parsed.y.toFixed(1) + " A");
              },
            },
          },
          fallbackShading: { spans: [] },
          capShading: { spans: [] },
        },
      },
    });
  }

  var GROUP_LABELS = { grid: "Grid L1, L2, L3 and limit", chargers: "Chargers: current and setpoint" };

  /* The legend in two groups (grid, chargers), each one entry until it is opened to its lines. */
  function groupedLabels(chart) {
    var items = [];
    ["grid", "chargers"].forEach(function (group) {
      var members = [];
      chart.data.datasets.forEach(function (dataset, index) {
        if (dataset.group === group) members.push(index);
      });
      if (!members.length) return;
      var first = chart.data.datasets[members[0]];
      items.push({
        text: (expanded[group] ? "▾ " : "▸ ") + GROUP_LABELS[group] + (expanded[group] ? "" : " (" + members.length + ")"),
        fillStyle: first.borderColor, strokeStyle: first.borderColor, lineWidth: 2, fontColor: "#374151",
        hidden: members.every(function (index) { return !chart.isDatasetVisible(index); }),
        group: group, header: true,
      });
      if (expanded[group]) {
        members.forEach(function (index) {
          var dataset = chart.data.datasets[index];
          items.push({
            text: dataset.label, fillStyle: dataset.borderColor, strokeStyle: dataset.borderColor, lineWidth: 2,
            lineDash: dataset.borderDash || [], hidden: !chart.isDatasetVisible(index), datasetIndex: index, fontColor: "#374151",
          });
        });
      }
    });
    return items;
  }

  /* A group's entry opens or closes it; a line's entry shows or hides that line. */
  function legendClick(event, item, legend) {
    var chart = legend.chart;
    if (item.header) {
      expanded[item.group] = !expanded[item.group];
    } else {
      chart.setDatasetVisibility(item.datasetIndex, !chart.isDatasetVisible(item.datasetIndex));
    }
    Object.values(networks).forEach(function (network) { if (network.chart) network.chart.update("none"); });
  }

  /* Adds the new samples of one network to its window, in time order, and drops those that left it. */
  function mergeRows(network, series, nowMs) {
    var rows = network.rows;
    var outOfOrder = false;
    for (var i = 0; i < series.t.length; i++) {
      var row = { t: series.t[i], grid: [series.grid_a[0][i], series.grid_a[1][i], series.grid_a[2][i]], fallback: series.fallback[i], chargers: {} };
      Object.keys(series.chargers).forEach(function (key) {
        row.chargers[key] = [series.chargers[key].current_a[i], series.chargers[key].setpoint_a[i]];
      });
      if (rows.length && row.t < rows[rows.length - 1].t) {
        outOfOrder = true; // a late upload from the gateway's buffer
      }
      rows.push(row);
    }
    if (outOfOrder) {
      rows.sort(function (a, b) { return a.t - b.t; });
    }
    var newest = windowEnd(rows, nowMs);
    var start = 0;
    while (start < rows.length && rows[start].t < newest - windowMs) {
      start++;
    }
    if (start) {
      rows.splice(0, start);
    }
  }

  function fallbackSpans(rows) {
    var spans = [];
    var open = null;
    rows.forEach(function (row, index) {
      if (row.fallback && open === null) {
        open = row.t;
      } else if (!row.fallback && open !== null) {
        spans.push([open, row.t]);
        open = null;
      }
      if (open !== null && index === rows.length - 1) {
        spans.push([open, row.t]);
      }
    });
    return spans;
  }

  /* The chart ends at the server's now, so a gateway that falls silent shows as lines that stop;
   * or at the newest sample, should the gateway's clock run ahead. */
  function windowEnd(rows, nowMs) {
    return Math.max(nowMs || 0, rows.length ? rows[rows.length - 1].t : 0) || Date.now();
  }

  function redraw(network, nowMs) {
    var chart = network.chart;
    var rows = network.rows;
    var sets = chart.data.datasets;
    for (var phase = 0; phase < 3; phase++) {
      sets[phase].data = rows.map(function (row) { return { x: row.t, y: row.grid[phase] }; });
    }
    var newest = windowEnd(rows, nowMs);
    var oldest = newest - windowMs;
    sets[3].data = [{ x: oldest, y: network.limitA }, { x: newest, y: network.limitA }];
    network.chargerKeys.forEach(function (key, index) {
      sets[4 + 2 * index].data = rows.map(function (row) { return { x: row.t, y: (row.chargers[key] || [null])[0] }; });
      sets[5 + 2 * index].data = rows.map(function (row) { return { x: row.t, y: (row.chargers[key] || [null, null])[1] }; });
    });
    if (!(chart.isZoomedOrPanned && chart.isZoomedOrPanned())) {
      chart.options.scales.x.min = oldest; // a zoomed chart stays where the operator put it
      chart.options.scales.x.max = newest;
    }
    chart.options.plugins.fallbackShading.spans = fallbackSpans(rows);
    chart.options.plugins.capShading.spans = network.capSpans || [];
    chart.update("none");
  }

  /* The same short durations as the server's pages ("45 s", "12 min", "3 h 5 min"). */
  function durationText(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    minutes %= 60;
    if (hours < 24) return minutes ? hours + " h " + minutes + " min" : hours + " h";
    var days = Math.floor(hours / 24);
    hours %= 24;
    return hours ? days + " d " + hours + " h" : days + " d";
  }

  function formatA(value) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(1);
  }

  function setBadge(element, status, label) {
    if (!element) {
      return;
    }
    element.className = "badge badge-" + status;
    element.textContent = label;
  }

  function badge(status, label) {
    var span = document.createElement("span");
    setBadge(span, status, label);
    return span;
  }

  function replaceWith(cell, node) {
    if (cell) {
      cell.replaceChildren(node);
    }
  }

  /* Greys a reading older than its freshness limit (or from a lost meter), with its age as the tooltip. */
  function markStale(node, stale, title) {
    node.classList.toggle("stale", Boolean(stale));
    if (stale) {
      node.title = title;
    } else {
      node.removeAttribute("title");
    }
  }

  function updateTables(section, info, now) {
    info.chargers.forEach(function (charger) {
      var row = section.querySelector('tr[data-charger-id="' + charger.id + '"]');
      if (!row) {
        return;
      }
      var availability = charger.available === null ? badge("unknown", "No data")
        : charger.available ? badge("normal", "Available") : badge("gateway_offline", "Unavailable");
      replaceWith(row.querySelector('[data-field="available"]'), availability);
      row.querySelector('[data-field="setpoint"]').textContent = charger.setpoint_a === null ? "—" : formatA(charger.setpoint_a) + " A";
      row.querySelector('[data-field="current"]').textContent = charger.current_a ? charger.current_a.map(formatA).join(" / ") + " A" : "—";
      var reason = row.querySelector('[data-field="reason"]');
      reason.textContent = charger.reason_text || "—";
      reason.title = charger.reason || "";
      markStale(row, charger.stale, charger.age ? "Last reported " + charger.age + " ago" : "");
      var age = row.querySelector('[data-field="age"]');
      if (age) age.textContent = charger.stale && charger.age ? " · " + charger.age + " old" : "";
    });
    if (info.meter) {
      var meter = info.meter;
      var meterBadge = meter.available === null ? badge("unknown", "No reading yet")
        : meter.available ? badge("normal", "Reading") : badge("meter_lost", "Lost");
      replaceWith(section.querySelector('[data-field="meter-state"]'), meterBadge);
      var reading = section.querySelector('[data-field="meter-last-reading"]');
      if (reading && meter.last_reading_at) {
        reading.textContent = durationText((Date.parse(now) - Date.parse(meter.last_reading_at)) / 1000) + " ago";
      }
      showFact(section, "meter-lost-since", meter.lost_since ? zonedText(meter.lost_since) : "");
      showFact(section, "meter-detail", meter.detail || "");
    }
    var gridNow = section.querySelector('[data-field="grid-now"]');
    if (gridNow && info.grid_current_a) {
      gridNow.textContent = info.grid_current_a.map(formatA).join(" / ") + " A";
      if (info.grid_stale) {
        var old = document.createElement("span");
        old.className = "age";
        old.textContent = " (" + (info.grid_age || "age unknown") + " old)";
        gridNow.append(old);
      }
      markStale(gridNow, info.grid_stale, info.grid_age ? "Last reading, " + info.grid_age + " old" : "");
    }
    setBadge(document.getElementById("network-status-" + info.id), info.status, info.status_label);
  }

  /* A fact row of the meter panel: shown with its text, or hidden while there is none. */
  function showFact(section, name, text) {
    var row = section.querySelector('[data-row="' + name + '"]');
    if (row) {
      row.hidden = !text;
      row.querySelector('[data-field="' + name + '"]').textContent = text;
    }
  }

  var dateFormat = makeTimeFormat(page.dataset.timeZone, { year: "numeric", month: "2-digit", day: "2-digit", timeZoneName: "short" });

  /* A time as the server writes it: "2026-11-30 13:00:05 CET", in the page's zone. */
  function zonedText(iso) {
    var parts = {};
    dateFormat.formatToParts(new Date(iso)).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute + ":" + parts.second + " " + parts.timeZoneName;
  }

  /* The site's open incidents, redrawn on every poll (the section hides when there are none). */
  function updateIncidents(incidents) {
    var section = document.getElementById("site-incidents");
    var list = document.getElementById("site-incident-list");
    if (!section || !list) {
      return;
    }
    section.hidden = incidents.length === 0;
    list.replaceChildren.apply(list, incidents.map(function (incident) {
      var item = document.createElement("li");
      item.dataset.incidentId = incident.id;
      var kind = document.createElement("strong");
      kind.textContent = incident.kind_label;
      item.append(kind, ": " + incident.subject + " for " + incident.lasted);
      var tags = [];
      if (incident.flapping) tags.push("flapping");
      if (incident.folded) tags.push("explained by the gateway");
      if (incident.acknowledged) {
        tags.push("acknowledged by " + (incident.acknowledged_by || "someone") + (incident.acknowledgement_note ? ": " + incident.acknowledgement_note : ""));
      }
      tags.forEach(function (text) {
        var tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = text;
        item.append(" ", tag);
      });
      return item;
    }));
  }

  function apply(data) {
    var nowMs = Date.parse(data.now);
    setBadge(document.getElementById("site-status"), data.site.status, data.site.status_label);
    updateIncidents(data.incidents || []);
    data.networks.forEach(function (info) {
      var section = document.querySelector('section.network[data-network-id="' + info.id + '"]');
      if (!section) {
        return;
      }
      var network = networks[info.id];
      if (!network) {
        network = networks[info.id] = {
          limitA: info.limit_a,
          rows: [],
          chargerKeys: info.chargers.map(function (charger) { return String(charger.id); }),
          chargerNames: {},
        };
        info.chargers.forEach(function (charger) { network.chargerNames[String(charger.id)] = charger.name; });
        network.chart = createChart(network, info);
      }
      var series = data.samples.networks[info.id];
      network.capSpans = info.cap_spans || [];
      if (series && network.chart && RANGES[range].live) {
        mergeRows(network, series, nowMs);
        redraw(network, nowMs);
      }
      updateTables(section, info, data.now);
    });
    if (data.samples.last_id !== null && data.samples.last_id !== undefined) {
      lastId = data.samples.last_id;
    }
  }

  function showIndicator(kind, text) {
    var indicator = document.getElementById("live-indicator");
    if (indicator) {
      indicator.dataset.state = kind;
      indicator.querySelector(".live-text").textContent = text;
    }
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(poll, delay);
  }

  function poll() {
    if (document.hidden || inFlight) {
      return; // resumed by the visibilitychange listener, or by the answer under way
    }
    inFlight = true;
    // In a long range the poll keeps the tables and incidents current; its samples would not fit the buckets.
    var windowS = RANGES[range].live ? RANGES[range].span : 10;
    var url = liveUrl + "?window_s=" + windowS + (lastId === null ? "" : "&after=" + encodeURIComponent(lastId));
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        inFlight = false;
        if (response.status === 401 || response.status === 403) {
          throw new Error("signed-out");
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        apply(data);
        state.polls++;
        state.failures = 0;
        showIndicator("live", "Live · updated " + clockFormat.format(new Date(data.now)));
        schedule(pollMs);
      })
      .catch(function (error) {
        inFlight = false;
        if (error.message === "signed-out") {
          showIndicator("error", "Signed out: reload the page to sign in again");
          return;
        }
        state.failures++;
        console.error("live update failed", error);
        showIndicator("error", "Connection lost, retrying…");
        schedule(Math.min(pollMs * Math.pow(2, state.failures), 60000)); // back off while the server is away
      });
  }

  /* Loads the bucket means of a long range and draws them in place of the live window. */
  function loadHistory() {
    clearTimeout(historyTimer);
    var wanted = range;
    fetch(historyUrl + "?range=" + encodeURIComponent(wanted), { credentials: "same-origin", headers: { Accept: "application/json" } })
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
            mergeRows(network, data.networks[id], nowMs);
            redraw(network, nowMs);
          }
        });
        window.FuseGuardDashboard.loadedRange = wanted;
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
    window.FuseGuardDashboard.range = key;
    windowMs = RANGES[key].span * 1000;
    clearTimeout(historyTimer);
    document.querySelectorAll("[data-range]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.range === key));
    });
    Object.values(networks).forEach(function (network) {
      network.rows = [];
      if (network.chart && network.chart.resetZoom) network.chart.resetZoom("none");
    });
    lastId = null;
    if (RANGES[key].live) {
      schedule(0);
    } else {
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
          redraw(network, Date.now());
        }
      });
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      schedule(0);
    }
  });

  poll();
})();

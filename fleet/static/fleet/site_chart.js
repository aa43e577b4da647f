/* FuseGuard dashboard: a network's chart on the site page (Chart.js with the zoom plugin).
 *
 * Draws the grid current per phase against the per-phase limit and each
 * charger's current and setpoint over a time window, shaded where the network
 * was in fallback or under an external cap. A network is a plain object the
 * page keeps ({limitA, chargerKeys, chargerNames, rows, capSpans, chart});
 * `merge` adds samples to its window and `redraw` draws it. The legend groups
 * (grid, chargers) open and close on every chart of the page at once.
 */
(function () {
  "use strict";

  var PHASE_COLOURS = ["#a16207", "#1f2937", "#6b7280"]; // IEC 60446 brown, black, grey
  var CHARGER_COLOURS = ["#2563eb", "#059669", "#7c3aed", "#db2777", "#0891b2", "#ea580c"];
  var LIMIT_COLOUR = "#dc2626";
  var GROUP_LABELS = { grid: "Grid L1, L2, L3 and limit", chargers: "Chargers: current and setpoint" };
  var expanded = { grid: false, chargers: false }; // legend groups, collapsed to one entry each
  var charts = []; // every chart of the page, redrawn when a legend group opens or closes

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

  /* The network's chart on `canvas`, its times written with `timeFormat` (an Intl.DateTimeFormat). */
  function create(canvas, network, timeFormat) {
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
    var chart = new Chart(canvas, {
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
    charts.push(chart);
    return chart;
  }

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
    charts.forEach(function (each) { each.update("none"); });
  }

  /* Adds the new samples of one network to its window, in time order, and drops those that left it. */
  function merge(network, series, nowMs, windowMs) {
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

  /* Draws the network's rows over the `windowMs` before its end; a zoomed chart stays where the operator put it. */
  function redraw(network, nowMs, windowMs) {
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
      chart.options.scales.x.min = oldest;
      chart.options.scales.x.max = newest;
    }
    chart.options.plugins.fallbackShading.spans = fallbackSpans(rows);
    chart.options.plugins.capShading.spans = network.capSpans || [];
    chart.update("none");
  }

  window.FuseGuardSiteChart = { create: create, merge: merge, redraw: redraw };
})();

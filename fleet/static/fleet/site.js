/* FuseGuard dashboard: the site page, live.
 *
 * The page renders the latest state on the server; this script asks the
 * site's live.json every few seconds (`FuseGuardLive.poller`) for the samples
 * stored since its cursor and redraws in place: each network's chart
 * (site_chart.js) while a live range is chosen (site_range.js), the meter
 * panel, the chargers' table cells, the status badges and the open incidents.
 */
(function () {
  "use strict";

  var page = document.getElementById("site-page");
  if (!page || typeof Chart === "undefined") {
    return;
  }

  var live = window.FuseGuardLive;
  var siteChart = window.FuseGuardSiteChart;
  var timeFormat = live.zonedFormat(page.dataset.timeZone);
  var dateFormat = live.zonedFormat(page.dataset.timeZone, { year: "numeric", month: "2-digit", day: "2-digit", timeZoneName: "short" });
  var networks = {}; // network id -> {chart, limitA, rows, chargerKeys, chargerNames, capSpans}
  var lastId = null;
  var state = { polls: 0, failures: 0 };
  var dashboard = window.FuseGuardDashboard = { networks: networks, state: state };

  var range = window.FuseGuardSiteRange.controls({
    networks: networks,
    historyUrl: page.dataset.historyUrl,
    windowMs: (parseInt(page.dataset.windowS, 10) || 600) * 1000,
    status: dashboard,
    onChange: function (isLive) {
      lastId = null;
      if (isLive) poller.schedule(0);
    },
  });
  var poller = live.poller({
    url: page.dataset.liveUrl,
    // In a long range the poll keeps the tables and incidents current; its samples would not fit the buckets.
    query: function () { return "window_s=" + range.liveWindowS() + (lastId === null ? "" : "&after=" + encodeURIComponent(lastId)); },
    apply: apply,
    state: state,
    pollMs: parseInt(page.dataset.pollMs, 10) || 3000,
    clock: live.zonedClock(page.dataset.timeZone),
    what: "live",
  });

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

  /* A time as the server writes it: "2026-11-30 13:00:05 CET", in the page's zone. */
  function zonedText(iso) {
    var parts = {};
    dateFormat.formatToParts(new Date(iso)).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute + ":" + parts.second + " " + parts.timeZoneName;
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

  /* A network the page has not drawn yet: its chart, with one line pair per charger the server listed. */
  function addNetwork(info) {
    var network = networks[info.id] = {
      limitA: info.limit_a,
      rows: [],
      chargerKeys: info.chargers.map(function (charger) { return String(charger.id); }),
      chargerNames: {},
    };
    info.chargers.forEach(function (charger) { network.chargerNames[String(charger.id)] = charger.name; });
    var canvas = document.getElementById("chart-" + info.id);
    network.chart = canvas ? siteChart.create(canvas, network, timeFormat) : null;
    return network;
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
      var network = networks[info.id] || addNetwork(info);
      var series = data.samples.networks[info.id];
      network.capSpans = info.cap_spans || [];
      if (series && network.chart && range.isLive()) {
        siteChart.merge(network, series, nowMs, range.windowMs());
        siteChart.redraw(network, nowMs, range.windowMs());
      }
      updateTables(section, info, data.now);
    });
    if (data.samples.last_id !== null && data.samples.last_id !== undefined) {
      lastId = data.samples.last_id;
    }
  }

  poller.poll();
})();

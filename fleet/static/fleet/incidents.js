/* FuseGuard dashboard: the incidents page, live, with acknowledgement in place.
 *
 * The server renders the first table (and the page works without this
 * script: filters are a GET form, acknowledging a form post). This script
 * polls incidents.json with the page's filters and order, redraws the rows,
 * and posts acknowledgements with fetch so the page stays where it is. A row
 * whose note someone is typing is left alone until it is sent.
 */
(function () {
  "use strict";

  var root = document.getElementById("incidents-page");
  if (!root) {
    return;
  }
  var liveUrl = root.dataset.liveUrl;
  var pollMs = parseInt(root.dataset.pollMs, 10) || 5000;
  var csrf = root.dataset.csrf;
  var form = document.getElementById("incident-filters");
  var body = document.getElementById("incident-rows");
  var state = { polls: 0, failures: 0, acknowledged: 0 };
  var live = window.FuseGuardLive;
  var element = live.element;
  var clock = live.zonedClock(root.dataset.timeZone);
  var poller = live.poller({
    url: liveUrl, query: function () { return params().toString(); }, apply: apply, state: state, pollMs: pollMs,
    clock: clock, what: "incidents",
  });
  var schedule = poller.schedule;

  window.FuseGuardIncidents = state;

  function params() {
    var data = new URLSearchParams(new FormData(form));
    Array.from(data.keys()).forEach(function (key) {
      if (!data.get(key)) data.delete(key);
    });
    return data;
  }

  function ackCell(incident) {
    var cell = element("td");
    cell.dataset.field = "acknowledgement";
    if (incident.acknowledged) {
      cell.append(element("strong", "", incident.acknowledged_by || "someone"), ", " + incident.acknowledged_text);
      if (incident.acknowledgement_note) cell.append(": " + incident.acknowledgement_note);
    } else if (incident.may_acknowledge) {
      var ack = element("form", "ack-form");
      ack.method = "post";
      ack.setAttribute("action", incident.acknowledge_url);
      var token = element("input");
      token.type = "hidden"; token.name = "csrfmiddlewaretoken"; token.value = csrf;
      var note = element("input");
      note.type = "text"; note.name = "note"; note.placeholder = "Note (optional)";
      note.maxLength = parseInt(root.dataset.noteMax, 10) || 1000;
      note.setAttribute("aria-label", "Note");
      var button = element("button", "button small-button", "Acknowledge");
      button.type = "submit";
      ack.append(token, note, button);
      cell.append(ack);
    } else {
      cell.append(element("span", "muted", incident.status === "open" ? "not acknowledged" : "—"));
    }
    return cell;
  }

  function row(incident) {
    var tr = element("tr", "incident-" + incident.status + (incident.acknowledged ? " acknowledged" : ""));
    tr.dataset.incidentId = incident.id;
    var stateCell = element("td");
    stateCell.append(incident.status === "open" ? element("span", "badge badge-meter_lost", "Open") : element("span", "badge badge-normal", "Resolved"));
    if (incident.flapping) stateCell.append(" ", element("span", "tag", "flapping"));
    if (incident.folded) stateCell.append(" ", element("span", "tag", "explained by the gateway"));
    var siteCell = element("td");
    var link = element("a", "", incident.site.name);
    link.href = incident.site.url;
    siteCell.append(link, element("div", "muted small", incident.organization));
    var started = element("td", "num");
    var time = element("time", "", incident.started_text);
    time.dateTime = incident.started_at;
    started.append(time);
    tr.append(stateCell, element("td", "", incident.kind_label), siteCell, element("td", "", incident.subject), started,
              element("td", "num", incident.lasted), ackCell(incident));
    return tr;
  }

  function busy(tr) {
    var note = tr && tr.querySelector("input[name=note]");
    return Boolean(note && (note.value || document.activeElement === note));
  }

  function apply(data) {
    var current = {};
    body.querySelectorAll("tr[data-incident-id]").forEach(function (tr) { current[tr.dataset.incidentId] = tr; });
    var rows = data.incidents.map(function (incident) {
      var existing = current[String(incident.id)];
      return busy(existing) && !incident.acknowledged ? existing : row(incident);
    });
    body.replaceChildren.apply(body, rows);
    document.getElementById("no-incidents").hidden = rows.length > 0;
  }

  body.addEventListener("submit", function (event) {
    var ack = event.target.closest(".ack-form");
    if (!ack) return;
    event.preventDefault();
    var button = ack.querySelector("button");
    button.disabled = true;
    fetch(ack.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
      body: new URLSearchParams(new FormData(ack)),
    })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (answer) {
        if (!answer.ok) throw new Error(answer.data.detail || JSON.stringify(answer.data));
        state.acknowledged++;
        var tr = ack.closest("tr");
        tr.replaceWith(row(answer.data));
        schedule(0);
      })
      .catch(function (error) {
        button.disabled = false;
        ack.append(element("div", "form-error small", "Not acknowledged: " + error.message));
      });
  });

  form.addEventListener("input", function () {
    history.replaceState(null, "", params().toString() ? "?" + params().toString() : location.pathname);
    schedule(0);
  });
  document.querySelectorAll("[data-sort]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var key = link.dataset.sort;
      var current = form.elements.sort.value;
      var descending = key === "started" ? current !== "-started" : current === key;
      form.elements.sort.value = key === "started" ? (descending ? "-started" : "started") : (descending ? "-" + key : key);
      history.replaceState(null, "", "?" + params().toString());
      schedule(0);
    });
  });

  poller.poll();
})();

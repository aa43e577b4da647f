/* FuseGuard dashboard: what every live page shares — its clock, its status indicator, and polling.
 *
 * A page hands `FuseGuardLive.poller` the address of its JSON, the query to
 * send and a function that draws the answer; the poller asks again every
 * few seconds, draws only the newest answer when a filter changed while a
 * request was under way, backs off while the server cannot be reached, and
 * says so in the page's live indicator. Loaded before the page's own script.
 */
(function () {
  "use strict";

  /* Times of day (24 h, to the second) in the zone the server chose for the viewer; `extra` adds Intl options. */
  function zonedFormat(timeZone, extra) {
    var options = Object.assign({ hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }, extra || {});
    try {
      return new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: timeZone }, options));
    } catch (error) {
      return new Intl.DateTimeFormat("en-GB", options); // an unknown zone: the browser's own
    }
  }

  /* A clock in the zone the server chose for the viewer, labelled with it. */
  function zonedClock(timeZone) {
    return zonedFormat(timeZone, { timeZoneName: "short" });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function showIndicator(kind, text) {
    var indicator = document.getElementById("live-indicator");
    if (!indicator) return;
    indicator.dataset.state = kind;
    indicator.querySelector(".live-text").textContent = text;
  }

  /* options: url, query() -> string, apply(data), state ({polls, failures}), pollMs, clock, what (for the console). */
  function poller(options) {
    var timer = null;
    var requests = 0;
    var state = options.state;

    function schedule(delay) {
      clearTimeout(timer);
      timer = setTimeout(poll, delay);
    }

    function poll() {
      if (document.hidden) {
        return; // resumed by the visibilitychange listener
      }
      var generation = ++requests;
      var query = options.query();
      fetch(options.url + (query ? "?" + query : ""), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401 || response.status === 403) throw new Error("signed-out");
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (generation !== requests) return;
          options.apply(data);
          state.polls++;
          state.failures = 0;
          showIndicator("live", "Live · updated " + options.clock.format(new Date(data.now)));
          schedule(options.pollMs);
        })
        .catch(function (error) {
          if (generation !== requests) return;
          if (error.message === "signed-out") {
            showIndicator("error", "Signed out: reload the page to sign in again");
            return;
          }
          state.failures++;
          console.warn(options.what + " update failed", error);
          showIndicator("error", "Connection lost, retrying…");
          schedule(Math.min(options.pollMs * Math.pow(2, state.failures), 60000));
        });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) schedule(0);
    });
    return { poll: poll, schedule: schedule };
  }

  window.FuseGuardLive = { zonedFormat: zonedFormat, zonedClock: zonedClock, element: element, showIndicator: showIndicator, poller: poller };
})();

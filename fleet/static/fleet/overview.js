/* FuseGuard dashboard: the fleet overview, live.
 *
 * The page renders the first view on the server (and works without this
 * script: the filters are a GET form). This script asks fleet.json every few
 * seconds for the same page with the same filters, and redraws the counts per
 * state and the cards in place, so a meter that drops out for 20 s shows on a
 * wall screen without a reload. Filters change the address (replaceState), so
 * a reload or a bookmark shows the same view.
 */
(function () {
  "use strict";

  var root = document.getElementById("overview-page");
  if (!root) {
    return;
  }
  var liveUrl = root.dataset.liveUrl;
  var pollMs = parseInt(root.dataset.pollMs, 10) || 5000;
  var form = document.getElementById("overview-filters");
  var grid = document.getElementById("site-grid");
  var state = { polls: 0, failures: 0, last: null };
  var live = window.FuseGuardLive;
  var element = live.element;
  var clock = live.zonedClock(root.dataset.timeZone);
  var poller = live.poller({
    url: liveUrl, query: function () { return params().toString(); }, apply: apply, state: state, pollMs: pollMs,
    clock: clock, what: "overview",
  });
  var schedule = poller.schedule;

  window.FuseGuardOverview = state;

  function params() {
    var data = new URLSearchParams(new FormData(form));
    Array.from(data.keys()).forEach(function (key) {
      if (!data.get(key)) data.delete(key);
    });
    if (data.get("page") === "1") data.delete("page");
    return data;
  }

  function fact(term, value) {
    var wrap = element("div");
    wrap.append(element("dt", "", term), element("dd", "", value));
    return wrap;
  }

  function card(site) {
    var link = element("a", "card site-card status-" + site.status);
    link.href = site.url;
    link.dataset.siteId = site.id;
    var head = element("div", "site-card-head");
    head.append(element("h2", "", site.name), element("span", "badge badge-" + site.status, site.status_label));
    link.append(head, element("p", "muted small", site.organization));
    if (site.open_incidents) {
      var plural = site.open_incidents === 1 ? "" : "s";
      link.append(element("p", "incident-line", site.open_incidents + " open incident" + plural + " for " + site.incidents_for));
    }
    var facts = element("dl", "facts");
    facts.append(
      fact("Networks", String(site.network_count)),
      fact("Chargers", site.charging_count + " / " + site.charger_count + " charging"),
      fact("Gateway seen", site.gateway_seen_ago ? site.gateway_seen_ago + " ago" : "never")
    );
    link.append(facts);
    return link;
  }

  function apply(data) {
    state.last = data;
    var all = document.querySelector('[data-count="all"]');
    if (all) all.textContent = Object.values(data.counts).reduce(function (a, b) { return a + b; }, 0);
    Object.keys(data.counts).forEach(function (status) {
      var count = document.querySelector('[data-count="' + status + '"]');
      if (count) count.textContent = data.counts[status];
    });
    var selected = form.elements.status.value;
    document.querySelectorAll(".state-count").forEach(function (link) {
      link.classList.toggle("selected", link.dataset.status === selected);
    });
    if (grid) grid.replaceChildren.apply(grid, data.cards.map(card));
    var none = document.getElementById("no-match");
    if (none) none.hidden = data.cards.length > 0;
    form.elements.page.value = data.page;
    var pager = document.getElementById("pager");
    if (pager) {
      pager.hidden = data.pages < 2;
      pager.querySelector('[data-field="page-text"]').textContent = "Page " + data.page + " of " + data.pages;
      pager.querySelector('[data-page="prev"]').classList.toggle("disabled", data.page <= 1);
      pager.querySelector('[data-page="next"]').classList.toggle("disabled", data.page >= data.pages);
    }
  }

  function refilter(resetPage) {
    if (resetPage) form.elements.page.value = "1";
    var query = params().toString();
    history.replaceState(null, "", query ? "?" + query : location.pathname);
    schedule(0);
  }

  var typing = null;
  form.addEventListener("input", function (event) {
    clearTimeout(typing);
    typing = setTimeout(function () { refilter(true); }, event.target.type === "search" ? 250 : 0);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    refilter(true);
  });
  document.querySelectorAll(".state-count").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      form.elements.status.value = link.dataset.status;
      refilter(true);
    });
  });
  var pager = document.getElementById("pager");
  if (pager) {
    pager.addEventListener("click", function (event) {
      var target = event.target.closest("[data-page]");
      if (!target) return;
      event.preventDefault();
      var page = parseInt(form.elements.page.value, 10) || 1;
      var pages = state.last ? state.last.pages : page;
      form.elements.page.value = Math.max(1, Math.min(pages, page + (target.dataset.page === "next" ? 1 : -1)));
      refilter(false);
    });
  }

  poller.poll();
})();

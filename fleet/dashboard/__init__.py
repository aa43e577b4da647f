"""Server-rendered pages for operators: the fleet at a glance, incidents, each site live, personal settings.

Views stay thin: what a page shows is computed in `overview` (the fleet's
state per site in SQL, counts, filters, pages), `selectors` (one site's
devices and latest states), `live` and `history` (the JSON the site chart
polls and its long ranges), `incidents` (listing and who may acknowledge),
`status` (the pure rules that turn facts into a site's state and mark stale
readings) and `times` (the one rule for which zone a time is shown in); every
query starts from the sites `scoping.visible_sites` allows the user to see.
"""

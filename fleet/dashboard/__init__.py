"""Server-rendered pages for operators: the fleet at a glance and each site live.

Views stay thin: what a page shows is computed in `selectors` (queries),
`live` (the JSON the site page polls) and `status` (the pure rule that turns
facts into a site's state), and every query starts from the sites
`scoping.visible_sites` allows the user to see.
"""

"""The operator REST API under /api/v1/ (NetBox-style layout: serializers, views, urls, filtersets)."""

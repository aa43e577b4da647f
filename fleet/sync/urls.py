"""Routes of the gateway sync API."""

urlpatterns: list = []

"""The fleet server: Django project and app for organisations, sites and their charging networks."""

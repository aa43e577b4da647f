"""The fleet server: Django project and app for organisations, sites and their charging networks."""

from fleet.celery import app as celery_app

__all__ = ("celery_app",)

"""Template filters for the dashboard's one time rule (`fleet.dashboard.times`)."""

from django import template

from fleet.dashboard.times import time_text

register = template.Library()


@register.filter
def in_zone(value, zone: str) -> str:
    """`{{ value|in_zone:zone }}`: the time in that zone, with date and seconds, labelled."""
    return time_text(value, zone)


@register.filter
def clock_in_zone(value, zone: str) -> str:
    """`{{ value|clock_in_zone:zone }}`: only the time of day in that zone, labelled."""
    return time_text(value, zone, date=False)

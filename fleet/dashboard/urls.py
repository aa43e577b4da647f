"""Routes of the operator dashboard (mounted at the site root by `fleet.urls`)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from fleet.dashboard import plans, profile, views

app_name = "dashboard"

urlpatterns = [
    path("", views.FleetOverviewView.as_view(), name="overview"),
    path("fleet.json", views.FleetLiveView.as_view(), name="overview-live"),
    path("incidents/", views.IncidentsPageView.as_view(), name="incidents"),
    path("incidents.json", views.IncidentsLiveView.as_view(), name="incidents-live"),
    path("incidents/<int:pk>/acknowledge/", views.IncidentAcknowledgeView.as_view(), name="incident-acknowledge"),
    path("sites/<int:pk>/", views.SitePageView.as_view(), name="site"),
    path("sites/<int:pk>/history.json", views.SiteHistoryView.as_view(), name="site-history"),
    path("sites/<int:pk>/live.json", views.SiteLiveView.as_view(), name="site-live"),
    path("sites/<int:pk>/plans/new/", plans.PlanFormView.as_view(), name="plan-new"),
    path("plans/<int:pk>/", plans.PlanPageView.as_view(), name="plan"),
    path("profile/", profile.ProfileView.as_view(), name="profile"),
    path("accounts/login/", views.DashboardLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("dashboard:login")), name="logout"),
]

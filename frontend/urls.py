from django.urls import include, path

from . import commitment_views, console_views, report_views, survey_views, views, workspace_views

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("arende/<str:token>/", views.ticket_status, name="ticket-status"),
    path("kontakt/", views.directory, name="directory"),
    path("chat/", include("frontend.chat_views")),
    path("ataganden/", include(commitment_views.urlpatterns)),
    path("enkat/", include(survey_views.urlpatterns)),
    path("supervisor/indikatorer/", include(report_views.urlpatterns)),
    path("console/", include(console_views.urlpatterns)),
    path("department/", include(workspace_views.department_urlpatterns)),
    path("supervisor/", include(workspace_views.supervisor_urlpatterns)),
]

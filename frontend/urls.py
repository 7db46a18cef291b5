from django.urls import include, path

from . import views

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("arende/<str:token>/", views.ticket_status, name="ticket-status"),
    path("chat/", include("frontend.chat_views")),
]

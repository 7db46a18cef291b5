from django.urls import path

from . import views

app_name = "knowledge"

urlpatterns = [
    path("", views.article_index, name="index"),
    path("<slug:slug>/", views.article_detail, name="detail"),
]

"""The project's URLs plus the knowledge and routing ones, so these tests do not depend on
whether the project URLconf includes them yet."""

from django.urls import include, path

from api import knowledge as knowledge_api
from api import routing as routing_api
from contactcentre.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/", include((knowledge_api.urlpatterns + routing_api.urlpatterns, "kb_api"))),
    path("kunskap/", include("knowledge.urls")),
    *project_urlpatterns,
]

from django.urls import include, path

from . import (
    auth,
    chat,
    complaints,
    contacts,
    departments,
    departments_api,
    email_intake,
    events,
    intake,
    knowledge,
    open311,
    phone,
    records,
    reports,
    routing,
    surveys,
    tickets,
    workdist,
)

app_name = "api"

v1 = [
    path("auth/token/", auth.TokenView.as_view(), name="auth-token"),
    path("tickets/", tickets.TicketListView.as_view(), name="ticket-list"),
    path("tickets/<str:ref>/", tickets.TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<str:ref>/messages/", tickets.TicketMessagesView.as_view(), name="ticket-messages"),
    path("tickets/<str:ref>/claim/", tickets.ClaimView.as_view(), name="ticket-claim"),
    path("tickets/<str:ref>/assign/", tickets.AssignView.as_view(), name="ticket-assign"),
    path("tickets/<str:ref>/reply/", tickets.ReplyView.as_view(), name="ticket-reply"),
    path("tickets/<str:ref>/note/", tickets.NoteView.as_view(), name="ticket-note"),
    path("tickets/<str:ref>/escalate/", tickets.EscalateView.as_view(), name="ticket-escalate"),
    path("tickets/<str:ref>/resolve/", tickets.ResolveView.as_view(), name="ticket-resolve"),
    path("tickets/<str:ref>/reopen/", tickets.ReopenView.as_view(), name="ticket-reopen"),
    path("tickets/<str:ref>/status/", tickets.StatusView.as_view(), name="ticket-status"),
    path("attachments/<uuid:attachment_id>/", tickets.AttachmentDownloadView.as_view(), name="attachment"),
    path("contacts/", contacts.ContactListView.as_view(), name="contact-list"),
    path("contacts/<int:contact_id>/", contacts.ContactDetailView.as_view(), name="contact-detail"),
    path("departments/", departments.DepartmentListView.as_view(), name="department-list"),
    path("events/", events.EventsView.as_view(), name="events"),
    path("intake/web/", intake.WebIntakeView.as_view(), name="intake-web"),
    path("", include(email_intake.urlpatterns)),
    path("", include(phone.urlpatterns)),
    path("", include(chat.urlpatterns)),
    path("", include(departments_api.urlpatterns)),
    path("", include(complaints.urlpatterns)),
    path("", include(reports.urlpatterns)),
    path("", include(surveys.urlpatterns)),
    path("", include(records.urlpatterns)),
    *knowledge.urlpatterns,
    *routing.urlpatterns,
    *workdist.urlpatterns,
]

urlpatterns = [
    path("v1/", include(v1)),
    # Open311 GeoReport v2 lives at its own conventional root.
    path("open311/v2/", include(open311.urlpatterns)),
]

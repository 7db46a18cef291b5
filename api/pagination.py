from rest_framework.pagination import CursorPagination


class TicketCursorPagination(CursorPagination):
    """Stable under inserts: a new ticket never shifts the page an agent is reading."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

"""The framework's ceiling: a bare Django + DRF project with one model and one POST endpoint.

It validates a small JSON body with a serializer and inserts one row, nothing else (no auth, no
middleware beyond Django's common one), so its rate is what Django + DRF + PostgreSQL can do per
request on this machine. Served by gunicorn like a production WSGI app.
"""

"""Move the search vector out of the ticket row into its own table (PostgreSQL only).

A ticket row is about 230 bytes; its vector averages 1.3 kB (five messages of text). Stored in the
row, every ticket UPDATE (claim, status, last_message_at, version, registration counter) copied
1.5 kB, and every scan of tickets (the queue, a month for the report) read six times the pages.
In ``tickets_ticket_search`` (ticket_id primary key, vector under a GIN index) the ticket stays
narrow and only writes to a subject or a message touch the vector.

No foreign key on purpose: Django's flush truncates ``tickets_ticket`` without CASCADE, which a
referencing table would refuse. Triggers keep the two in step instead (insert, subject change,
delete and truncate of tickets; insert, update and delete of messages). On SQLite: a no-op.

Dropping the column does not give the space back: on a database that already holds many tickets,
rewrite the table afterwards (``VACUUM FULL tickets_ticket`` in a quiet hour, or pg_repack).
"""

import importlib

from django.db import migrations

_0003 = importlib.import_module("contactcentre.tickets.migrations.0003_ticket_search_and_indexes")

FORWARDS = [
    """CREATE TABLE tickets_ticket_search (
           ticket_id bigint PRIMARY KEY,
           search_vector tsvector NOT NULL
       )""",
    # The existing vectors move over as they are; tickets without one get their subject's.
    """INSERT INTO tickets_ticket_search (ticket_id, search_vector)
       SELECT id, coalesce(search_vector, setweight(to_tsvector('swedish', coalesce(subject, '')), 'A'))
       FROM tickets_ticket""",
    "DROP TRIGGER IF EXISTS tickets_message_search_delete ON tickets_message",
    "DROP TRIGGER IF EXISTS tickets_message_search_update ON tickets_message",
    "DROP TRIGGER IF EXISTS tickets_message_search_insert ON tickets_message",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_update ON tickets_ticket",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_insert ON tickets_ticket",
    "DROP FUNCTION IF EXISTS tickets_message_search_after()",
    "DROP FUNCTION IF EXISTS tickets_ticket_search_before()",
    "DROP INDEX IF EXISTS ticket_search_vector",
    "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_vector",
    "CREATE INDEX ticket_search_vector ON tickets_ticket_search USING gin (search_vector)",
    """
CREATE OR REPLACE FUNCTION tickets_search_refresh(p_ticket_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO tickets_ticket_search (ticket_id, search_vector)
    SELECT t.id, tickets_search_vector(t.id, t.subject) FROM tickets_ticket t WHERE t.id = ANY(p_ticket_ids)
    ON CONFLICT (ticket_id) DO UPDATE SET search_vector = EXCLUDED.search_vector
$$;

CREATE OR REPLACE FUNCTION tickets_ticket_search_after() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE tickets_ticket_search;
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM tickets_ticket_search WHERE ticket_id = OLD.id;
    ELSE
        -- A new ticket has no messages yet; a changed subject keeps its messages' words.
        PERFORM tickets_search_refresh(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END $$;

-- Statement-level with transition tables: one refresh per ticket per statement, however many of
-- its messages the statement touched (an erasure updates all of them at once).
CREATE OR REPLACE FUNCTION tickets_message_search_after() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM tickets_search_refresh(ARRAY(SELECT DISTINCT ticket_id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        -- Only when the text or the ticket changed: delivery status updates leave the vector alone.
        PERFORM tickets_search_refresh(ARRAY(
            SELECT n.ticket_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.body_text IS DISTINCT FROM o.body_text OR n.ticket_id <> o.ticket_id
            UNION
            SELECT o.ticket_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.ticket_id <> o.ticket_id
        ));
    ELSE
        PERFORM tickets_search_refresh(ARRAY(SELECT DISTINCT ticket_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
""",
    """CREATE TRIGGER tickets_ticket_search_insert AFTER INSERT ON tickets_ticket
       FOR EACH ROW EXECUTE FUNCTION tickets_ticket_search_after()""",
    """CREATE TRIGGER tickets_ticket_search_update AFTER UPDATE OF subject ON tickets_ticket
       FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject) EXECUTE FUNCTION tickets_ticket_search_after()""",
    """CREATE TRIGGER tickets_ticket_search_delete AFTER DELETE ON tickets_ticket
       FOR EACH ROW EXECUTE FUNCTION tickets_ticket_search_after()""",
    """CREATE TRIGGER tickets_ticket_search_truncate AFTER TRUNCATE ON tickets_ticket
       FOR EACH STATEMENT EXECUTE FUNCTION tickets_ticket_search_after()""",
    """CREATE TRIGGER tickets_message_search_insert AFTER INSERT ON tickets_message
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tickets_message_search_after()""",
    """CREATE TRIGGER tickets_message_search_update AFTER UPDATE ON tickets_message
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION tickets_message_search_after()""",
    """CREATE TRIGGER tickets_message_search_delete AFTER DELETE ON tickets_message
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tickets_message_search_after()""",
]

BACKWARDS = [
    "DROP TRIGGER IF EXISTS tickets_message_search_delete ON tickets_message",
    "DROP TRIGGER IF EXISTS tickets_message_search_update ON tickets_message",
    "DROP TRIGGER IF EXISTS tickets_message_search_insert ON tickets_message",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_truncate ON tickets_ticket",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_delete ON tickets_ticket",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_update ON tickets_ticket",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_insert ON tickets_ticket",
    "DROP FUNCTION IF EXISTS tickets_message_search_after()",
    "DROP FUNCTION IF EXISTS tickets_ticket_search_after()",
    "DROP FUNCTION IF EXISTS tickets_search_refresh(bigint[])",
    "ALTER TABLE tickets_ticket ADD COLUMN search_vector tsvector",
    """UPDATE tickets_ticket t SET search_vector = s.search_vector
       FROM tickets_ticket_search s WHERE s.ticket_id = t.id""",
    "DROP TABLE tickets_ticket_search",
    "CREATE INDEX ticket_search_vector ON tickets_ticket USING gin (search_vector)",
    # 0003's functions and triggers (everything in its FORWARDS between the column and the backfill).
    *_0003.FORWARDS[1:7],
]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return  # the embedded SQLite default searches with icontains
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0003_ticket_search_and_indexes"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARDS), _run(BACKWARDS), elidable=False),
    ]

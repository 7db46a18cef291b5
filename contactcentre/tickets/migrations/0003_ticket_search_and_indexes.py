"""Full-text search over tickets (PostgreSQL only) and the indexes the queue, the ticket view and
the monthly report need at a million tickets.

Search: a ``search_vector`` tsvector column on the ticket (``swedish`` configuration: subject
weight A, every message body weight B) under a GIN index. One row per ticket keeps a search a
single index scan over tickets, whatever the number of messages (5 million in bench_growth); an
expression index over messages would return message rows to be grouped back into tickets and
ranked across rows. Triggers keep the column current on every write to a ticket's subject and to
its messages, whoever writes (intake, replies, notes, merges, GDPR erasure, disposal), so erased
text leaves the index in the same transaction. On SQLite this part is a no-op: the selector falls
back to ``icontains``.
"""

from django.db import migrations, models

# The text fed to the vector: bounded so a huge thread can never exceed tsvector's 1 MB limit
# (which would fail the write that triggered it); positions beyond 16383 are clamped anyway.
SEARCH_FUNCTIONS = """
CREATE OR REPLACE FUNCTION tickets_search_vector(p_ticket_id bigint, p_subject text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('swedish', coalesce(p_subject, '')), 'A')
        || setweight(to_tsvector('swedish', coalesce((
            SELECT left(string_agg(left(m.body_text, 20000), ' ' ORDER BY m.id), 200000)
            FROM tickets_message m WHERE m.ticket_id = p_ticket_id), '')), 'B')
$$;

CREATE OR REPLACE FUNCTION tickets_ticket_search_before() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A new ticket has no messages yet (they are inserted after it).
        NEW.search_vector := setweight(to_tsvector('swedish', coalesce(NEW.subject, '')), 'A');
    ELSE
        NEW.search_vector := tickets_search_vector(NEW.id, NEW.subject);
    END IF;
    RETURN NEW;
END $$;

-- Statement-level with transition tables: one refresh per ticket per statement, however many of
-- its messages the statement touched (an erasure updates all of them at once).
CREATE OR REPLACE FUNCTION tickets_message_search_after() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tickets_ticket t SET search_vector = tickets_search_vector(t.id, t.subject)
        WHERE t.id IN (SELECT ticket_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        -- Only when the text or the ticket changed: delivery status updates leave the vector alone.
        UPDATE tickets_ticket t SET search_vector = tickets_search_vector(t.id, t.subject)
        WHERE t.id IN (
            SELECT n.ticket_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.body_text IS DISTINCT FROM o.body_text OR n.ticket_id <> o.ticket_id
            UNION
            SELECT o.ticket_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.ticket_id <> o.ticket_id
        );
    ELSE
        UPDATE tickets_ticket t SET search_vector = tickets_search_vector(t.id, t.subject)
        WHERE t.id IN (SELECT ticket_id FROM old_rows);
    END IF;
    RETURN NULL;
END $$;
"""

FORWARDS = [
    "ALTER TABLE tickets_ticket ADD COLUMN search_vector tsvector",
    SEARCH_FUNCTIONS,
    """CREATE TRIGGER tickets_ticket_search_insert BEFORE INSERT ON tickets_ticket
       FOR EACH ROW EXECUTE FUNCTION tickets_ticket_search_before()""",
    """CREATE TRIGGER tickets_ticket_search_update BEFORE UPDATE OF subject ON tickets_ticket
       FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject) EXECUTE FUNCTION tickets_ticket_search_before()""",
    """CREATE TRIGGER tickets_message_search_insert AFTER INSERT ON tickets_message
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tickets_message_search_after()""",
    """CREATE TRIGGER tickets_message_search_update AFTER UPDATE ON tickets_message
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION tickets_message_search_after()""",
    """CREATE TRIGGER tickets_message_search_delete AFTER DELETE ON tickets_message
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tickets_message_search_after()""",
    # Existing tickets: one pass, messages aggregated once (not one subquery per ticket).
    """UPDATE tickets_ticket t SET search_vector =
           setweight(to_tsvector('swedish', coalesce(t.subject, '')), 'A')
           || setweight(to_tsvector('swedish', coalesce(m.body, '')), 'B')
       FROM (SELECT ticket_id, left(string_agg(left(body_text, 20000), ' ' ORDER BY id), 200000) AS body
             FROM tickets_message GROUP BY ticket_id) m
       WHERE m.ticket_id = t.id""",
    """UPDATE tickets_ticket SET search_vector = setweight(to_tsvector('swedish', coalesce(subject, '')), 'A')
       WHERE search_vector IS NULL""",
    "CREATE INDEX ticket_search_vector ON tickets_ticket USING gin (search_vector)",
]

BACKWARDS = [
    "DROP TRIGGER IF EXISTS tickets_message_search_delete ON tickets_message",
    "DROP TRIGGER IF EXISTS tickets_message_search_update ON tickets_message",
    "DROP TRIGGER IF EXISTS tickets_message_search_insert ON tickets_message",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_update ON tickets_ticket",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_insert ON tickets_ticket",
    "DROP FUNCTION IF EXISTS tickets_message_search_after()",
    "DROP FUNCTION IF EXISTS tickets_ticket_search_before()",
    "DROP FUNCTION IF EXISTS tickets_search_vector(bigint, text)",
    "DROP INDEX IF EXISTS ticket_search_vector",
    "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return  # the embedded SQLite default searches with icontains
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


ACTIVE = ["escalated", "new", "open", "waiting"]


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0002_message_registration"),
    ]

    operations = [
        # The monthly report and "today" counts: a created_at range.
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["created_at"], name="ticket_created"),
        ),
        # The console's "all active" queue: newest active tickets without touching the closed bulk.
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["-id"], name="ticket_active_id", condition=models.Q(status__in=ACTIVE)
            ),
        ),
        # A caseworker's scope (escalated to their department), newest first.
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["department", "-id"], name="ticket_dept_escalated_id",
                condition=models.Q(escalated_at__isnull=False),
            ),
        ),
        migrations.RunPython(_run(FORWARDS), _run(BACKWARDS), elidable=False),
    ]

"""A caseworker's search reads one index (PostgreSQL only).

A caseworker sees the tickets escalated to their department (``selectors.ticket_scope``). With
only the vector in ``tickets_ticket_search``, a search for them had two bad plans: every match in
the city from the GIN index, each joined to its ticket to test the department, or the department's
tickets newest first, each vector read to test the words; both grow with the whole table (403 ms
at a million tickets in bench_growth). The search row now carries that scope,
``escalated_department_id`` (the ticket's department once it has been escalated, else null), and
a GIN index over (scope, vector), by btree_gin, answers "these words in this department" directly.

The column is the same transaction's truth as the ticket: the refresh that writes the vector
writes it, and a trigger on the ticket's department and escalation keeps it when only those
change (no vector recomputed then). On SQLite: a no-op (search is ``icontains`` there).

btree_gin ships with PostgreSQL's contrib and is a trusted extension (PostgreSQL 13+): the
database owner may create it without superuser rights.
"""

from django.db import migrations

FORWARDS = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "ALTER TABLE tickets_ticket_search ADD COLUMN escalated_department_id bigint",
    """UPDATE tickets_ticket_search s SET escalated_department_id = t.department_id
       FROM tickets_ticket t
       WHERE t.id = s.ticket_id AND t.escalated_at IS NOT NULL AND t.department_id IS NOT NULL""",
    """CREATE INDEX ticket_search_department ON tickets_ticket_search
       USING gin (escalated_department_id, search_vector) WHERE escalated_department_id IS NOT NULL""",
    """
CREATE OR REPLACE FUNCTION tickets_search_refresh(p_ticket_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO tickets_ticket_search (ticket_id, search_vector, escalated_department_id)
    SELECT t.id, tickets_search_vector(t.id, t.subject),
           CASE WHEN t.escalated_at IS NOT NULL THEN t.department_id END
    FROM tickets_ticket t WHERE t.id = ANY(p_ticket_ids)
    ON CONFLICT (ticket_id) DO UPDATE
        SET search_vector = EXCLUDED.search_vector, escalated_department_id = EXCLUDED.escalated_department_id
$$;

CREATE OR REPLACE FUNCTION tickets_ticket_search_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets_ticket_search
    SET escalated_department_id = CASE WHEN NEW.escalated_at IS NOT NULL THEN NEW.department_id END
    WHERE ticket_id = NEW.id;
    RETURN NULL;
END $$;
""",
    """CREATE TRIGGER tickets_ticket_search_scope AFTER UPDATE OF department_id, escalated_at ON tickets_ticket
       FOR EACH ROW WHEN (OLD.department_id IS DISTINCT FROM NEW.department_id
                          OR (OLD.escalated_at IS NULL) <> (NEW.escalated_at IS NULL))
       EXECUTE FUNCTION tickets_ticket_search_scope()""",
    "ANALYZE tickets_ticket_search",
]

BACKWARDS = [
    "DROP TRIGGER IF EXISTS tickets_ticket_search_scope ON tickets_ticket",
    "DROP FUNCTION IF EXISTS tickets_ticket_search_scope()",
    # 0004's refresh, which writes the vector only.
    """
CREATE OR REPLACE FUNCTION tickets_search_refresh(p_ticket_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO tickets_ticket_search (ticket_id, search_vector)
    SELECT t.id, tickets_search_vector(t.id, t.subject) FROM tickets_ticket t WHERE t.id = ANY(p_ticket_ids)
    ON CONFLICT (ticket_id) DO UPDATE SET search_vector = EXCLUDED.search_vector
$$;
""",
    "DROP INDEX IF EXISTS ticket_search_department",
    "ALTER TABLE tickets_ticket_search DROP COLUMN IF EXISTS escalated_department_id",
    # The extension stays: other objects may have come to use it.
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
        ("tickets", "0004_ticket_search_side_table"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARDS), _run(BACKWARDS), elidable=False),
    ]

"""Data growth: queue, ticket view, full-text search and the monthly report at 10k, 100k and 1M
tickets (about 5 messages each) in PostgreSQL, measured through the real views and serializers.

    .venv/bin/python bench/bench_growth.py                 # 10k, 100k and 1M
    .venv/bin/python bench/bench_growth.py --quick         # 10k and 100k only
    .venv/bin/python bench/bench_growth.py --scales 10000,100000 --requests 50 [--regenerate]
    .venv/bin/python bench/bench_growth.py --explain       # also EXPLAIN ANALYZE the main queries

Data lives in databases ``bench_growth_10k``, ``bench_growth_100k``, ``bench_growth_1m`` on
``BENCH_PG_URL`` (default postgres://postgres@127.0.0.1:5432) and is kept between runs; it is
generated again only when missing or incomplete, or when ``--regenerate`` is given (migrations the
repository added since are applied to a kept database: fine for indexes; regenerate when a data
migration over millions of rows would take longer than generating them). Generation is SQL (``INSERT ... SELECT
generate_series``) with the triggers and foreign-key checks off for the session and secondary
indexes dropped during the load and rebuilt after, then ``ANALYZE``.

Measuring runs one child process per scale (Django configured for that database, DEBUG off) and
drives the Django test client through the full middleware stack, views and serializers: p50/p95
over ``--requests`` requests per row, different tickets and search words each time. Figures are
wall-clock on whatever else the machine runs; nothing asserts on them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
ROUTING_DEV = Path(os.environ.get("ROUTING_DEV_DIR", REPO.parent / "shared" / "routing-dev"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
PASSWORD = "bench-growth-2026"
SPAN_DAYS = 730
AGENTS = 24
META_TABLE = "bench_growth_meta"

# Words agents search for (all occur in the generated text), plus multi-word and rare ones.
SEARCH_TERMS = ["bygglov", "ansökningar", "parkering", "förskola", "buller", "faktura", "attefallshus",
                "serveringstillstånd", "bygglov altan", "soptunnan", "hemtjänst", "felparkerad"]


def db_name(scale: int) -> str:
    label = f"{scale // 1_000_000}m" if scale % 1_000_000 == 0 else f"{scale // 1000}k" if scale % 1000 == 0 else str(scale)
    return f"bench_growth_{label}"


def db_url(name: str) -> str:
    return f"{PG_URL}/{name}"


# --- vocabulary from the routing-dev corpus ---------------------------------------------------

def vocabulary() -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Swedish sentences and subjects from ../shared/routing-dev, and the departments."""
    sentences: list[str] = []
    subjects: list[str] = []
    for line in (ROUTING_DEV / "enquiries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("language") != "sv":
            continue
        text = row["text"]
        if m := re.match(r"Ämne:\s*(.+)", text):
            subjects.append(m.group(1).strip()[:120])
        sentences += _sentences(text)
    for path in sorted((ROUTING_DEV / "knowledge").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if "\nlanguage: sv" not in text:
            continue
        if m := re.search(r"^title:\s*(.+)$", text, re.M):
            subjects.append(m.group(1).strip()[:120])
        body = text.split("---", 2)[-1]
        sentences += _sentences(re.sub(r"[#*\-\[\]()]", " ", body))
    departments: list[tuple[str, str]] = []
    code = None
    for line in (ROUTING_DEV / "departments.yaml").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"-\s*code:\s*(\S+)", line.strip()):
            code = m.group(1)
        elif (m := re.match(r"name:\s*\"?(.+?)\"?$", line.strip())) and code:
            departments.append((code, m.group(1)))
            code = None
    sentences = sorted(set(sentences))
    return sentences, sorted(set(subjects)), departments


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [" ".join(p.split()) for p in parts if 25 <= len(p.strip()) <= 220 and not p.strip().startswith(("Ämne", "Mvh", "Hälsningar"))]


# --- generation -------------------------------------------------------------------------------

def _psql_admin() -> psycopg.Connection:
    return psycopg.connect(db_url("postgres"), autocommit=True)


def _manage(args: list[str], name: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url(name), "CONTACTCENTRE_VAR_DIR": os.environ.get("CONTACTCENTRE_VAR_DIR", "/tmp/bench-growth-var")}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def _unapplied_migrations(name: str) -> bool:
    env = {**os.environ, "DATABASE_URL": db_url(name), "CONTACTCENTRE_VAR_DIR": os.environ.get("CONTACTCENTRE_VAR_DIR", "/tmp/bench-growth-var")}
    env.pop("REDIS_URL", None)
    r = subprocess.run([sys.executable, "manage.py", "migrate", "--check"], cwd=REPO, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode != 0


def ensure_database(scale: int, *, regenerate: bool) -> None:
    name = db_name(scale)
    with _psql_admin() as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
    if exists and not regenerate:
        with psycopg.connect(db_url(name)) as conn:
            has_meta = conn.execute("SELECT to_regclass(%s)", (META_TABLE,)).fetchone()[0] is not None
            meta = conn.execute(f"SELECT scale, seconds FROM {META_TABLE}").fetchone() if has_meta else None  # noqa: S608
        if meta and meta[0] == scale:
            print(f"[{name}] kept from an earlier run (generated in {meta[1]:.0f} s)", flush=True)
            if _unapplied_migrations(name):
                # New indexes are cheap to add; a data migration over millions of rows may not be
                # (then use --regenerate).
                started = time.perf_counter()
                _manage(["migrate", "--noinput"], name)
                print(f"[{name}] applied new migrations in {time.perf_counter() - started:.0f} s", flush=True)
            ensure_commitments(name)
            return
        print(f"[{name}] incomplete (an interrupted generation?): generating again", flush=True)
    with _psql_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    started = time.perf_counter()
    _manage(["migrate", "--noinput"], name)
    migrated = time.perf_counter() - started
    _manage(["shell", "-c", f"import bench.bench_growth as b; b.create_staff({AGENTS})"], name)
    generate(name, scale)
    ensure_commitments(name)
    seconds = time.perf_counter() - started
    with psycopg.connect(db_url(name), autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {META_TABLE} (scale integer, seconds double precision, at timestamptz)")
        conn.execute(f"INSERT INTO {META_TABLE} VALUES (%s, %s, now())", (scale, seconds))  # noqa: S608
    print(f"[{name}] generated in {seconds:.0f} s (migrate {migrated:.0f} s)", flush=True)


def ensure_commitments(name: str) -> None:
    """Every ticket taken in through intake has a commitment row (its 80 % warning points, set
    in business time); give the generated tickets theirs, idempotently, so the supervisor
    counts are measured on the path real data takes (80 % of wall time stands in here)."""
    with psycopg.connect(db_url(name), autocommit=True) as conn:
        missing = (conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
                   - conn.execute("SELECT count(*) FROM commitments_ticketcommitment").fetchone()[0])
        if not missing:
            return
        started = time.perf_counter()
        conn.execute("""
            INSERT INTO commitments_ticketcommitment (ticket_id, policy_id, first_response_warn_at, resolution_warn_at,
                department_warn_at, first_response_warned, first_response_breached, resolution_warned,
                resolution_breached, department_warned, department_breached, department_check_warned,
                department_check_breached)
            SELECT t.id, NULL,
                t.created_at + (t.first_response_due_at - t.created_at) * 0.8,
                t.created_at + (t.resolution_due_at - t.created_at) * 0.8,
                t.escalated_at + (t.department_due_at - t.escalated_at) * 0.8,
                false, false, false, false, false, false, false, false
            FROM tickets_ticket t
            ON CONFLICT (ticket_id) DO NOTHING""")
        conn.execute("ANALYZE commitments_ticketcommitment")
        print(f"[{name}] {missing} commitment rows added in {time.perf_counter() - started:.0f} s", flush=True)


def create_staff(agents: int) -> None:
    """Inside Django (``manage.py shell``): the demo roles and a pool of agents."""
    from contactcentre.accounts.services import staff_create_or_update
    from contactcentre.tickets.models import Department

    if not Department.objects.filter(code="bygglov").exists():
        Department.objects.create(code="bygglov", name="Bygglov")
    from contactcentre.accounts.models import User

    for username, role, dept in [("anna", "agent", None), ("sara", "supervisor", None), ("bygg", "caseworker", "bygglov")]:
        staff_create_or_update(username=username, role=role, department_code=dept or "", password=PASSWORD, check_password=False)
    # The pool shares anna's password hash (hashing is deliberately slow; the bench signs in as anna).
    hashed = User.objects.get(username="anna").password
    User.objects.bulk_create([User(username=f"agent{i:02d}", role="agent", first_name=f"Agent {i}", password=hashed)
                              for i in range(agents)])


def _secondary_indexes(conn: psycopg.Connection, tables: list[str]) -> list[tuple[str, str]]:
    """Indexes that back no constraint (those can be dropped during a bulk load and rebuilt)."""
    rows = conn.execute(
        """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)""",
        (tables,),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def generate(name: str, n: int) -> None:
    sentences, subjects, departments = vocabulary()
    t0 = time.perf_counter()
    with psycopg.connect(db_url(name), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # no triggers, no FK checks: consistent by construction
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '64MB'")
        for code, dname in departments:
            conn.execute(
                """INSERT INTO tickets_department (code, name, description, email, phone, opening_hours, is_active)
                   VALUES (%s, %s, '', %s, '', '{}', true) ON CONFLICT (code) DO NOTHING""",
                (code, dname, f"{code}@solna.example.org"),
            )
        dept_ids = [r[0] for r in conn.execute("SELECT id FROM tickets_department ORDER BY id")]
        agent_ids = [r[0] for r in conn.execute("SELECT id FROM accounts_user WHERE role = 'agent' ORDER BY id")]
        tables = ["tickets_ticket", "tickets_message", "tickets_contact", "tickets_contactemail",
                  "tickets_contactphone", "experience_surveyinvitation", "experience_surveyresponse",
                  "experience_surveyanswer", "tickets_liveevent", "tickets_ticket_search"]
        indexes = _secondary_indexes(conn, tables)
        for index, _ in indexes:
            conn.execute(f'DROP INDEX "{index}"')
        ticket_cols = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'tickets_ticket'")}
        message_cols = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'tickets_message'")}
        contacts = max(1, n // 3)
        p = {"n": n, "contacts": contacts, "span": SPAN_DAYS, "depts": dept_ids, "agents": agent_ids,
             "subjects": subjects, "s": sentences}

        step = time.perf_counter()
        conn.execute(
            """INSERT INTO tickets_contact (id, kind, name, organisation_number, preferred_language, created_at, updated_at)
               SELECT i, CASE WHEN random() < 0.12 THEN 'business' ELSE 'resident' END,
                      (ARRAY['Anna','Erik','Maria','Lars','Karin','Johan','Sara','Mikko','Aino','Omar','Fatima','Olle'])[1 + (i %% 12)]
                      || ' ' || (ARRAY['Andersson','Johansson','Karlsson','Nilsson','Eriksson','Larsson','Olsson','Persson','Svensson','Lindén','Virtanen','Berg','Ek'])[1 + ((i / 12) %% 13)],
                      '', 'sv', now() - make_interval(days => %(span)s) * (1 - i::float / %(contacts)s),
                      now()
               FROM generate_series(1, %(contacts)s) i""", p)
        conn.execute("""INSERT INTO tickets_contactemail (contact_id, address)
                        SELECT i, 'kontakt' || i || '@example.org' FROM generate_series(1, %(contacts)s) i WHERE i %% 10 < 7""", p)
        conn.execute("""INSERT INTO tickets_contactphone (contact_id, number)
                        SELECT i, '+4670' || lpad(i::text, 7, '0') FROM generate_series(1, %(contacts)s) i WHERE i %% 10 >= 6""", p)
        print(f"  contacts {contacts:,}: {time.perf_counter() - step:.1f} s", flush=True)

        # Tickets: ids follow arrival time over two years; what is old is resolved or closed, the
        # backlog is recent (so it grows with the daily volume, not with the years stored).
        step = time.perf_counter()
        extra_cols = ", registration_seq" if "registration_seq" in ticket_cols else ""
        extra_vals = ", 1 + ((i * 2654435761) %% 9)" if "registration_seq" in ticket_cols else ""
        conn.execute(
            f"""
            INSERT INTO tickets_ticket (id, reference, channel, status, priority, subject, department_id, category,
                language, is_complaint, contact_id, assignee_id, tags, routing, first_contact_resolution, version,
                created_at, updated_at, last_message_at, first_response_at, escalated_at, resolved_at, closed_at,
                first_response_due_at, resolution_due_at, department_due_at{extra_cols})
            SELECT i, 'SOL-' || extract(year FROM created) || '-' || lpad(i::text, 7, '0'), channel, status, priority,
                subject, dept, '', language, complaint, contact, CASE WHEN status = 'new' THEN NULL ELSE agent END,
                '[]', '{{}}', CASE WHEN status IN ('resolved', 'closed') THEN fcr END, 1,
                created, created + interval '1 hour', created + interval '1 hour',
                CASE WHEN status <> 'new' THEN created + make_interval(secs => r_fr * 72000) END,
                CASE WHEN escalated THEN created + interval '2 hours' END,
                CASE WHEN status IN ('resolved', 'closed') THEN created + make_interval(secs => 3600 + r_res * 432000) END,
                CASE WHEN status = 'closed' THEN created + make_interval(secs => 3600 + r_res * 432000) + interval '7 days' END,
                created + interval '8 hours', created + interval '5 days',
                CASE WHEN escalated THEN created + interval '10 days' END{extra_vals}
            FROM (
                SELECT i, created, age, r_fr, r_res,
                    CASE WHEN age < 1 THEN (CASE WHEN r_st < .40 THEN 'new' WHEN r_st < .70 THEN 'open' WHEN r_st < .80 THEN 'waiting'
                                                 WHEN r_st < .90 THEN 'escalated' ELSE 'resolved' END)
                         WHEN age < 7 THEN (CASE WHEN r_st < .05 THEN 'new' WHEN r_st < .20 THEN 'open' WHEN r_st < .35 THEN 'waiting'
                                                 WHEN r_st < .50 THEN 'escalated' ELSE 'resolved' END)
                         WHEN age < 30 THEN (CASE WHEN r_st < .03 THEN 'open' WHEN r_st < .08 THEN 'waiting'
                                                  WHEN r_st < .15 THEN 'escalated' WHEN r_st < .75 THEN 'resolved' ELSE 'closed' END)
                         ELSE (CASE WHEN r_st < .005 THEN 'escalated' WHEN r_st < .10 THEN 'resolved' ELSE 'closed' END) END AS status,
                    CASE WHEN r_ch < .35 THEN 'email' WHEN r_ch < .60 THEN 'web' WHEN r_ch < .85 THEN 'phone'
                         WHEN r_ch < .95 THEN 'chat' ELSE 'open311' END AS channel,
                    CASE WHEN r_pr < .80 THEN 'normal' WHEN r_pr < .90 THEN 'high' WHEN r_pr < .97 THEN 'low' ELSE 'urgent' END AS priority,
                    CASE WHEN r_la < .90 THEN 'sv' WHEN r_la < .97 THEN 'en' ELSE 'fi' END AS language,
                    CASE WHEN r_de < .45 THEN NULL ELSE (%(depts)s::int[])[1 + floor(power(r_de2, 1.6) * cardinality(%(depts)s::int[]))::int] END AS dept,
                    (r_de >= .45 AND r_es < .35) AS escalated,
                    r_co < .03 AS complaint, r_fc < .45 AS fcr,
                    1 + floor(power(r_ct, 1.5) * %(contacts)s)::int AS contact,
                    (%(agents)s::int[])[1 + floor(r_ag * cardinality(%(agents)s::int[]))::int] AS agent,
                    (%(subjects)s::text[])[1 + floor(r_su * cardinality(%(subjects)s::text[]))::int] AS subject
                FROM (
                    SELECT i, now() - make_interval(days => %(span)s) * (1 - (i - random())::float / %(n)s) AS created,
                           %(span)s * (1 - i::float / %(n)s) AS age,
                           random() r_st, random() r_ch, random() r_pr, random() r_la, random() r_de, random() r_de2,
                           random() r_es, random() r_co, random() r_fc, random() r_ct, random() r_ag, random() r_su,
                           random() r_fr, random() r_res
                    FROM generate_series(1, %(n)s) i
                ) r
            ) t""", p)
        # The escalated status means "escalated to a department": give those one.
        conn.execute("""UPDATE tickets_ticket SET department_id = (%(depts)s::int[])[1 + id %% cardinality(%(depts)s::int[])],
                        escalated_at = created_at + interval '2 hours', department_due_at = created_at + interval '10 days'
                        WHERE status = 'escalated' AND (department_id IS NULL OR escalated_at IS NULL)""", p)
        print(f"  tickets {n:,}: {time.perf_counter() - step:.1f} s", flush=True)

        # Messages: 1-9 per ticket (mean 5), inbound first, then replies and notes; 1-4 sentences.
        step = time.perf_counter()
        reg_col = ", registration" if "registration" in message_cols else ""
        reg_val = ", t.reference || '/' || j" if "registration" in message_cols else ""
        # Chunks of the id range, two connections at a time (the machine has two cores).
        message_sql = f"""
                INSERT INTO tickets_message (ticket_id, direction, channel, author_id, sender, subject, body_text, body_html,
                    external_id, is_automatic, delivery_status, delivery_error, meta, created_at{reg_col})
                SELECT t.id, d.direction, CASE WHEN d.direction = 'note' THEN 'internal' ELSE t.channel END,
                    CASE WHEN d.direction = 'inbound' THEN NULL ELSE t.assignee_id END,
                    CASE WHEN d.direction = 'inbound' THEN 'Invånare' ELSE 'Agent' END, '',
                    s[1 + floor(random() * ns)::int]
                      || CASE WHEN random() < .8 THEN ' ' || s[1 + floor(random() * ns)::int] ELSE '' END
                      || CASE WHEN random() < .5 THEN ' ' || s[1 + floor(random() * ns)::int] ELSE '' END
                      || CASE WHEN random() < .3 THEN ' ' || s[1 + floor(random() * ns)::int] ELSE '' END,
                    '', '', false, CASE WHEN d.direction = 'outbound' THEN 'sent' ELSE '' END, '', '{{}}',
                    t.created_at + make_interval(mins => (j - 1) * 97){reg_val}
                FROM tickets_ticket t
                CROSS JOIN LATERAL generate_series(1, 1 + ((t.id * 2654435761) %% 9)::int) j
                CROSS JOIN LATERAL (SELECT CASE WHEN j = 1 THEN 'inbound' WHEN j %% 5 = 0 THEN 'note'
                                               WHEN j %% 2 = 0 THEN 'outbound' ELSE 'inbound' END AS direction) d
                CROSS JOIN (SELECT %(s)s::text[] AS s, cardinality(%(s)s::text[]) AS ns) v
                WHERE t.id BETWEEN %(lo)s AND %(hi)s
                ORDER BY t.id, j"""
        _parallel(name, message_sql, [{**p, "lo": lo, "hi": hi} for lo, hi in _ranges(n, max(2, n // 100_000))])
        messages = conn.execute("SELECT count(*) FROM tickets_message").fetchone()[0]
        print(f"  messages {messages:,}: {time.perf_counter() - step:.1f} s", flush=True)

        step = time.perf_counter()
        _surveys(conn)
        conn.execute("""INSERT INTO tickets_liveevent (type, ticket_reference, department_code, payload, created_at)
                        SELECT 'ticket.updated', reference, '', '{}', updated_at FROM tickets_ticket
                        ORDER BY id DESC LIMIT 5000""")
        for table in ("tickets_ticket", "tickets_contact"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        print(f"  surveys, live events: {time.perf_counter() - step:.1f} s", flush=True)

        step = time.perf_counter()
        # The same vector the triggers keep (migrations tickets/0003-0004), computed once per ticket,
        # and the caseworkers' scope beside it (0005) where the schema has it.
        scope_cols = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'tickets_ticket_search'")}
        scope_col = ", escalated_department_id" if "escalated_department_id" in scope_cols else ""
        scope_val = ", CASE WHEN t.escalated_at IS NOT NULL THEN t.department_id END" if scope_col else ""
        _parallel(name, f"""INSERT INTO tickets_ticket_search (ticket_id, search_vector{scope_col})
                   SELECT t.id, setweight(to_tsvector('swedish', coalesce(t.subject, '')), 'A')
                                || setweight(to_tsvector('swedish', coalesce(m.body, '')), 'B'){scope_val}
                   FROM tickets_ticket t
                   JOIN (SELECT ticket_id, left(string_agg(left(body_text, 20000), ' ' ORDER BY id), 200000) AS body
                         FROM tickets_message WHERE ticket_id BETWEEN %(lo)s AND %(hi)s GROUP BY ticket_id) m
                     ON m.ticket_id = t.id""", [{"lo": lo, "hi": hi} for lo, hi in _ranges(n, max(2, n // 50_000))])
        conn.execute(f"""INSERT INTO tickets_ticket_search (ticket_id, search_vector{scope_col})
                        SELECT id, setweight(to_tsvector('swedish', coalesce(subject, '')), 'A'){scope_val} FROM tickets_ticket t
                        WHERE NOT EXISTS (SELECT 1 FROM tickets_ticket_search s WHERE s.ticket_id = t.id)""")
        print(f"  search vectors: {time.perf_counter() - step:.1f} s", flush=True)

        step = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE")
        print(f"  indexes rebuilt, VACUUM ANALYZE: {time.perf_counter() - step:.1f} s", flush=True)
    print(f"  data: {time.perf_counter() - t0:.0f} s", flush=True)


def _parallel(name: str, sql: str, params: list[dict], workers: int = 2) -> None:
    """Run one statement per parameter set on ``workers`` connections (bulk-load session settings)."""
    from concurrent.futures import ThreadPoolExecutor

    def run(chunk: dict) -> None:
        with psycopg.connect(db_url(name), autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute("SET synchronous_commit = off")
            conn.execute("SET work_mem = '64MB'")
            conn.execute(sql, chunk)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, params))


def _ranges(n: int, parts: int) -> list[tuple[int, int]]:
    size = -(-n // parts)
    return [(lo, min(n, lo + size - 1)) for lo in range(1, n + 1, size)]


def _surveys(conn: psycopg.Connection) -> None:
    """Invitations for a fifth of the resolved tickets, a third of them answered."""
    survey = conn.execute("SELECT id FROM experience_survey WHERE is_active ORDER BY id LIMIT 1").fetchone()
    if survey is None:
        return
    questions = conn.execute(
        "SELECT id, kind, scale_min, scale_max FROM experience_question WHERE survey_id = %s AND kind <> 'text'",
        (survey[0],)).fetchall()
    conn.execute(
        """INSERT INTO experience_surveyinvitation (ticket_id, survey_id, status, via, address, language, skip_reason,
               error, message_id, created_at, send_after, sent_at, responded_at)
           SELECT id, %s, 'sent', 'email', '', 'sv', '', '', '', resolved_at, resolved_at, resolved_at + interval '1 hour',
                  CASE WHEN id %% 3 = 0 THEN resolved_at + interval '1 day' END
           FROM tickets_ticket WHERE resolved_at IS NOT NULL AND id %% 5 = 0""", (survey[0],))
    conn.execute("""INSERT INTO experience_surveyresponse (invitation_id, submitted_at, language)
                    SELECT id, responded_at, 'sv' FROM experience_surveyinvitation WHERE responded_at IS NOT NULL""")
    for qid, kind, lo, hi in questions:
        if kind == "scale":
            conn.execute("""INSERT INTO experience_surveyanswer (response_id, question_id, value_int, value_text)
                            SELECT id, %s, LEAST(%s, GREATEST(%s, %s - floor(power(random(), 2) * (%s - %s + 1))::int)), ''
                            FROM experience_surveyresponse""", (qid, hi, lo, hi, hi, lo))
        else:
            conn.execute("""INSERT INTO experience_surveyanswer (response_id, question_id, value_bool, value_text)
                            SELECT id, %s, random() < .8, '' FROM experience_surveyresponse""", (qid,))


# --- measuring (child process, Django configured for one database) ------------------------------

def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure_child(name: str, requests: int, explain: bool) -> dict[str, dict[str, float]]:
    import django

    django.setup()
    import random

    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from contactcentre.accounts.models import User

    rnd = random.Random(8)
    anna, sara, bygg = (User.objects.get(username=u) for u in ("anna", "sara", "bygg"))
    tokens = {u.username: Token.objects.get_or_create(user=u)[0].key for u in (anna, sara, bygg)}
    html = Client()
    html.force_login(anna)
    sup_html = Client()
    sup_html.force_login(sara)
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM tickets_ticket")
        max_id = cursor.fetchone()[0]

    def api(user: str) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Token {tokens[user]}")

    def random_refs(k: int) -> list[str]:
        ids = [rnd.randint(1, max_id) for _ in range(k)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT reference FROM tickets_ticket WHERE id = ANY(%s)", [ids])
            refs = [r[0] for r in cursor.fetchall()]
        rnd.shuffle(refs)
        return refs

    today = timezone.localdate()
    month_end = today.replace(day=1) - timedelta(days=1)
    month = {"from": month_end.replace(day=1).isoformat(), "to": month_end.isoformat()}
    agent_api, sup_api, cw_api = api("anna"), api("sara"), api("bygg")
    refs = random_refs(requests * 3)

    rows: dict[str, tuple[Client, object]] = {
        "queue page (HTML, all active)": (html, lambda i: "/console/"),
        "queue API first page (active)": (agent_api, lambda i: "/api/v1/tickets/?status=new,open,waiting,escalated"),
        "ticket list API first page (all)": (agent_api, lambda i: "/api/v1/tickets/"),
        "ticket API (detail)": (agent_api, lambda i: f"/api/v1/tickets/{refs[i]}/"),
        "ticket API (thread)": (agent_api, lambda i: f"/api/v1/tickets/{refs[i]}/messages/"),
        "ticket page (HTML)": (html, lambda i: f"/console/t/{refs[i + requests]}/"),
        "search API (agent)": (agent_api, lambda i: f"/api/v1/tickets/?q={SEARCH_TERMS[i % len(SEARCH_TERMS)]}"),
        "search API (caseworker)": (cw_api, lambda i: f"/api/v1/tickets/?q={SEARCH_TERMS[i % len(SEARCH_TERMS)]}"),
        "search queue page (HTML)": (html, lambda i: f"/console/?q={SEARCH_TERMS[i % len(SEARCH_TERMS)]}"),
        "supervisor live counts (JSON)": (sup_html, lambda i: "/supervisor/counts/"),
        "indicator report, month (JSON)": (sup_api, lambda i: f"/api/v1/reports/indicators/?from={month['from']}&to={month['to']}"),
        "indicator report, month by dept": (
            sup_api, lambda i: f"/api/v1/reports/indicators/?from={month['from']}&to={month['to']}&group_by=department"),
    }
    results: dict[str, dict[str, float]] = {}
    for label, (client, url_of) in rows.items():
        for i in range(3):  # warm the connection and the plan cache
            r = client.get(url_of(i), secure=False)  # type: ignore[operator]
            assert r.status_code == 200, (label, r.status_code, r.content[:300])
        times = []
        for i in range(requests):
            started = time.perf_counter()
            r = client.get(url_of(i))  # type: ignore[operator]
            times.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200, (label, r.status_code)
        results[label] = {"p50": statistics.median(times), "p95": _pct(times, 0.95), "n": len(times)}
        print(f"    {label:36s} p50 {results[label]['p50']:8.1f} ms  p95 {results[label]['p95']:8.1f} ms", flush=True)
    if explain:
        _explain(anna, bygg, month)
    return results


def _explain(anna: object, bygg: object, month: dict[str, str]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contactcentre.experience.indicators import Period, indicators
    from contactcentre.tickets import selectors

    def show(label: str, qs: object) -> None:
        sql, params = qs.query.sql_with_params()  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n      ".join(r[0] for r in cursor.fetchall())
        print(f"\n   EXPLAIN {label}:\n      {plan}")

    active = sorted(["new", "open", "waiting", "escalated"])
    show("queue (all active)", selectors.ticket_list(user=anna, filters={"status": active})[:200])
    show("search 'bygglov' (agent)", selectors.ticket_list(user=anna, filters={"q": "bygglov"})[:50])
    show("search 'bygglov' (caseworker)", selectors.ticket_list(user=bygg, filters={"q": "bygglov"})[:50])
    show("contact's earlier tickets", selectors.ticket_list(user=anna, filters={"contact": 1})[:8])
    period = Period.from_dates(date.fromisoformat(month["from"]), date.fromisoformat(month["to"]))
    with CaptureQueriesContext(connection) as ctx:
        indicators(period=period)
    for query in ctx.captured_queries[1:]:  # the question list is tiny
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = "\n      ".join(r[0] for r in cursor.fetchall())
        print(f"\n   EXPLAIN report query {query['sql'][:60]}...:\n      {plan}")


# --- driver -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="10000,100000,1000000")
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the main queries at each scale")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        results = measure_child(args.child, args.requests, args.explain)
        print("RESULT " + json.dumps(results), flush=True)
        return

    scales = [10_000, 100_000] if args.quick else [int(s) for s in args.scales.split(",") if s]
    started = time.perf_counter()
    all_results: dict[int, dict[str, dict[str, float]]] = {}
    for scale in scales:
        ensure_database(scale, regenerate=args.regenerate)
    if args.generate_only:
        return
    for scale in scales:
        name = db_name(scale)
        print(f"\n[{name}] measuring {args.requests} requests per row (Django test client, DEBUG off)", flush=True)
        env = {**os.environ, "DATABASE_URL": db_url(name), "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "contactcentre.settings",
               "CONTACTCENTRE_VAR_DIR": os.environ.get("CONTACTCENTRE_VAR_DIR", "/tmp/bench-growth-var"),
               "LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)}
        env.pop("REDIS_URL", None)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--requests", str(args.requests)]
        if args.explain:
            cmd.append("--explain")
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True, check=False)
        out = proc.stdout
        print("\n".join(line for line in out.splitlines() if not line.startswith("RESULT ")), flush=True)
        if proc.returncode != 0:
            raise SystemExit(f"measuring {name} failed ({proc.returncode})")
        all_results[scale] = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])

    print(f"\n=== p50 / p95 in ms (Django test client, {args.requests} requests each; noisy on a shared machine) ===")
    labels = list(next(iter(all_results.values())))
    header = f"{'':36s}" + "".join(f"{db_name(s)[13:]:>18s}" for s in scales)
    lo, hi = min(scales), max(scales)
    if lo != hi:
        header += f"   p95 {db_name(hi)[13:]}/{db_name(lo)[13:]}"
    print(header)
    for label in labels:
        line = f"{label:36s}" + "".join(
            f"{all_results[s][label]['p50']:8.1f} /{all_results[s][label]['p95']:7.1f}" for s in scales)
        if lo != hi:
            line += f"   {all_results[hi][label]['p95'] / all_results[lo][label]['p95']:6.2f}x"
        print(line)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

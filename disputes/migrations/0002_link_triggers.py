"""Rules that span two tables, enforced by the database itself.

A check constraint sees one row, so "a response is not dated before its cause" and "both
events of a link belong to one dispute" are triggers: on the link (insert, or a change of its
ends) and on the event (a change of its date or dispute). A response is "before" its cause
only when the precision allows the comparison: its latest possible day precedes the cause's
earliest possible day (see disputes/dates.py).
"""

from django.db import migrations

LO = "{t}.date_year * 10000 + COALESCE({t}.date_month, 0) * 100 + COALESCE({t}.date_day, 0)"
HI = "{t}.date_year * 10000 + COALESCE({t}.date_month, 12) * 100 + COALESCE({t}.date_day, 31)"
BEFORE = "link_response_before_cause: the response is dated before its cause"
CROSS = "link_across_disputes: both events of a link must belong to the same dispute"

LINK_BAD_DATES = f"""
    SELECT 1 FROM disputes_event c, disputes_event r
    WHERE c.id = NEW.cause_id AND r.id = NEW.response_id
      AND {HI.format(t="r")} < {LO.format(t="c")}"""
LINK_CROSS = """
    SELECT 1 FROM disputes_event c, disputes_event r
    WHERE c.id = NEW.cause_id AND r.id = NEW.response_id AND c.dispute_id <> r.dispute_id"""
EVENT_BAD_DATES = f"""
    SELECT 1 FROM disputes_retaliationlink l JOIN disputes_event c ON c.id = l.cause_id
    WHERE l.response_id = NEW.id AND c.id <> NEW.id AND {HI.format(t="NEW")} < {LO.format(t="c")}
    UNION ALL
    SELECT 1 FROM disputes_retaliationlink l JOIN disputes_event r ON r.id = l.response_id
    WHERE l.cause_id = NEW.id AND r.id <> NEW.id AND {HI.format(t="r")} < {LO.format(t="NEW")}"""
EVENT_CROSS = """
    SELECT 1 FROM disputes_retaliationlink l
    JOIN disputes_event c ON c.id = l.cause_id JOIN disputes_event r ON r.id = l.response_id
    WHERE (l.cause_id = NEW.id AND r.id <> NEW.id AND r.dispute_id <> NEW.dispute_id)
       OR (l.response_id = NEW.id AND c.id <> NEW.id AND c.dispute_id <> NEW.dispute_id)"""

SQLITE_FORWARD = [
    f"""CREATE TRIGGER disputes_link_dates_ins BEFORE INSERT ON disputes_retaliationlink
    WHEN EXISTS ({LINK_BAD_DATES}) BEGIN SELECT RAISE(ABORT, '{BEFORE}'); END""",
    f"""CREATE TRIGGER disputes_link_dates_upd BEFORE UPDATE OF cause_id, response_id
    ON disputes_retaliationlink
    WHEN EXISTS ({LINK_BAD_DATES}) BEGIN SELECT RAISE(ABORT, '{BEFORE}'); END""",
    f"""CREATE TRIGGER disputes_link_cross_ins BEFORE INSERT ON disputes_retaliationlink
    WHEN EXISTS ({LINK_CROSS}) BEGIN SELECT RAISE(ABORT, '{CROSS}'); END""",
    f"""CREATE TRIGGER disputes_link_cross_upd BEFORE UPDATE OF cause_id, response_id
    ON disputes_retaliationlink
    WHEN EXISTS ({LINK_CROSS}) BEGIN SELECT RAISE(ABORT, '{CROSS}'); END""",
    f"""CREATE TRIGGER disputes_event_dates_upd BEFORE UPDATE OF date_year, date_month, date_day
    ON disputes_event
    WHEN EXISTS ({EVENT_BAD_DATES}) BEGIN SELECT RAISE(ABORT, '{BEFORE}'); END""",
    f"""CREATE TRIGGER disputes_event_cross_upd BEFORE UPDATE OF dispute_id ON disputes_event
    WHEN EXISTS ({EVENT_CROSS}) BEGIN SELECT RAISE(ABORT, '{CROSS}'); END""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "disputes_link_dates_ins",
        "disputes_link_dates_upd",
        "disputes_link_cross_ins",
        "disputes_link_cross_upd",
        "disputes_event_dates_upd",
        "disputes_event_cross_upd",
    )
]

POSTGRES_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION disputes_link_check() RETURNS trigger AS $$
    BEGIN
      IF EXISTS ({LINK_BAD_DATES}) THEN
        RAISE EXCEPTION '{BEFORE}' USING ERRCODE = 'check_violation';
      END IF;
      IF EXISTS ({LINK_CROSS}) THEN
        RAISE EXCEPTION '{CROSS}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER disputes_link_check BEFORE INSERT OR UPDATE OF cause_id, response_id
    ON disputes_retaliationlink FOR EACH ROW EXECUTE FUNCTION disputes_link_check()""",
    f"""CREATE OR REPLACE FUNCTION disputes_event_link_check() RETURNS trigger AS $$
    BEGIN
      IF EXISTS ({EVENT_BAD_DATES}) THEN
        RAISE EXCEPTION '{BEFORE}' USING ERRCODE = 'check_violation';
      END IF;
      IF EXISTS ({EVENT_CROSS}) THEN
        RAISE EXCEPTION '{CROSS}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER disputes_event_link_check
    BEFORE UPDATE OF date_year, date_month, date_day, dispute_id
    ON disputes_event FOR EACH ROW EXECUTE FUNCTION disputes_event_link_check()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS disputes_link_check ON disputes_retaliationlink",
    "DROP FUNCTION IF EXISTS disputes_link_check()",
    "DROP TRIGGER IF EXISTS disputes_event_link_check ON disputes_event",
    "DROP FUNCTION IF EXISTS disputes_event_link_check()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]

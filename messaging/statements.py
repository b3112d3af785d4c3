"""A cursor for the few plain-SQL statements on the hottest paths: every message sent (issue 8's throughput)
and the navigation's unread badges on every signed-in page (messaging.selectors.unread_badges).

On PostgreSQL, Django's cursors bind parameters on the client: each statement reaches the server as new text,
which it parses and plans every time. The cursor here binds them on the server, so psycopg can prepare each
statement once per connection and then send only the values: it does once a statement has run five times on
the connection (DATABASES' prepare_threshold, set in settings; Django leaves it off, and until it was set
nothing here was prepared). Measured with bench/messaging.py: preparing cut the database's CPU per message
sent from 2.0 to 1.2 ms.

Only for statements written here, whose parameters have plain types (int, str, datetime): the rest of the
site keeps Django's client-side binding, which accepts any query Django builds. Elsewhere (SQLite) it is
Django's own cursor. Either way the cursor is Django's wrapper: queries are logged and counted as usual, and
database errors arrive as Django's.
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql import base


class _KeptCursor(base.ServerBindingCursor):
    """A cursor a connection keeps for these statements, made once and used again (making a psycopg cursor
    was a quarter of a statement's Python time): one, or as many as run_together sends at once. Django's
    wrapper closes its cursor when a `with` block ends; this one stays open for the connection's next
    statement, and goes with the connection."""

    def close(self) -> None:
        pass


def cursor():
    """A cursor for one of those statements (see the module)."""
    return _cursors(1)[0]


def _cursors(count: int) -> list:
    database = connections[DEFAULT_DB_ALIAS]  # once: each attribute read through `connection` looks it up
    if database.vendor != "postgresql":
        return [database.cursor() for _ in range(count)]
    database.ensure_connection()
    kept = getattr(database, "_kept_cursors", [])
    if kept and kept[0].connection is not database.connection:
        kept = []
    while len(kept) < count:
        with database.wrap_database_errors:
            raw = _KeptCursor(database.connection)
        # As Django's create_cursor: timestamps read in the connection's time zone.
        loader = database.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
        if database.timezone != loader.timezone:
            base.register_tzloader(database.timezone, raw)
        kept.append(raw)
    database._kept_cursors = kept
    wrap = database.make_debug_cursor if database.queries_logged else database.make_cursor
    return [wrap(raw) for raw in kept[:count]]


def run_together(*statements: tuple[str, list]) -> list[tuple | None]:
    """Run the statements in turn and return the first row of each (None for none). On PostgreSQL they travel
    together, in one round trip with the BEGIN of a transaction that starts with them (psycopg's pipeline
    mode): a later statement runs even if an earlier one found nothing, so a caller that rolls back on a
    result must be in a transaction. Each round trip to the database cost the message's thread a wait, a
    wake and a turn at the GIL (bench/messaging.py)."""
    database = connections[DEFAULT_DB_ALIAS]
    cursors = _cursors(len(statements))
    if database.vendor != "postgresql":
        rows = []
        for each, (sql, params) in zip(cursors, statements, strict=True):
            with each:
                each.execute(sql, params)
                rows.append(each.fetchone())
        return rows
    with database.wrap_database_errors, database.connection.pipeline():
        for each, (sql, params) in zip(cursors, statements, strict=True):
            each.execute(sql, params)
    return [each.fetchone() for each in cursors]

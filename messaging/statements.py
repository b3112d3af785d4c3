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
    """A connection's one cursor for these statements, made once and used again (making a psycopg cursor
    was a quarter of a statement's Python time). Django's wrapper closes its cursor when a `with` block
    ends; this one stays open for the connection's next statement, and goes with the connection."""

    def close(self) -> None:
        pass


def cursor():
    """A cursor for one of those statements (see the module)."""
    database = connections[DEFAULT_DB_ALIAS]  # once: each attribute read through `connection` looks it up
    if database.vendor != "postgresql":
        return database.cursor()
    database.ensure_connection()
    raw = getattr(database, "_kept_cursor", None)
    if raw is None or raw.connection is not database.connection:
        with database.wrap_database_errors:
            raw = _KeptCursor(database.connection)
        # As Django's create_cursor: timestamps read in the connection's time zone.
        loader = database.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
        if database.timezone != loader.timezone:
            base.register_tzloader(database.timezone, raw)
        database._kept_cursor = raw
    return database.make_debug_cursor(raw) if database.queries_logged else database.make_cursor(raw)

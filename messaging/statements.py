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

from django.db import connection
from django.db.backends.postgresql import base


def cursor():
    """A cursor for one of those statements (see the module)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = base.ServerBindingCursor(connection.connection)
    # As Django's create_cursor: timestamps read in the connection's time zone.
    loader = connection.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
    if connection.timezone != loader.timezone:
        base.register_tzloader(connection.timezone, raw)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)

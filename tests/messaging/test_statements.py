"""The hot path's plain-SQL statements are prepared on PostgreSQL, and nothing else is (issue 8, item 9:
bench/messaging.py's database CPU per message)."""

import pytest
from django.db import connection
from django.db.models import F

from accounts.models import User
from messaging import statements

pytestmark = pytest.mark.django_db


def _prepared(marker: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{marker}%"])
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_a_statement_run_often_is_prepared_once_and_orm_queries_are_not():
    for n in range(8):
        with statements.cursor() as cursor:
            cursor.execute("SELECT %s AS hot_path_marker", [n])
            assert cursor.fetchone() == (n,)
    for _ in range(8):
        list(User.objects.values(orm_marker=F("pk"))[:1])
    assert _prepared("hot_path_marker") == 1
    assert _prepared("orm_marker") == 0


@pytest.mark.django_db(transaction=True)  # closes the connection
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the kept cursor is PostgreSQL's")
def test_a_connection_keeps_one_cursor_for_them_and_a_new_connection_gets_its_own():
    def run(value):
        with statements.cursor() as cursor:
            cursor.execute("SELECT %s::int, %s::text", [value, f"row {value}"])
            return cursor.fetchone(), cursor.cursor

    first, kept = run(1)
    second, again = run(2)
    assert (first, second) == ((1, "row 1"), (2, "row 2"))
    assert again is kept and not kept.closed  # the block's end left it open for the next statement
    connection.close()
    third, fresh = run(3)
    assert third == (3, "row 3") and fresh is not kept and fresh.connection is connection.connection

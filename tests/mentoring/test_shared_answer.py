"""Answers kept in the shared cache (whether any scheme has a close date, a scheme's listed count) are never
served stale after a change, even when a request computed the old answer while the change committed."""

import datetime

from django.core.cache import cache as real
from django.utils import timezone

from matching import listing
from mentoring import closure, shared_version
from mentoring.shared_version import SharedAnswer


def test_an_answer_read_before_a_change_and_stored_after_it_is_not_served(db):
    answer = SharedAnswer("test:answer", timeout=60)

    def read_then_change_commits():
        value = "old"  # the request read the database...
        answer.changed()  # ...then the change committed, before the request stored what it read
        return value

    assert answer.get(read_then_change_commits) == "old"
    assert answer.get(lambda: "new") == "new"
    assert answer.get(lambda: "newer") == "new"  # and kept, while nothing changes


def test_answers_of_different_parts_change_apart(db):
    answer = SharedAnswer("test:parts", timeout=60)
    assert answer.get(lambda: 1, 1) == 1
    assert answer.get(lambda: 2, 2) == 2
    answer.changed(2)
    assert answer.get(lambda: 10, 1) == 1
    assert answer.get(lambda: 20, 2) == 20


def test_a_close_date_set_while_a_page_reads_the_old_answer_still_shows(db, scheme, monkeypatch):
    """R-SCHEME-3: the closing banner cannot be hidden for an hour by a page served while staff set the date."""
    real_exists = type(closure.Scheme.objects.none()).exists

    def exists_then_staff_set_the_date(queryset):
        found = real_exists(queryset)
        monkeypatch.setattr(type(queryset), "exists", real_exists)
        scheme.closes_on = timezone.localdate() + datetime.timedelta(days=14)
        scheme.save()
        return found

    monkeypatch.setattr(type(closure.Scheme.objects.none()), "exists", exists_then_staff_set_the_date)
    assert closure.any_close_date() is False
    assert closure.any_close_date() is True


def test_a_listed_count_read_while_a_mentor_is_listed_is_not_kept(db, scheme, monkeypatch):
    rows = listing.MentorListing.objects.filter(scheme=scheme)

    class CountThenChange:
        def count(self):
            listing.counts_changed(scheme.pk)  # a mentor was unlisted while this request counted 3
            return 3

        def __getitem__(self, item):
            return rows[item]

    assert listing.page_of(CountThenChange(), 1, scheme=scheme).count == 3
    assert listing.page_of(rows, 1, scheme=scheme).count == 0  # counted afresh, not the stale 3


def test_a_forget_that_lands_during_a_read_leaves_this_process_no_copy_of_the_old_token(monkeypatch):
    # Another thread's change (forget) lands between this thread reading the token and keeping its copy: the
    # copy must not be kept, or the process would read under the replaced token for `every` seconds.
    version = shared_version.SharedVersion("test:straddled-read", every=60)
    old = version.current()
    version._token = None  # the next current() reads the cache

    class ForgetDuringRead:
        def get_or_set(self, *args, **kwargs):
            token = real.get_or_set(*args, **kwargs)
            version.forget()
            return token

        def delete(self, key):
            real.delete(key)

    monkeypatch.setattr(shared_version, "cache", ForgetDuringRead())
    assert version.current() == old  # this read began before the change
    monkeypatch.undo()
    assert version.current() != old  # and kept no copy of it


def test_an_answer_is_kept_in_the_process_while_its_token_stands_and_dropped_when_another_changes_it(db, monkeypatch):
    # Find a mentor (issue 10): a page asks Redis nothing for an answer this process already holds.
    answer = SharedAnswer("test:kept", timeout=60)
    assert answer.get(lambda: "first") == "first"
    asked, original = [], shared_version.cache.get
    monkeypatch.setattr(
        shared_version.cache, "get", lambda key, *args, **kwargs: asked.append(key) or original(key, *args, **kwargs)
    )
    assert answer.get(lambda: "again") == "first" and asked == []
    # Another process changes it: the token in Redis is replaced, and this process reads it within `every`.
    real.delete("test:kept::version")
    answer._version("")._read_at = 0.0  # as if `every` had passed
    assert answer.get(lambda: "changed") == "changed"

"""Invalidate the in-memory listing index when anything it depends on changes.

This is cache upkeep, not a business rule: the services stay the only writers,
and a signal catches every write (admin, services, data fixes) where a call in
each service could be forgotten.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from matching.listing import listing_changed
from matching.models import MentorProfile
from mentoring.models import Pairing, SchemeMembership, TermsAcceptance, TermsVersion
from safeguarding.models import DBSCheck, TrainingRecord

# Saves that cannot change a listing; a sign-in saves last_login, and rebuilding
# the index of ten thousand mentors after every sign-in would waste most of a second.
IRRELEVANT_FIELDS = frozenset({"last_login", "password"})


def _changed(sender, update_fields=None, **kwargs):
    if update_fields and set(update_fields) <= IRRELEVANT_FIELDS:
        return
    # Now, for this process's next read inside the same transaction; and again after
    # commit, so no process keeps an index it rebuilt before the change was visible.
    listing_changed()
    transaction.on_commit(listing_changed, robust=True)


def connect() -> None:
    for model in (
        MentorProfile,
        Pairing,
        SchemeMembership,
        TermsAcceptance,
        TermsVersion,
        DBSCheck,
        TrainingRecord,
        get_user_model(),
    ):
        post_save.connect(_changed, sender=model, dispatch_uid=f"listing-{model._meta.label}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"listing-{model._meta.label}-delete")
    for through in (MentorProfile.expertise.through, MentorProfile.languages.through):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"listing-{through._meta.label}")

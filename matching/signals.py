"""Keep the listing table in line with every write it depends on.

This is upkeep of derived data, not a business rule: the services stay the only writers, and a
signal catches every write (admin, services, data fixes) where a call in each service could be
forgotten. Each save refreshes the rows of the one mentor it concerns, in the same transaction;
a change of the documents everyone accepts, or of a scheme's rules, refreshes whole schemes.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save

from accounts.models import Language
from matching import listing
from matching.models import ExpertiseArea, MentorListing, MentorProfile, Sector
from mentoring.derived import members_saved
from mentoring.models import Pairing, Scheme, TermsVersion
from safeguarding import eligibility, eligible_table

# For each model, the user ids of the mentors whose listing a save of `instance` may change: whatever the
# eligibility rules read, and the profile and pairings the listing shows.
MENTORS_OF = {
    **eligible_table.MEMBERS_OF,
    MentorProfile: lambda instance: [instance.user_id],
    Pairing: lambda instance: [instance.mentor_id],
}


def _mentor_changed(sender, instance, update_fields=None, **kwargs):
    if mentor_ids := members_saved(sender, instance, MENTORS_OF, update_fields):
        listing.refresh(mentor_ids=mentor_ids)


def _profile_sets_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if isinstance(instance, MentorProfile):
        listing.refresh(mentor_ids=[instance.user_id])
    else:  # from the area's or language's side: the profiles named, or (a clear) every one
        profiles = MentorProfile.objects.all() if pk_set is None else MentorProfile.objects.filter(pk__in=pk_set)
        listing.refresh(mentor_ids=profiles.values_list("user_id", flat=True))


def _documents_changed(sender, **kwargs):
    eligibility.documents_changed()  # before the refresh reads them, whichever receiver runs first
    listing.refresh_all()


def _scheme_saved(sender, instance, **kwargs):
    listing.refresh_all([instance])  # its DBS rule may have changed; a deleted scheme's rows go with it


def _listing_row_deleted(sender, instance, **kwargs):
    # However it goes (a refresh, or with its profile, mentor or scheme), the count changes and the copies drop it.
    listing.row_deleted(instance)


def _names_changed(sender, **kwargs):
    listing.names_changed()


def _area_deleted(sender, **kwargs):
    # Deleting an area removes it from every profile without an m2m signal.
    listing.names_changed()
    listing.refresh_all()


def connect() -> None:
    for model in [*MENTORS_OF, get_user_model()]:
        post_save.connect(_mentor_changed, sender=model, dispatch_uid=f"listing-{model._meta.label}-save")
        post_delete.connect(_mentor_changed, sender=model, dispatch_uid=f"listing-{model._meta.label}-delete")
    for through in (MentorProfile.expertise.through, MentorProfile.languages.through):
        m2m_changed.connect(_profile_sets_changed, sender=through, dispatch_uid=f"listing-{through._meta.label}")
    post_save.connect(_documents_changed, sender=TermsVersion, dispatch_uid="listing-documents-save")
    post_delete.connect(_documents_changed, sender=TermsVersion, dispatch_uid="listing-documents-delete")
    post_save.connect(_scheme_saved, sender=Scheme, dispatch_uid="listing-scheme-save")
    for model in (Sector, ExpertiseArea, Language):
        post_save.connect(_names_changed, sender=model, dispatch_uid=f"listing-names-{model._meta.label}")
    post_delete.connect(_area_deleted, sender=ExpertiseArea, dispatch_uid="listing-area-deleted")
    post_delete.connect(_listing_row_deleted, sender=MentorListing, dispatch_uid="listing-row-deleted")

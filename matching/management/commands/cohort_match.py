"""Pair every waiting mentee of a scheme with mentors' free places, maximising the total fit (R-MATCH-3).

Without --confirm it only prints the preview; nothing changes. Confirming acts as the person named by
--as (a coordinator of the network, or staff for every network), under the same rules as in the admin.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from matching import selectors, services
from mentoring.models import LocalNetwork, Scheme


class Command(BaseCommand):
    help = "Preview (and with --confirm, propose to the members) cohort pairings for a scheme."

    def add_arguments(self, parser):
        parser.add_argument("--scheme", required=True, help="the scheme's slug, e.g. career")
        parser.add_argument("--network", help="only this Local Network (its slug)")
        parser.add_argument("--confirm", action="store_true", help="propose the pairings shown to the members")
        parser.add_argument("--as", dest="actor", help="email of the coordinator or staff member confirming")

    def handle(self, *args, scheme, network=None, confirm=False, actor=None, **options):
        try:
            scheme_obj = Scheme.objects.get(slug=scheme)
        except Scheme.DoesNotExist as missing:
            raise CommandError(
                f"No scheme with slug {scheme!r}. Known: {', '.join(Scheme.objects.values_list('slug', flat=True))}"
            ) from missing
        network_obj = None
        if network:
            try:
                network_obj = LocalNetwork.objects.get(slug=network)
            except LocalNetwork.DoesNotExist as missing:
                raise CommandError(f"No Local Network with slug {network!r}.") from missing
        preview = selectors.cohort_preview(scheme=scheme_obj, network=network_obj)
        for pair in preview.pairs:
            self.stdout.write(
                f"{pair.mentee.get_full_name()} <- {pair.mentor.get_full_name()}  "
                f"fit {pair.fit}/100  ({', '.join(pair.reasons) or 'no shared preferences'})"
            )
        for person, reason in preview.left_out:
            self.stdout.write(f"Not included: {person.get_full_name()}: {reason}")
        self.stdout.write(
            f"{len(preview.pairs)} pair{'s' if len(preview.pairs) != 1 else ''}, total score "
            f"{preview.total_score:.2f}, {len(preview.unmatched)} left waiting."
        )
        self.stdout.write(preview.notice or preview.quality)
        if not confirm:
            self.stdout.write("Preview only: run again with --confirm to propose these pairings to the members.")
            return
        if not preview.pairs:
            self.stdout.write("Nothing to propose.")
            return
        if not actor:
            raise CommandError("Say who confirms: --as <email of a coordinator of the network, or of staff>.")
        person = get_user_model().objects.filter(email__iexact=actor).first()
        if person is None:
            raise CommandError(f"No one signs in as {actor!r}.")
        try:
            proposed, skipped = services.cohort_confirm(token=preview.token(), actor=person)
        except (PermissionDenied, ValidationError) as refused:
            raise CommandError(f"{actor} cannot confirm this run: {refused}") from refused
        for reason in skipped:
            self.stderr.write(f"Skipped: {reason}")
        count = f"{len(proposed)} pairing{'s' if len(proposed) != 1 else ''}"
        self.stdout.write(self.style.SUCCESS(f"Proposed {count}: each starts once both members have confirmed."))

"""Membership numbers are stored without leading zeros ("0012345678" is member 12345678).

Rows typed with zeros are rewritten. If that would give two accounts one number, the
migration stops and names them: which account is the member's is for staff to decide
(fix one of them on the previous release, then migrate again), not for a migration.
"""

import re
from collections import defaultdict

from django.db import migrations, models

# As accounts.models.MEMBERSHIP_NUMBER_RE when this migration was written.
PADDED = re.compile(r"^0*([1-9][0-9]{5,9})$")


def drop_leading_zeros(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    holders = defaultdict(list)
    changes = []
    for pk, email, number in User.objects.exclude(membership_number="").values_list("pk", "email", "membership_number"):
        match = PADDED.match(number.strip())
        normal = match.group(1) if match else number
        holders[normal].append(email)
        if normal != number:
            changes.append((pk, normal))
    shared = {number: emails for number, emails in holders.items() if len(emails) > 1}
    if shared:
        listing = "; ".join(f"{number}: {', '.join(sorted(emails))}" for number, emails in sorted(shared.items()))
        raise RuntimeError(
            "These accounts have the same membership number once leading zeros are dropped. "
            f"Correct all but one of each, then migrate again. {listing}"
        )
    for pk, normal in changes:
        User.objects.filter(pk=pk).update(membership_number=normal)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_names_single_line"),
    ]

    operations = [
        migrations.RunPython(drop_leading_zeros, migrations.RunPython.noop),
        migrations.AlterConstraint(
            model_name="user",
            name="unique_membership_number",
            constraint=models.UniqueConstraint(
                condition=models.Q(("membership_number", ""), _negated=True),
                fields=("membership_number",),
                name="unique_membership_number",
                violation_error_code="unique",
                violation_error_message=(
                    "This membership number is already registered. If it is yours, sign in or reset your password."
                ),
            ),
        ),
    ]

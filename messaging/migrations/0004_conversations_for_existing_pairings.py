"""Pairings that started before conversations existed get theirs; an ended pairing's is read-only."""

from django.db import migrations


def conversations_open_for_pairings(apps, schema_editor):
    Pairing = apps.get_model("mentoring", "Pairing")
    Conversation = apps.get_model("messaging", "Conversation")
    Conversation.objects.bulk_create(
        [
            Conversation(
                pairing_id=pairing.pk,
                first_member_id=pairing.mentor_id,
                second_member_id=pairing.mentee_id,
                read_only=pairing.status == "ended",
                created_at=pairing.started_at,
            )
            for pairing in Pairing.objects.filter(conversation__isnull=True).only(
                "pk", "mentor_id", "mentee_id", "status", "started_at"
            )
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_conversations"),
    ]

    operations = [migrations.RunPython(conversations_open_for_pairings, migrations.RunPython.noop)]

"""Listing revisions, for the processes' copies of the listing (matching/ranking.py). Rows already listed are
numbered 1, as if one change had written them all, so no copy reads them as not yet committed."""

import django.utils.timezone
import matching.models
from django.db import migrations, models


def number_existing(apps, schema_editor):
    listing, state = apps.get_model("matching", "MentorListing"), apps.get_model("matching", "ListingState")
    listing.objects.update(revision=1)
    state.objects.update(revision=1)
    stated = set(state.objects.values_list("scheme_id", flat=True))
    for scheme_id in set(listing.objects.values_list("scheme_id", flat=True)) - stated:
        state.objects.create(scheme_id=scheme_id, revision=1)  # not refreshed_at: it is built on first read


class Migration(migrations.Migration):

    dependencies = [
        ('matching', '0007_pairing_proposals'),
        ('mentoring', '0015_active_pairing_of_mentee'),
    ]

    operations = [
        migrations.CreateModel(
            name='ListingRemoval',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scheme_id', models.BigIntegerField()),
                ('profile_id', models.BigIntegerField()),
                ('revision', models.BigIntegerField(blank=True, null=True)),
                ('removed_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name='listingstate',
            name='epoch',
            field=models.CharField(default=matching.models.new_epoch, max_length=16),
        ),
        migrations.AddField(
            model_name='listingstate',
            name='forgotten',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='listingstate',
            name='revision',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='mentorlisting',
            name='revision',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='listingstate',
            name='refreshed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='mentorlisting',
            index=models.Index(fields=['scheme', 'revision'], name='listing_scheme_revision'),
        ),
        migrations.AddIndex(
            model_name='listingremoval',
            index=models.Index(fields=['scheme_id', 'revision'], name='removal_scheme_revision'),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
    ]

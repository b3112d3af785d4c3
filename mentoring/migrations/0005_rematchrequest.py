# RematchRequest moved from matching to mentoring (which owns the pairing): the table stays.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mentoring", "0004_waiting_mentee"),
        ("matching", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RematchRequest",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("note", models.TextField(blank=True, max_length=1000)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("handled", models.BooleanField(default=False)),
                        (
                            "mentee",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="rematch_requests",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "pairing",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="rematch_request",
                                to="mentoring.pairing",
                            ),
                        ),
                    ],
                    options={"ordering": ["created_at"], "db_table": "matching_rematchrequest"},
                ),
            ],
            database_operations=[],
        ),
    ]

"""Confidential access (R-MSG-5): grants to read a conversation for a complaint or concern, and the append-only
log of every read. On PostgreSQL a trigger refuses to change or delete a log row, whatever the client."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION messaging_access_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the conversation access log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER messaging_access_log_append_only
    BEFORE UPDATE OR DELETE ON messaging_conversationaccesslog
    FOR EACH ROW EXECUTE FUNCTION messaging_access_log_append_only();
"""
NOT_APPEND_ONLY = """
DROP TRIGGER IF EXISTS messaging_access_log_append_only ON messaging_conversationaccesslog;
DROP FUNCTION IF EXISTS messaging_access_log_append_only();
"""


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


def not_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NOT_APPEND_ONLY)


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0005_content_held_messages'),
        ('safeguarding', '0003_confidential_concerns'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ConversationAccessGrant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.TextField(max_length=1000)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('expires_at', models.DateTimeField()),
                ('complaint', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='safeguarding.complaint')),
                ('concern', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='safeguarding.concern')),
                ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='access_grants', to='messaging.conversation')),
                ('reader', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
                'constraints': [
                    models.CheckConstraint(condition=models.Q(models.Q(('complaint__isnull', False), ('concern__isnull', True)), models.Q(('complaint__isnull', True), ('concern__isnull', False)), _connector='OR'), name='access_grant_for_one_complaint_or_concern'),
                    models.CheckConstraint(condition=models.Q(('expires_at__gt', models.F('created_at'))), name='access_grant_ends_after_it_starts'),
                ],
            },
        ),
        migrations.CreateModel(
            name='ConversationAccessLog',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('reason', models.TextField(max_length=1000)),
                ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='access_log', to='messaging.conversation')),
                ('grant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reads', to='messaging.conversationaccessgrant')),
                ('reader', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'conversation access log entry',
                'verbose_name_plural': 'conversation access log',
                'ordering': ['-at', '-pk'],
            },
        ),
        migrations.RunPython(append_only, not_append_only, elidable=False),
    ]

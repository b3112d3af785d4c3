# RematchRequest now lives in mentoring (see mentoring 0005); its table is kept as it is.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0001_initial"),
        ("mentoring", "0005_rematchrequest"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="RematchRequest")],
            database_operations=[],
        ),
    ]

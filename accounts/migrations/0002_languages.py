from django.conf import global_settings
from django.db import migrations

# Languages members can choose. Regional variants of one language (en-gb,
# es-mx, ...) are folded into the language; Chinese keeps its two scripts.
KEEP_VARIANTS = {"zh-hans", "zh-hant"}


def add_languages(apps, schema_editor):
    Language = apps.get_model("accounts", "Language")
    for code, name in global_settings.LANGUAGES:
        if "-" in code and code not in KEEP_VARIANTS:
            continue
        Language.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(add_languages, migrations.RunPython.noop)]

from django.db import migrations

STAGES = [
    ("Qualification", 10),
    ("Discovery", 25),
    ("Proposal", 50),
    ("Negotiation", 75),
    ("Commit", 90),
]


def add_stages(apps, schema_editor):
    PipelineStage = apps.get_model("deals", "PipelineStage")
    for position, (name, probability) in enumerate(STAGES):
        PipelineStage.objects.get_or_create(
            name=name, defaults={"position": position, "probability": probability}
        )


class Migration(migrations.Migration):
    dependencies = [("deals", "0003_registrations_opportunities_rules")]

    operations = [migrations.RunPython(add_stages, migrations.RunPython.noop)]

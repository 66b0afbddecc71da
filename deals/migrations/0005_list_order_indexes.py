"""Indexes in the lists' order (newest registrations and leads first, opportunities by close
date), so that a page of a big list reads a page of index entries instead of sorting every row."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("deals", "0004_default_pipeline_stages")]

    operations = [
        migrations.AddIndex(
            model_name="dealregistration",
            index=models.Index(
                fields=["-created_at", "-id"], name="deals_dealr_created_990cb9_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["-created_at", "-id"], name="deals_lead_created_c3033a_idx"),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(fields=["close_date", "id"], name="deals_oppor_close_d_143f85_idx"),
        ),
    ]

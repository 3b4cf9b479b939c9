"""Each link names the dispute of its two events, so that a dispute's links, and whether a
link is public, are read without joining its events."""

import django.db.models.deletion
from django.db import migrations, models


def take_the_dispute_of_the_cause(apps, schema_editor):
    Link = apps.get_model("disputes", "RetaliationLink")
    Event = apps.get_model("disputes", "Event")
    Link.objects.update(
        dispute_id=models.Subquery(
            Event.objects.filter(pk=models.OuterRef("cause_id")).values("dispute_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("disputes", "0002_last_changed")]

    operations = [
        migrations.AddField(
            model_name="retaliationlink",
            name="dispute",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="links",
                to="disputes.dispute",
            ),
        ),
        migrations.AddField(
            model_name="historicalretaliationlink",
            name="dispute",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="disputes.dispute",
            ),
        ),
        migrations.RunPython(take_the_dispute_of_the_cause, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="retaliationlink",
            name="dispute",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="links",
                to="disputes.dispute",
            ),
        ),
    ]

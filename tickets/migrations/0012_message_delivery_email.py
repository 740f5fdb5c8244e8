import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0011_payment_problems"),
        ("workshop", "0008_periodic_job"),
    ]

    operations = [
        migrations.AddField(
            model_name="messagedelivery",
            name="outgoing_email",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="message_delivery",
                to="workshop.outgoingemail",
            ),
        ),
        migrations.AlterField(
            model_name="attendeemessage",
            name="sent_at",
            field=models.DateTimeField(
                blank=True, help_text="When it was sent out: its e-mails were queued.", null=True
            ),
        ),
        migrations.AlterField(
            model_name="attendeemessage",
            name="status",
            field=models.CharField(
                choices=[("draft", "Draft"), ("sent", "Sent out")], default="draft", max_length=20
            ),
        ),
    ]

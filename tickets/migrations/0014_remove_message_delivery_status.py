from django.db import migrations


class Migration(migrations.Migration):
    """A delivery's state is its e-mail's state now (0012, 0013): drop its own copy."""

    dependencies = [("tickets", "0013_link_message_deliveries")]

    operations = [
        migrations.RemoveField(model_name="messagedelivery", name="attempts"),
        migrations.RemoveField(model_name="messagedelivery", name="last_error"),
        migrations.RemoveField(model_name="messagedelivery", name="sent_at"),
        migrations.RemoveField(model_name="messagedelivery", name="status"),
        migrations.RemoveField(model_name="messagedelivery", name="updated_at"),
    ]

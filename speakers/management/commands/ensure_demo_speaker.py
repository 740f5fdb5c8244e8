import secrets
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from speakers.demo import DEMO_ACCOUNT_SPEAKER
from speakers.models import Speaker


class Command(BaseCommand):
    help = (
        "Make sure the demo speaker account exists and owns the demo speaker profile, unless "
        "either is linked elsewhere. A new account gets a generated password, printed once and "
        "kept in an ignored local file. Existing rows are never changed otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default="speaker@example.org")
        parser.add_argument("--speaker", default=DEMO_ACCOUNT_SPEAKER, help="Speaker slug.")
        parser.add_argument(
            "--password-file",
            default=str(Path(settings.BASE_DIR) / ".local" / "speaker-password.txt"),
        )

    @transaction.atomic
    def handle(self, *args, email, speaker, password_file, **options):
        profile = Speaker.objects.filter(slug=speaker).first()
        if profile is None:
            self.stderr.write(f"No speaker '{speaker}': run `manage.py load_demo` first.")
            return
        user, password = self.ensure_user(email)
        if password is not None:
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        # Link only a free profile to an account without one: links someone made stay.
        if profile.user_id is None and not Speaker.objects.filter(user=user).exists():
            profile.user = user
            profile.save(update_fields=["user", "updated_at"])
        elif profile.user_id != user.pk:
            self.stdout.write(
                f"Speaker '{speaker}' or account {email} is linked elsewhere; left as it is."
            )
        password_path = Path(password_file)
        if password is None:
            where = f" (password in {password_path})" if password_path.exists() else ""
            self.stdout.write(f"Demo speaker account {email} exists{where}.")
            return
        password_path.parent.mkdir(parents=True, exist_ok=True)
        password_path.write_text(f"email: {email}\npassword: {password}\n")
        password_path.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created demo speaker account {email} ({profile.name}) with password: "
                f"{password}\nIt is kept in {password_path}; sign in at /accounts/login/ and "
                "open /speakers/me/."
            )
        )

    def ensure_user(self, email):
        """Return the account for ``email`` and its new password (None if it existed)."""
        user_model = get_user_model()
        user = user_model.objects.filter(email__iexact=email).first()
        if user is not None:
            return user, None
        password = secrets.token_urlsafe(18)
        username = email.split("@")[0]
        user = user_model.objects.create_user(username=username, email=email, password=password)
        return user, password

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure a local organiser (superuser) account exists. A new account gets a "
        "generated password, printed once and kept in an ignored local file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="organiser")
        parser.add_argument("--email", default="organiser@example.org")
        parser.add_argument(
            "--password-file",
            default=str(Path(settings.BASE_DIR) / ".local" / "organiser-password.txt"),
        )

    def handle(self, *args, username, email, password_file, **options):
        user_model = get_user_model()
        password_path = Path(password_file)
        if user_model.objects.filter(username=username).exists():
            where = f" (password in {password_path})" if password_path.exists() else ""
            self.stdout.write(f"Organiser account '{username}' exists{where}.")
            return
        password = secrets.token_urlsafe(18)
        user = user_model.objects.create_superuser(
            username=username, email=email, password=password
        )
        self.mark_email_verified(user)
        password_path.parent.mkdir(parents=True, exist_ok=True)
        password_path.write_text(f"username: {username}\nemail: {email}\npassword: {password}\n")
        password_path.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organiser account '{username}' ({email}) with password: {password}\n"
                f"It is kept in {password_path}; sign in at /admin/."
            )
        )

    def mark_email_verified(self, user):
        """Record the address as verified so that allauth's sign-in accepts it too."""
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )

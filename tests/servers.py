"""Real gunicorn servers on the test database, for tests that need several server processes."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings):
    """Return the URL of the test database the servers must share with the test."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    port = db.get("PORT") or 5432
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"


def server_env(settings, **extra):
    """Return the environment of a server on the test database, with ``extra`` variables."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workshop.settings",
        "DJANGO_ENV": "development",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(settings),
        "CONN_MAX_AGE": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        # As in the tests' own settings (tests/conftest.py): a busy machine is not a lock wait.
        "TICKETS_LOCK_TIMEOUT_MS": "60000",
        **extra,
    }


def start_server(port, env, workers=2):
    command = [
        sys.executable, "-m", "gunicorn", "workshop.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "gthread", "--threads", "4",
        "--timeout", "30", "--graceful-timeout", "2",
    ]  # fmt: skip
    # A file, not a pipe: a pipe nobody reads would stop the server once full of warnings.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    process.log = log
    return process


def wait_until_up(process, base_url, deadline):
    while time.monotonic() < deadline:
        if process.poll() is not None:
            process.log.seek(0)
            raise RuntimeError(f"gunicorn stopped: {process.log.read().decode()[-2000:]}")
        try:
            requests.get(f"{base_url}/schedule.json", timeout=10)
            return  # any answer (404 without a workshop) means the server is up
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn at {base_url} did not answer in time")


@contextlib.contextmanager
def gunicorn_servers(env, count=2, workers=2):
    """Run ``count`` gunicorn servers of ``workers`` processes each; yield their base URLs."""
    ports = [free_port() for _ in range(count)]
    processes = [start_server(port, env, workers) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 120  # a busy machine starts slowly
        for process, url in zip(processes, urls, strict=True):
            wait_until_up(process, url, deadline)
        yield urls
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)  # quick shutdown
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.log.close()


@contextlib.contextmanager
def shop_servers(standin, *, count=2, workers=2, **extra):
    """Run gunicorn servers of the shop paying through ``standin``, rate limits off; yield URLs.

    ``extra`` are more settings for the servers' environment.
    """
    from django.conf import settings

    env = server_env(
        settings,
        STRIPE_SECRET_KEY=standin.api_key,
        STRIPE_WEBHOOK_SECRET=standin.webhook_secret,
        STRIPE_API_BASE=standin.url,
        STRIPE_MAX_NETWORK_RETRIES="0",
        RATELIMIT_ENABLED="0",
        **extra,
    )
    with gunicorn_servers(env, count=count, workers=workers) as urls:
        yield urls

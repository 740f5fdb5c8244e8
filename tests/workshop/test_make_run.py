"""`make run` is one command: the web server, the task worker and, without Stripe keys, the
local Stripe stand-in start together and stop together."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "make run stopped before serving"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"nothing listened on port {port} within {seconds} s")


def group_alive(group):
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def make_run(tmp_path, **env):
    """Start `make run` in its own process group on a fresh SQLite database (demo skipped)."""
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DJANGO_"))}
    clean.update(DATABASE_URL=database, **env)
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=clean,
        check=True,
    )
    return subprocess.Popen(
        # The demo is left out (-o demo): this is about what runs, not what it shows.
        ["make", "-o", ".venv/.installed", "-o", "demo", "run", f"PORT={env['PORT']}"],
        cwd=ROOT,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="no .venv")
def test_make_run_serves_the_stripe_standin_and_ctrl_c_stops_everything(tmp_path):
    port, standin_port = free_port(), free_port()
    process = make_run(tmp_path, PORT=str(port), STRIPE_STANDIN_PORT=str(standin_port))
    try:
        wait_for_port(port, process)
        wait_for_port(standin_port, process)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{standin_port}/v1/charges/x", timeout=10)
        assert refused.value.code == 401  # the stand-in, asking for its development key

        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C in the terminal
        output, _ = process.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        if group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("a process of make run outlived Ctrl+C")
    assert (
        f"Stripe stand-in on http://127.0.0.1:{standin_port} (test payments, no money moves); "
        f"events go to http://127.0.0.1:{port}/tickets/stripe/webhook/"
    ) in output


def test_make_run_with_stripe_keys_starts_no_standin():
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "-o", "demo", "run", "PORT=8102"],
        cwd=ROOT,
        env={**os.environ, "STRIPE_SECRET_KEY": "sk_test_real", "STRIPE_WEBHOOK_SECRET": "whsec_x"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert "run_stripe_standin" not in result.stdout
    assert "STRIPE_API_BASE" not in result.stdout
    assert "runserver 127.0.0.1:8102" in result.stdout

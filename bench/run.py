"""Benchmark the public pages, the exports and a ticket rush under gunicorn (``make bench``).

For each data size: a fresh PostgreSQL database, migrations, generated data, a flushed Redis
database for the cache; then gunicorn (2 workers on 127.0.0.1) serving first a bare Django view
and then the site with production settings. Results go to bench/results/ (JSON and Markdown)
and the table is printed. Exits 1 when the rush oversells or sells short, or any request fails,
or a storm (bench/storms.py) oversells or its money does not balance to the cent.
See bench/README.md for the settings (environment variables) and what each number means.
"""

import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.loadgen import (  # noqa: E402
    BROWSER_HEADERS,
    Gunicorn,
    Load,
    environment,
    get,
    timed_get,
)
from bench.rush import read_records, run_rush, where_time_goes  # noqa: E402
from bench.storms import run_storms  # noqa: E402

RESULTS = ROOT / "bench" / "results"
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = os.environ.get("BENCH_DATABASE", "workshop_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
UNCACHED_REPEATS = int(os.environ.get("BENCH_UNCACHED_REPEATS", "20"))
BUYERS = int(os.environ.get("BENCH_BUYERS", "1000"))
SEATS = int(os.environ.get("BENCH_SEATS", "250"))
# Buyers paying by invoice, each e-mailed the invoice when the order is placed, while the
# mail server takes SMTP_DELAY seconds per message (a slow or distant relay).
MAIL_BUYERS = int(os.environ.get("BENCH_MAIL_BUYERS", "100"))
SMTP_DELAY = float(os.environ.get("BENCH_SMTP_DELAY", "2"))
STORM_SEATS = int(os.environ.get("BENCH_STORM_SEATS", "50"))
STORM_NEWCOMERS = int(os.environ.get("BENCH_STORM_NEWCOMERS", "100"))
# Copies of the large pages and exports that whitenoise serves as static files, for comparison.
STATIC_COPIES = ROOT / "staticfiles" / "bench-copies"
STATIC_NAMES = {
    "schedule": "schedule.html",
    "talks": "talks.html",
    "speakers": "speakers.html",
    "schedule.xml": "schedule.xml",
    "schedule.json": "schedule.json",
    "schedule.ics": "schedule.ics",
}
ENCODINGS = {"br": "br", "gzip": "gzip", "none": None}

PAGES = [
    ("home", "/"),
    ("schedule", "/schedule/"),
    ("talks", "/talks/"),
    ("one talk", "/talks/{talk}/"),
    ("speakers", "/speakers/"),
    ("one speaker", "/speakers/{speaker}/"),
    ("tickets", "/tickets/"),
    ("schedule.xml", "/schedule.xml"),
    ("schedule.json", "/schedule.json"),
    ("schedule.ics", "/schedule.ics"),
]


def sizes():
    wanted = os.environ.get("BENCH_SIZE", "large").strip().lower()
    choices = {"small": ["small"], "large": ["large"], "both": ["small", "large"]}
    if wanted not in choices:
        raise SystemExit(f"BENCH_SIZE must be small, large or both, not {wanted!r}.")
    return choices[wanted]


def site_environment(standin):
    """Return the site's environment: production settings behind a (simulated) TLS proxy."""
    return environment(
        DJANGO_SETTINGS_MODULE="workshop.settings",
        DJANGO_ENV="production",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="https://bench.example.org",
        DATABASE_URL=f"{POSTGRES}/{DATABASE}",
        CONN_MAX_AGE=os.environ.get("BENCH_CONN_MAX_AGE", "60"),
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX="bench",
        # The load generator is one client that would pass the per-address limits at once.
        RATELIMIT_ENABLED="0",
        TRUSTED_PROXY_COUNT="1",
        LOG_LEVEL="WARNING",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        STRIPE_SECRET_KEY=standin.api_key,
        STRIPE_WEBHOOK_SECRET=standin.webhook_secret,
        STRIPE_API_BASE=standin.url,
        STRIPE_STANDIN_FOR_BENCH="1",
        STRIPE_MAX_NETWORK_RETRIES="0",
        # Set by the browser tests for Playwright's event loop; production refuses it
        # (check --deploy, async.E001), and the bench site runs as production.
        DJANGO_ALLOW_ASYNC_UNSAFE=None,
    )


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=ROOT, check=True)


def fresh_database():
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')


def flush_redis():
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def change_one_talk():
    """Rename one talk, as an organiser would in the admin: its pieces and every page go stale."""
    from schedule.models import Talk

    talk = Talk.objects.published().order_by("id").first()
    talk.title = talk.title[:-1] if talk.title.endswith("!") else f"{talk.title}!"
    talk.save()


def change_everything():
    """Forget every stored page and piece: the next request renders everything afresh."""
    from workshop.cache import forget_cached_pages

    forget_cached_pages()


def page_paths():
    from schedule.models import Talk
    from speakers.models import Speaker

    talk = Talk.objects.published().order_by("id").first()
    speaker = Speaker.objects.published().order_by("id").first()
    return [(name, path.format(talk=talk.slug, speaker=speaker.slug)) for name, path in PAGES]


def measure_bare(server, duration):
    get("127.0.0.1", server.port, "/")
    return server.load("/", duration=duration, connections=CONNECTIONS)


def mean_load(loads):
    """Return the mean of the bare view's loads, and each of them."""
    mean = Load(
        requests_per_second=statistics.mean(one.requests_per_second for one in loads),
        median_ms=statistics.mean(one.median_ms for one in loads),
        p99_ms=statistics.mean(one.p99_ms for one in loads),
        requests=sum(one.requests for one in loads),
        tool=loads[0].tool,
        cpu_ms_per_request=statistics.mean(one.cpu_ms_per_request or 0 for one in loads),
    )
    return mean.as_dict() | {"each_rps": [round(one.requests_per_second) for one in loads]}


def wire_bytes(server, path):
    """Return the bytes of ``path``'s body as sent with brotli, gzip and no compression."""
    sizes = {}
    for name, encoding in ENCODINGS.items():
        headers = {"Accept-Encoding": encoding} if encoding else {}
        _status, _headers, body = get("127.0.0.1", server.port, path, headers)
        sizes[name] = len(body)
    return sizes


def write_static_copies(server, pages):
    """Write the large pages' bodies as whitenoise serves static files: plain, .br and .gz.

    The compressed files are the site's own stored copies, so both send the same bytes.
    """
    STATIC_COPIES.mkdir(parents=True, exist_ok=True)
    for name, path in pages:
        if name not in STATIC_NAMES:
            continue
        target = STATIC_COPIES / STATIC_NAMES[name]
        for suffix, encoding in (("", None), (".br", "br"), (".gz", "gzip")):
            headers = {"Accept-Encoding": encoding} if encoding else {}
            _status, _headers, body = get("127.0.0.1", server.port, path, headers)
            target.with_name(target.name + suffix).write_bytes(body)


def uncached_times(server, path, change):
    """Time first requests of ``path`` after ``change``; return the median and max ms, errors."""
    times, errors = [], 0
    for _ in range(UNCACHED_REPEATS):
        change()
        milliseconds, status, _ = timed_get(server.url + path, BROWSER_HEADERS)
        times.append(milliseconds)
        errors += status != 200
    return round(statistics.median(times), 1), round(max(times), 1), errors


def measure_page(server, bare_server, name, path):
    """Load the cached page, the bare view and the page's static copy; time uncached requests.

    Each page is compared with the bare view and the static copy measured next to it, so that
    the ratios hold when other work on a shared machine comes and goes during the run.
    """
    status, _, body = get("127.0.0.1", server.port, path)
    get("127.0.0.1", server.port, path, BROWSER_HEADERS)
    cached = server.load(path, duration=DURATION, connections=CONNECTIONS, headers=BROWSER_HEADERS)
    bare = measure_bare(bare_server, max(DURATION // 2, 1))
    page = {"name": name, "path": path, "status": status, "bytes": len(body)}
    page["wire_bytes"] = wire_bytes(server, path)
    page.update(cached.as_dict())
    page["bare_rps"] = round(bare.requests_per_second)
    page["ratio"] = round(cached.requests_per_second / bare.requests_per_second, 3)
    page["bare_cpu_ms_per_request"] = bare.cpu_ms_per_request
    if cached.cpu_ms_per_request and bare.cpu_ms_per_request:
        page["cpu_ratio"] = round(bare.cpu_ms_per_request / cached.cpu_ms_per_request, 3)
    if name in STATIC_NAMES:
        static_path = f"/static/{STATIC_COPIES.name}/{STATIC_NAMES[name]}"
        static = server.load(
            static_path, duration=DURATION, connections=CONNECTIONS, headers=BROWSER_HEADERS
        )
        page["static_rps"] = round(static.requests_per_second)
        page["static_ratio"] = round(cached.requests_per_second / static.requests_per_second, 3)
        page["static_non_2xx"] = static.non_2xx
    one = uncached_times(server, path, change_one_talk)
    everything = uncached_times(server, path, change_everything)
    page["uncached_median_ms"], page["uncached_max_ms"], one_errors = one
    page["everything_median_ms"], page["everything_max_ms"], all_errors = everything
    page["uncached_errors"] = one_errors + all_errors
    # The workers' high-water mark so far shows which page raised it.
    page["worker_peak_mb"] = max(worker["peak_mb"] for worker in server.memory())
    static_note = f", {page['static_ratio']:4.0%} of static" if "static_ratio" in page else ""
    print(
        f"  {name:13} {cached.requests_per_second:7.0f} req/s  {page['ratio']:5.0%} of bare "
        f"({bare.requests_per_second:.0f}){static_note}  after one change "
        f"{page['uncached_median_ms']:6.1f} ms, everything {page['everything_median_ms']:6.1f} ms",
        flush=True,
    )
    return page, bare


def ticket_rush(servers, standin, records):
    """Put SEATS seats of a paid type on sale and send BUYERS buyers at once to ``servers``."""
    from django.utils import timezone

    from tickets.models import Ticket, TicketType, holding_seats_q
    from workshop.models import Workshop

    workshop = Workshop.objects.current()
    rush_type = TicketType.objects.create(
        workshop=workshop,
        name="Rush",
        price=Decimal("25.00"),
        capacity=SEATS,
        max_per_order=1,
        sale_ends_at=workshop.starts_at,
        position=99,
    )
    sessions_before = len(standin.sessions)
    summary = run_rush(
        [server.url for server in servers],
        rush_type.id,
        buyers=BUYERS,
        payment_prefix=f"{standin.url}/pay/",
    )
    outcomes = summary.pop("outcomes")
    tickets = Ticket.objects.filter(ticket_type=rush_type)
    summary["servers"] = len(servers)
    summary["seats"] = SEATS
    summary["seats_sold"] = tickets.filter(holding_seats_q(timezone.now(), "order__")).count()
    summary["tickets_in_database"] = tickets.count()
    summary["stripe_sessions"] = len(standin.sessions) - sessions_before
    summary["where_time_goes"] = where_time_goes(read_records(records), outcomes)
    return summary


def mail_rush(servers, smtp):
    """Send MAIL_BUYERS buyers paying by invoice at once; time to their order page.

    Each order is e-mailed with its invoice while the mail server takes SMTP_DELAY seconds a
    message: the e-mail is a task for the worker, so the buyer must not wait for it.
    """
    from tickets.models import TicketType
    from workshop.models import Workshop

    workshop = Workshop.objects.current()
    invoice_type = TicketType.objects.create(
        workshop=workshop,
        name="Rush by invoice",
        price=Decimal("25.00"),
        capacity=MAIL_BUYERS,
        max_per_order=1,
        invoice_allowed=True,
        sale_ends_at=workshop.starts_at,
        position=100,
    )
    received_before = len(smtp.handler.received)
    summary = run_rush(
        [server.url for server in servers],
        invoice_type.id,
        buyers=MAIL_BUYERS,
        payment_prefix="/orders/",
        method="invoice",
    )
    summary.pop("outcomes")
    summary["smtp_seconds_per_message"] = SMTP_DELAY
    summary["emails_delivered_by_then"] = len(smtp.handler.received) - received_before
    return summary


def slow_smtp_server():
    """Return a started SMTP server (aiosmtpd) that takes SMTP_DELAY seconds per message."""
    from tests.smtp import SMTPServer

    server = SMTPServer()
    server.handler.delay = SMTP_DELAY
    return server.start()


def task_worker(env, log_dir):
    """Start ``manage.py run_worker``: it renders and sends the rush's e-mails."""
    log = (log_dir / "worker.log").open("wb")
    command = [sys.executable, "manage.py", "run_worker", "--no-startup-delay"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def ticket_storms(servers, standin):
    """Run the late-payment and refund storms (bench/storms.py) on the rush's servers."""
    from workshop.models import Workshop

    return run_storms(
        base_urls=[server.url for server in servers],
        standin=standin,
        workshop=Workshop.objects.current(),
        seats=STORM_SEATS,
        newcomers=STORM_NEWCOMERS,
    )


def rush_servers(env, log_dir, smtp):
    """Return two app servers for the rush (bench/rush_wsgi.py) and their records' folder.

    Their e-mail goes to ``smtp`` through the task queue, as in production.
    """
    records = RESULTS / "rush-records"
    records.mkdir(parents=True, exist_ok=True)
    for old in records.glob("*.jsonl"):
        old.unlink()
    rush_env = {
        **env,
        "BENCH_RUSH_RECORDS": str(records),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_USE_TLS": "0",
    }
    servers = [
        Gunicorn("bench.rush_wsgi:application", rush_env, log_dir / f"gunicorn-rush-{n}.log")
        for n in (1, 2)
    ]
    return servers, records


def run_size(size, env, standin, log_dir):
    from workshop.bench_data import SIZES

    print(f"== {size} data ==", flush=True)
    fresh_database()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "generate_bench_data", "--size", size)
    flush_redis()
    paths = page_paths()
    # whitenoise finds static files when it starts: write the copies first, then start afresh.
    first = Gunicorn("workshop.wsgi:application", env, log_dir / f"gunicorn-{size}-copies.log")
    try:
        first.start()
        write_static_copies(first, paths)
    finally:
        first.stop()
    bare_server = Gunicorn("bench.bare_wsgi:application", env, log_dir / "gunicorn-bare.log")
    server = Gunicorn("workshop.wsgi:application", env, log_dir / f"gunicorn-{size}.log")
    try:
        bare_server.start()
        server.start()
        memory_at_start = server.memory()
        bare_loads = [measure_bare(bare_server, DURATION)]
        print(f"  {'bare view':13} {bare_loads[0].requests_per_second:7.0f} req/s", flush=True)
        pages = []
        for name, path in paths:
            page, bare = measure_page(server, bare_server, name, path)
            pages.append(page)
            bare_loads.append(bare)
        bare = mean_load(bare_loads)
        memory = server.memory()
    finally:
        server.stop()
        bare_server.stop()
    smtp = slow_smtp_server()
    servers, records = rush_servers(env, log_dir, smtp)
    worker = task_worker(servers[0].env, log_dir)
    try:
        for rush_server in servers:
            rush_server.start()
        rush = ticket_rush(servers, standin, records)
        rush["by_invoice"] = mail_rush(servers, smtp)
        storms = ticket_storms(servers, standin)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        for rush_server in servers:
            rush_server.stop()
        smtp.stop()
    run = {
        "size": size,
        "data": ", ".join(f"{value} {key}" for key, value in SIZES[size].items()),
        "load_tool": bare["tool"],
        "connections": CONNECTIONS,
        "duration": DURATION,
        "uncached_repeats": UNCACHED_REPEATS,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "bare": bare,
        "pages": pages,
        "rush": rush,
        "storms": storms,
        "memory": memory,
        "memory_at_start": memory_at_start,
    }
    run["targets"] = report.targets(run)
    return run


def git_revision():
    if os.environ.get("BENCH_REVISION"):
        return os.environ["BENCH_REVISION"]
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def write_results(results):
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = "\n".join(report.markdown(run) for run in results["runs"])
    header = (
        f"## make bench, {results['started_at']} (revision {results['revision']}, "
        f"{results['cpus']} CPUs, load average before {results['load_before']})\n\n"
    )
    for name in (f"bench-{stamp}", "latest"):
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(header + text)
    return header + text


def main():
    from tickets.stripe_standin import StripeStandIn

    chosen = sizes()
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    results = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "revision": git_revision(),
        "cpus": os.cpu_count(),
        "load_before": round(os.getloadavg()[0], 2),
        "runs": [],
    }
    with StripeStandIn() as standin:
        env = site_environment(standin)
        os.environ.update(env)
        import django

        django.setup()
        manage(env, "collectstatic", "--noinput", "-v0")
        for size in chosen:
            results["runs"].append(run_size(size, env, standin, log_dir))
    results["load_after"] = round(os.getloadavg()[0], 2)
    print("\n" + write_results(results))
    problems = [problem for run in results["runs"] for problem in report.failures(run)]
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"make bench took {time.monotonic() - started:.0f} s")
    sys.exit(code)

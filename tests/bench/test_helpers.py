"""The bench's helpers that need no gunicorn: parsing wrk, memory, rush and report logic."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import report
from bench.loadgen import (
    Load,
    duration_ms,
    parse_stat_cpu,
    parse_status_memory,
    parse_wrk,
    percentile,
    run_python_load,
    split_url,
)
from bench.rush import TOKEN, Outcome, client_address, summarise, where_time_goes

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:40123/schedule/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.52ms    2.31ms  30.12ms   80.00%
    Req/Sec   761.32     50.12     0.86k    70.00%
  Latency Distribution
     50%  812.00us
     75%   11.52ms
     90%   13.01ms
     99%    1.20s
  15170 requests in 10.01s, 2.10MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 12
Requests/sec:   1515.52
Transfer/sec:    214.56KB
"""


def test_parse_wrk_reads_rate_latencies_and_errors():
    load = parse_wrk(WRK_OUTPUT)

    assert load == Load(
        requests_per_second=1515.52,
        median_ms=0.812,
        p99_ms=1200.0,
        requests=15170,
        non_2xx=12,
        socket_errors=5,
    )


def test_parse_wrk_without_error_lines_counts_none():
    clean = "\n".join(
        line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line
    )

    load = parse_wrk(clean)

    assert (load.non_2xx, load.socket_errors) == (0, 0)


def test_parse_wrk_refuses_output_without_rate():
    with pytest.raises(ValueError, match="Requests/sec"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("812.00us", 0.812), ("10.5ms", 10.5), ("1.02s", 1020.0), ("2m", 120000.0)],
)
def test_duration_ms_converts_wrk_units(text, expected):
    assert duration_ms(text) == pytest.approx(expected)


def test_percentile_by_nearest_rank():
    values = list(range(1, 101))

    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (
        50,
        99,
        100,
    )
    assert percentile([7], 0.99) == 7


def test_parse_status_memory_reads_peak_and_current_in_mb():
    status = "Name:\tgunicorn\nVmPeak:\t  300000 kB\nVmHWM:\t  131072 kB\nVmRSS:\t   102400 kB\n"

    assert parse_status_memory(status) == {"peak_mb": 128.0, "rss_mb": 100.0}


def test_parse_stat_cpu_adds_user_and_system_time():
    # pid (comm with a space) state ppid ... utime=250 stime=50 (fields 14 and 15)
    stat = "4242 (gunicorn: worker) S 4241 4241 1 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 1 0"

    assert parse_stat_cpu(stat, 100) == 3.0


def test_split_url_accepts_only_plain_http():
    assert split_url("http://127.0.0.1:8000/talks/") == ("127.0.0.1", 8000, "/talks/")
    assert split_url("http://127.0.0.1:8000") == ("127.0.0.1", 8000, "/")
    with pytest.raises(ValueError):
        split_url("https://example.org/")


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello"
        self.send_response(200 if self.path == "/" else 500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def hello_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_python_load_generator_counts_requests_and_failures(hello_server):
    good = run_python_load(hello_server + "/", duration=0.3, connections=2)
    bad = run_python_load(hello_server + "/broken", duration=0.2, connections=1)

    assert good.tool == "python"
    assert good.requests > 0 and good.non_2xx == 0 and good.socket_errors == 0
    assert bad.requests == bad.non_2xx > 0


def test_csrf_token_is_found_in_a_form():
    page = '<form><input type="hidden" name="csrfmiddlewaretoken" value="abc123"></form>'

    assert TOKEN.search(page)[1] == "abc123"


def test_each_buyer_has_its_own_client_address():
    addresses = {client_address(number) for number in range(1000)}

    assert len(addresses) == 1000
    assert client_address(0) == "198.51.100.1"


def test_summarise_counts_payments_refusals_and_errors():
    pay = "http://127.0.0.1:9/pay/"
    outcomes = [
        Outcome(302, pay + "cs_1", 0.1),
        Outcome(302, pay + "cs_2", 0.3),
        Outcome(302, "/orders/X/y/", 0.2),
        Outcome(409, "", 0.2),
        Outcome(503, "", 0.2),
        Outcome(500, "", 0.2),
        Outcome(0, error="ConnectionResetError: reset"),
    ]

    summary = summarise(outcomes, pay, 1.234)

    assert summary["sent_to_payment"] == 2
    assert (summary["refused_sold_out"], summary["busy_503"], summary["status_500"]) == (1, 1, 1)
    assert summary["other"] == 2
    assert summary["to_payment_median_ms"] == 200.0
    assert summary["errors"] == ["ConnectionResetError: reset"]
    assert summary["wall_seconds"] == 1.23


def a_run(**changes):
    page = {
        "name": "schedule",
        "path": "/schedule/",
        "status": 200,
        "bytes": 266_240,
        "requests_per_second": 600.0,
        "median_ms": 20.0,
        "p99_ms": 50.0,
        "bare_rps": 1000,
        "ratio": 0.6,
        "cpu_ms_per_request": 1.5,
        "cpu_ratio": 0.4,
        "worker_peak_mb": 131.2,
        "non_2xx": 0,
        "uncached_median_ms": 30.0,
        "everything_median_ms": 80.0,
        "uncached_errors": 0,
        "static_rps": 800,
        "static_ratio": 0.75,
        "wire_bytes": {"br": 17_408, "gzip": 20_480, "none": 266_240},
    }
    run = {
        "size": "large",
        "data": "300 talks",
        "load_tool": "wrk",
        "connections": 16,
        "duration": 10,
        "uncached_repeats": 20,
        "bare": {
            "requests_per_second": 1000.0,
            "median_ms": 5.0,
            "p99_ms": 9.0,
            "cpu_ms_per_request": 0.6,
        },
        "pages": [{**page, **changes.pop("page", {})}],
        "memory": [{"pid": 1, "peak_mb": 120.0, "rss_mb": 110.0}],
        "rush": {
            "buyers": 200,
            "seats": 50,
            "seats_sold": 50,
            "sent_to_payment": 50,
            "refused_sold_out": 150,
            "busy_503": 0,
            "status_500": 0,
            "other": 0,
            "to_payment_median_ms": 900.0,
            "to_payment_p99_ms": 2000.0,
            "wall_seconds": 3.0,
        },
    }
    run["rush"].update(changes.pop("rush", {}))
    run["targets"] = report.targets(run)
    return run


def test_targets_met_and_missed():
    assert [t["met"] for t in a_run()["targets"]] == [True, True, True, True, True]
    missed = a_run(page={"ratio": 0.4, "static_ratio": 0.5, "uncached_median_ms": 45.0})
    assert [t["met"] for t in missed["targets"]] == [False, False, False, True, True]
    assert missed["targets"][0]["measured"] == "lowest 40% (schedule)"
    assert missed["targets"][1]["measured"] == "lowest 50% (schedule)"
    assert missed["targets"][2]["measured"] == "highest 45 ms (schedule)"


def test_failures_on_oversold_short_or_error_answers():
    assert report.failures(a_run()) == []
    assert report.failures(a_run(rush={"seats_sold": 51})) == ["oversold: 51 of 50 seats"]
    assert report.failures(a_run(rush={"seats_sold": 49})) == ["only 49 of 50 seats sold"]
    assert report.failures(a_run(rush={"status_500": 2})) == ["2 buyers got status 500"]
    assert len(report.failures(a_run(page={"non_2xx": 3}))) == 1


def test_markdown_table_has_a_row_per_page_and_the_targets():
    text = report.markdown(a_run())

    assert (
        "| schedule | /schedule/ | 600 | 20.0 | 50.0 | 1000 | 60% | 800 | 75% | 1.50 | 30.0 "
        "| 80.0 | 131 |" in text
    )
    assert "| bare Django view (mean) | / | 1000 | 5.0 | 9.0 | | 100% | | | 0.60 | | | |" in text
    assert "| schedule | 17 | 20 | 260 |" in text
    assert "| seats sold (database) | 50 |" in text
    assert "| worker peak memory < 150 MB | 120 MB | yes |" in text


def test_where_time_goes_reads_the_servers_records():
    records = [
        {"method": "GET", "buyer": client_address(0), "app_ms": 10.0, "lock_wait_ms": 0.0,
         "buyer_lock_wait_ms": 0.0, "lock_hold_ms": None, "stripe_ms": 0.0},
        {"method": "POST", "buyer": client_address(0), "app_ms": 50.0, "lock_wait_ms": 4.0,
         "buyer_lock_wait_ms": 1.0, "lock_hold_ms": 6.0, "stripe_ms": 20.0},
        {"method": "POST", "buyer": client_address(1), "app_ms": 8.0, "lock_wait_ms": 2.0,
         "buyer_lock_wait_ms": 0.0, "lock_hold_ms": None, "stripe_ms": 0.0},
    ]  # fmt: skip
    outcomes = [Outcome(302, "http://x/pay/cs_1", 0.5), Outcome(409, "", 0.1)]

    parts = where_time_goes(records, outcomes)

    assert parts["capacity lock held"] == {"count": 1, "median_ms": 6.0, "p99_ms": 6.0}
    assert parts["capacity lock wait"]["median_ms"] == 3.0
    assert parts["Stripe call"] == {"count": 1, "median_ms": 20.0, "p99_ms": 20.0}
    assert parts["waiting for a worker (to payment)"]["median_ms"] == 440.0


def test_the_bench_site_starts_with_its_production_settings():
    """make bench's site settings pass Django's deployment checks (a refusal stopped the bench)."""
    import subprocess
    import sys
    from types import SimpleNamespace

    from bench import run as bench_run

    standin = SimpleNamespace(
        api_key="sk_test_standin", webhook_secret="whsec_standin", url="http://127.0.0.1:9"
    )
    env = bench_run.site_environment(standin)

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=bench_run.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr

"""Serve with gunicorn, load a URL with wrk (or a Python client), read workers' memory."""

import http.client
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the TLS proxy in front of gunicorn adds: the request came over HTTPS, from this client.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"}
# What browsers send: the load takes the compressed copies, as visitors do.
BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br, zstd"}
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass
class Load:
    """What one load run measured; latencies in milliseconds."""

    requests_per_second: float
    median_ms: float
    p99_ms: float
    requests: int = 0
    non_2xx: int = 0
    socket_errors: int = 0
    tool: str = "wrk"
    # The workers' CPU time (user + system) per request: steadier than req/s on a busy machine.
    cpu_ms_per_request: float | None = None

    def as_dict(self):
        return asdict(self)


def percentile(values, fraction):
    """Return the ``fraction`` percentile (0..1) by the nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(round(fraction * len(ordered), 9))))
    return ordered[rank - 1]


def duration_ms(text):
    """Return wrk's ``10.52ms`` / ``812.00us`` / ``1.02s`` in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"Not a wrk duration: {text!r}")
    return float(match[1]) * UNITS[match[2]]


def parse_wrk(output):
    """Read requests per second, median and p99 latency and errors from ``wrk --latency``."""

    def number(pattern, default=None):
        match = re.search(pattern, output)
        if match is None:
            if default is None:
                raise ValueError(f"wrk output lacks {pattern!r}:\n{output}")
            return default
        return match

    errors = number(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", default=False
    )
    non_2xx = number(r"Non-2xx or 3xx responses: (\d+)", default=False)
    return Load(
        requests_per_second=float(number(r"Requests/sec:\s+([\d.]+)")[1]),
        median_ms=duration_ms(number(r"\n\s+50%\s+(\S+)")[1]),
        p99_ms=duration_ms(number(r"\n\s+99%\s+(\S+)")[1]),
        requests=int(number(r"(\d+) requests in")[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run_wrk(url, *, duration, connections, threads=2, headers=None):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in {**PROXY_HEADERS, **(headers or {})}.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def run_python_load(url, *, duration, connections, headers=None):
    """Load ``url`` from ``connections`` threads for ``duration`` seconds, like wrk."""
    host, port, path = split_url(url)
    latencies, failures, lock = [], [0, 0], threading.Lock()
    stop_at = time.perf_counter() + duration

    def worker():
        mine, bad, broken = [], 0, 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                status, _, _ = get(host, port, path, headers)
            except OSError:
                broken += 1
                continue
            mine.append((time.perf_counter() - started) * 1000)
            bad += not 200 <= status < 400
        with lock:
            latencies.extend(mine)
            failures[0] += bad
            failures[1] += broken

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return Load(
        requests_per_second=len(latencies) / elapsed,
        median_ms=statistics.median(latencies) if latencies else float("nan"),
        p99_ms=percentile(latencies, 0.99),
        requests=len(latencies),
        non_2xx=failures[0],
        socket_errors=failures[1],
        tool="python",
    )


def load(url, *, duration, connections, headers=None):
    """Load ``url`` with wrk when installed, else with the Python client."""
    if shutil.which("wrk"):
        return run_wrk(url, duration=duration, connections=connections, headers=headers)
    return run_python_load(url, duration=duration, connections=connections, headers=headers)


def split_url(url):
    match = re.fullmatch(r"http://([^:/]+):(\d+)(/.*)?", url)
    if not match:
        raise ValueError(f"Only http://host:port/path URLs: {url!r}")
    return match[1], int(match[2]), match[3] or "/"


def get(host, port, path, headers=None):
    """GET ``path`` on a new connection; return status, headers and body."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request("GET", path, headers={**PROXY_HEADERS, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def timed_get(url, headers=None):
    """Return (milliseconds, status, body length) of one GET of ``url``."""
    host, port, path = split_url(url)
    started = time.perf_counter()
    status, _, body = get(host, port, path, headers)
    return (time.perf_counter() - started) * 1000, status, len(body)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Gunicorn:
    """A gunicorn serving ``app`` with two workers on 127.0.0.1, started by us."""

    app: str
    env: dict
    log_path: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path="/"):
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            self.app,
            f"--workers={self.workers}",
            f"--bind=127.0.0.1:{self.port}",
            f"--chdir={ROOT}",
            f"--error-logfile={self.log_path}",
        ]
        self.process = subprocess.Popen(command, env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited; see {self.log_path}")
            try:
                get("127.0.0.1", self.port, ready_path)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.app} did not answer in 60 s; see {self.log_path}")

    def worker_pids(self):
        return children(self.process.pid)

    def cpu_seconds(self):
        """Return the CPU time (user + system) the workers have used so far."""
        return sum(cpu_seconds(pid) for pid in self.worker_pids())

    def load(self, path, *, duration, connections, headers=None):
        """Load ``path`` and note the workers' CPU time per request."""
        before = self.cpu_seconds()
        result = load(self.url + path, duration=duration, connections=connections, headers=headers)
        if result.requests:
            spent = self.cpu_seconds() - before
            result.cpu_ms_per_request = round(spent * 1000 / result.requests, 3)
        return result

    def memory(self):
        """Return peak and current resident memory (MB) of each worker."""
        return [{"pid": pid, **memory_mb(pid)} for pid in self.worker_pids()]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def children(pid):
    """Return the ids of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{pid}$", status, re.MULTILINE):
            found.append(int(entry.name))
    return sorted(found)


def parse_status_memory(status_text):
    """Return VmHWM (peak) and VmRSS (now) in MB from a /proc/<pid>/status text."""
    values = {}
    for key, name in (("VmHWM", "peak_mb"), ("VmRSS", "rss_mb")):
        match = re.search(rf"^{key}:\s+(\d+) kB$", status_text, re.MULTILINE)
        values[name] = round(int(match[1]) / 1024, 1) if match else None
    return values


def parse_stat_cpu(stat_text, ticks_per_second):
    """Return user + system CPU seconds from a /proc/<pid>/stat line."""
    # The command name (field 2) may hold spaces; the fields after its ")" are fixed.
    fields = stat_text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def cpu_seconds(pid):
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # a worker that has just exited
        return 0.0
    return parse_stat_cpu(text, os.sysconf("SC_CLK_TCK"))


def memory_mb(pid):
    return parse_status_memory(Path(f"/proc/{pid}/status").read_text())


def environment(**overrides):
    """Return this process's environment with ``overrides`` (None removes a variable)."""
    env = dict(os.environ)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env

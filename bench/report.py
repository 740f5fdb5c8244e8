"""Judge a bench run against the targets of issue 8 and write it as a Markdown table."""

CACHED_RATIO = 0.5  # of the bare view's requests per second
UNCACHED_MEDIAN_MS = 100
WORKER_PEAK_MB = 150


def targets(run):
    """Return each target with the measured value and whether it is met."""
    pages = run["pages"]
    worst_ratio = min(pages, key=lambda page: page["ratio"])
    slowest = max(pages, key=lambda page: page["uncached_median_ms"])
    peak = max(worker["peak_mb"] for worker in run["memory"])
    return [
        {
            "target": f"cached throughput >= {CACHED_RATIO:.0%} of the bare view on every page",
            "measured": f"lowest {worst_ratio['ratio']:.0%} ({worst_ratio['name']})",
            "met": worst_ratio["ratio"] >= CACHED_RATIO,
        },
        {
            "target": f"uncached median < {UNCACHED_MEDIAN_MS} ms on every page",
            "measured": f"highest {slowest['uncached_median_ms']:.0f} ms ({slowest['name']})",
            "met": slowest["uncached_median_ms"] < UNCACHED_MEDIAN_MS,
        },
        {
            "target": f"worker peak memory < {WORKER_PEAK_MB} MB",
            "measured": f"{peak:.0f} MB",
            "met": peak < WORKER_PEAK_MB,
        },
    ]


def failures(run):
    """Return why this run must fail ``make bench``: oversold, short, or an error answer."""
    problems = []
    rush = run.get("rush")
    if rush:
        if rush["seats_sold"] > rush["seats"]:
            problems.append(f"oversold: {rush['seats_sold']} of {rush['seats']} seats")
        elif rush["seats_sold"] < rush["seats"]:
            problems.append(f"only {rush['seats_sold']} of {rush['seats']} seats sold")
        if rush["status_500"]:
            problems.append(f"{rush['status_500']} buyers got status 500")
    for page in run["pages"]:
        if page["status"] != 200 or page["non_2xx"] or page["uncached_errors"]:
            problems.append(
                f"{page['path']}: status {page['status']}, {page['non_2xx']} non-2xx under load, "
                f"{page['uncached_errors']} failed uncached requests"
            )
    return problems


def number(value, spec):
    return "" if value is None else format(value, spec)


def markdown(run):
    """Return the run as Markdown: pages, memory, rush and targets."""
    bare = run["bare"]
    lines = [
        f"### {run['size']} data ({run['data']})",
        "",
        f"Load: {run['load_tool']}, {run['connections']} connections, {run['duration']} s per "
        f"page; uncached: median of {run['uncached_repeats']} first requests after a change.",
        "",
        "| page | path | KB | req/s | median ms | p99 ms | bare req/s | vs bare "
        "| worker CPU ms/req | CPU vs bare | uncached median ms | worker peak MB so far |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| bare Django view (mean) | / | 0 | {bare['requests_per_second']:.0f} "
        f"| {bare['median_ms']:.1f} | {bare['p99_ms']:.1f} | | 100% "
        f"| {number(bare.get('cpu_ms_per_request'), '.2f')} | 100% | | |",
    ]
    for page in run["pages"]:
        lines.append(
            f"| {page['name']} | {page['path']} | {page['bytes'] / 1024:.0f} "
            f"| {page['requests_per_second']:.0f} | {page['median_ms']:.1f} | {page['p99_ms']:.1f} "
            f"| {page['bare_rps']:.0f} | {page['ratio']:.0%} "
            f"| {number(page.get('cpu_ms_per_request'), '.2f')} "
            f"| {number(page.get('cpu_ratio'), '.0%')} | {page['uncached_median_ms']:.1f} "
            f"| {number(page.get('worker_peak_mb'), '.0f')} |"
        )
    workers = ", ".join(f"{w['peak_mb']:.0f} MB" for w in run["memory"])
    started = ", ".join(f"{w['rss_mb']:.0f} MB" for w in run.get("memory_at_start", []))
    lines += ["", f"Worker peak memory (VmHWM): {workers} (resident after start: {started}).", ""]
    rush = run.get("rush")
    if rush:
        lines += [
            "| ticket rush | value |",
            "| --- | ---: |",
            f"| buyers / seats | {rush['buyers']} / {rush['seats']} |",
            f"| seats sold (database) | {rush['seats_sold']} |",
            f"| sent to payment | {rush['sent_to_payment']} |",
            f"| refused (sold out, 409) | {rush['refused_sold_out']} |",
            f"| busy (503) | {rush['busy_503']} |",
            f"| status 500 | {rush['status_500']} |",
            f"| other | {rush['other']} |",
            f"| time to payment page, median / p99 ms | {rush['to_payment_median_ms']} / "
            f"{rush['to_payment_p99_ms']} |",
            f"| whole rush, s | {rush['wall_seconds']} |",
            "",
        ]
    lines += ["| target | measured | met |", "| --- | --- | --- |"]
    for target in run["targets"]:
        lines.append(
            f"| {target['target']} | {target['measured']} | {'yes' if target['met'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"

"""Judge a bench run against its targets (issues 8 and 17) and write it as Markdown tables."""

from bench import storms

CACHED_RATIO = 0.5  # of the bare view's requests per second, every cached page
STATIC_RATIO = 0.7  # of whitenoise serving the same bytes, the large pages and exports
ONE_CHANGE_MS = 40  # first request after a change to one talk, the long pages and exports
LONG_PAGES = {"schedule", "talks", "speakers", "schedule.xml", "schedule.json", "schedule.ics"}
UNCACHED_MEDIAN_MS = 100
WORKER_PEAK_MB = 150


def targets(run):
    """Return each target with the measured value and whether it is met."""
    pages = run["pages"]
    worst_ratio = min(pages, key=lambda page: page["ratio"])
    static = [page for page in pages if "static_ratio" in page]
    long_pages = [page for page in pages if page["name"] in LONG_PAGES] or pages
    slowest_one = max(long_pages, key=lambda page: page["uncached_median_ms"])
    slowest = max(pages, key=lambda page: page.get("everything_median_ms", 0))
    peak = max(worker["peak_mb"] for worker in run["memory"])
    found = [
        {
            "target": f"cached throughput >= {CACHED_RATIO:.0%} of the bare view on every page",
            "measured": f"lowest {worst_ratio['ratio']:.0%} ({worst_ratio['name']})",
            "met": worst_ratio["ratio"] >= CACHED_RATIO,
        },
    ]
    if static:
        worst_static = min(static, key=lambda page: page["static_ratio"])
        found.append(
            {
                "target": f"large pages and exports >= {STATIC_RATIO:.0%} of whitenoise "
                "serving the same bytes",
                "measured": f"lowest {worst_static['static_ratio']:.0%} ({worst_static['name']})",
                "met": worst_static["static_ratio"] >= STATIC_RATIO,
            }
        )
    found += [
        {
            "target": f"after a change to one talk < {ONE_CHANGE_MS} ms (median) on the long "
            "pages and exports",
            "measured": f"highest {slowest_one['uncached_median_ms']:.0f} ms "
            f"({slowest_one['name']})",
            "met": slowest_one["uncached_median_ms"] < ONE_CHANGE_MS,
        },
    ]
    if "everything_median_ms" in slowest:
        found.append(
            {
                "target": f"after everything changed < {UNCACHED_MEDIAN_MS} ms (median) on "
                "every page",
                "measured": f"highest {slowest['everything_median_ms']:.0f} ms ({slowest['name']})",
                "met": slowest["everything_median_ms"] < UNCACHED_MEDIAN_MS,
            }
        )
    found.append(
        {
            "target": f"worker peak memory < {WORKER_PEAK_MB} MB",
            "measured": f"{peak:.0f} MB",
            "met": peak < WORKER_PEAK_MB,
        }
    )
    return found


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
    if run.get("storms"):
        problems += storms.failures(run["storms"])
    for page in run["pages"]:
        if page["status"] != 200 or page["non_2xx"] or page["uncached_errors"]:
            problems.append(
                f"{page['path']}: status {page['status']}, {page['non_2xx']} non-2xx under load, "
                f"{page['uncached_errors']} failed uncached requests"
            )
        if page.get("static_non_2xx"):
            problems.append(f"{page['path']}: its static copy answered non-2xx under load")
    return problems


def number(value, spec):
    return "" if value is None else format(value, spec)


def kilobytes(value):
    return "" if value is None else f"{value / 1024:.0f}"


def markdown(run):
    """Return the run as Markdown: pages, memory, rush and targets."""
    lines = [
        f"### {run['size']} data ({run['data']})",
        "",
        f"Load: {run['load_tool']}, {run['connections']} connections, {run['duration']} s per "
        f"page, browsers' Accept-Encoding; after a change: median of {run['uncached_repeats']} "
        "first requests after renaming one talk, and after forgetting every page and piece. "
        f"Load average at the end of the pages: {run.get('load_average', '?')}.",
        "",
        *page_table(run),
        "",
        *wire_table(run),
    ]
    workers = ", ".join(f"{w['peak_mb']:.0f} MB" for w in run["memory"])
    started = ", ".join(f"{w['rss_mb']:.0f} MB" for w in run.get("memory_at_start", []))
    lines += ["", f"Worker peak memory (VmHWM): {workers} (resident after start: {started}).", ""]
    if run.get("rush"):
        lines += rush_tables(run["rush"])
    if run.get("storms"):
        lines += storms.tables(run["storms"])
    lines += ["| target | measured | met |", "| --- | --- | --- |"]
    for target in run["targets"]:
        lines.append(
            f"| {target['target']} | {target['measured']} | {'yes' if target['met'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def page_table(run):
    bare = run["bare"]
    lines = [
        "| page | path | req/s | median ms | p99 ms | bare req/s | vs bare | static req/s "
        "| vs static | worker CPU ms/req | after one change ms | after everything ms "
        "| worker peak MB so far |",
        "| --- | --- |" + " ---: |" * 11,
        f"| bare Django view (mean) | / | {bare['requests_per_second']:.0f} "
        f"| {bare['median_ms']:.1f} | {bare['p99_ms']:.1f} | | 100% | | "
        f"| {number(bare.get('cpu_ms_per_request'), '.2f')} | | | |",
    ]
    for page in run["pages"]:
        lines.append(
            f"| {page['name']} | {page['path']} | {page['requests_per_second']:.0f} "
            f"| {page['median_ms']:.1f} | {page['p99_ms']:.1f} | {page['bare_rps']:.0f} "
            f"| {page['ratio']:.0%} | {number(page.get('static_rps'), '.0f')} "
            f"| {number(page.get('static_ratio'), '.0%')} "
            f"| {number(page.get('cpu_ms_per_request'), '.2f')} "
            f"| {page['uncached_median_ms']:.1f} "
            f"| {number(page.get('everything_median_ms'), '.1f')} "
            f"| {number(page.get('worker_peak_mb'), '.0f')} |"
        )
    return lines


def wire_table(run):
    lines = [
        "| page | KB sent: brotli | gzip | uncompressed |",
        "| --- | ---: | ---: | ---: |",
    ]
    for page in run["pages"]:
        wire = page.get("wire_bytes", {})
        lines.append(
            f"| {page['name']} | {kilobytes(wire.get('br'))} | {kilobytes(wire.get('gzip'))} "
            f"| {kilobytes(wire.get('none', page['bytes']))} |"
        )
    return lines


def rush_tables(rush):
    lines = [
        "| ticket rush | value |",
        "| --- | ---: |",
        f"| app servers (2 workers each) | {rush.get('servers', 1)} |",
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
    invoice = rush.get("by_invoice")
    if invoice:
        lines += [
            f"| by invoice, e-mail on a mail server taking {invoice['smtp_seconds_per_message']} s "
            "a message | value |",
            "| --- | ---: |",
            f"| buyers / sent to their order page | {invoice['buyers']} / "
            f"{invoice['sent_to_payment']} |",
            f"| time to the order page, median / p99 ms | {invoice['to_payment_median_ms']} / "
            f"{invoice['to_payment_p99_ms']} |",
            f"| e-mails delivered by then (the worker sends them) | "
            f"{invoice['emails_delivered_by_then']} |",
            "",
        ]
    parts = rush.get("where_time_goes")
    if parts:
        lines += [
            "| where a checkout's time goes | requests | median ms | p99 ms |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, part in parts.items():
            lines.append(
                f"| {name} | {part['count']} | {number(part['median_ms'], '.1f')} "
                f"| {number(part['p99_ms'], '.1f')} |"
            )
        lines.append("")
    return lines

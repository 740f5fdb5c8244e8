"""Run the Nu HTML Checker and axe-core, the two checkers the browser suite relies on."""

import functools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from django.conf import settings

NODE_MODULES = Path(settings.BASE_DIR) / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe has no wcag22a tag).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
INSTALL_HINT = "run `npm ci --ignore-scripts` at the repository root"


def vnu_missing_reason():
    """Return why the Nu HTML Checker cannot run here, or None when it can."""
    if shutil.which("java") is None:
        return "Java is not installed (apt-get install default-jre-headless); vnu needs it"
    if not VNU_JAR.is_file():
        return f"{VNU_JAR.relative_to(settings.BASE_DIR)} is missing; {INSTALL_HINT}"
    return None


def axe_missing_reason():
    """Return why axe-core cannot be injected, or None when it can."""
    if not AXE_JS.is_file():
        return f"{AXE_JS.relative_to(settings.BASE_DIR)} is missing; {INSTALL_HINT}"
    return None


def validate_html(documents):
    """Check every HTML document in one JVM run; return {name: [vnu message, ...]}.

    ``documents`` maps a name made of letters, digits and dashes to the HTML source.
    """
    messages = {name: [] for name in documents}
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        paths = []
        for name, html in documents.items():
            path = Path(folder) / f"{name}.html"
            path.write_text(html, encoding="utf-8")
            paths.append(str(path))
        result = subprocess.run(
            ["java", "-jar", str(VNU_JAR), "--format", "json", "--stdout", "--exit-zero-always"]
            + paths,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
    for message in json.loads(result.stdout)["messages"]:
        # vnu names each file by URL (file:/tmp/vnu-.../<name>.html): the stem is the name.
        messages[PurePosixPath(urlparse(message["url"]).path).stem].append(message)
    return messages


def html_errors(messages):
    """Return the vnu messages that are errors (not warnings or notes)."""
    return [m for m in messages if m["type"] in {"error", "non-document-error"}]


def describe_html_messages(messages):
    """Format vnu messages one per line, with their line and an extract."""
    return "\n".join(
        f"  line {m.get('lastLine', '?')}: {m['type']}: {m['message']}  "
        f"[{m.get('extract', '').strip()}]"
        for m in messages
    )


def run_axe(page):
    """Inject axe-core into the page and return its violations at WCAG 2.2 AA."""
    # Evaluated through the DevTools protocol, which the page's Content Security Policy does not
    # govern: a <script> tag would be blocked, and the pages are checked under their real policy.
    page.evaluate(_axe_source())
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
                html: v.nodes.map((n) => n.html).slice(0, 3),
            }));
        }""",
        AXE_TAGS,
    )


@functools.cache
def _axe_source():
    return AXE_JS.read_text(encoding="utf-8")


def failing_violations(violations):
    """Return the violations serious or critical enough to fail a page."""
    return [v for v in violations if v["impact"] in FAILING_IMPACTS]


def assert_accessible(page):
    """Fail on serious or critical axe violations of the page as it is now (when axe is here)."""
    if axe_missing_reason():
        return
    failing = failing_violations(run_axe(page))
    assert failing == [], (
        f"{page.url} has serious accessibility violations (WCAG 2.2 AA):\n"
        f"{describe_violations(failing)}"
    )


def describe_violations(violations):
    """Format axe violations one per line, with the elements concerned."""
    return "\n".join(
        f"  {v['impact']}: {v['id']}: {v['help']} at {', '.join(v['targets'])}\n"
        f"    {v['html'][0] if v['html'] else ''}"
        for v in violations
    )

"""Check rendered HTML for what a strict Content Security Policy and accessibility need."""

from lxml import html as lxml_html


def inline_code(document):
    """Return inline scripts, event-handler attributes, style attributes and style blocks."""
    tree = lxml_html.fromstring(document)
    found = []
    for script in tree.iter("script"):
        if not script.get("src") and script.get("type") != "application/json":
            found.append("inline <script>")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "style":
            found.append("<style> block")
        for name in element.attrib:
            if name == "style" or name.startswith("on"):
                found.append(f"{name}= on <{element.tag}>")
    return found


def unlabelled_fields(document):
    """Return the ids (or names) of visible form fields that have no <label for=...>."""
    tree = lxml_html.fromstring(document)
    labelled = {label.get("for") for label in tree.iter("label")}
    missing = []
    for field in tree.xpath("//input | //select | //textarea"):
        if field.get("type") in {"hidden", "submit", "button"}:
            continue
        if field.get("id") not in labelled:
            missing.append(field.get("id") or field.get("name"))
    return missing


def duplicate_ids(document):
    tree = lxml_html.fromstring(document)
    ids = [element.get("id") for element in tree.xpath("//*[@id]")]
    return sorted({i for i in ids if ids.count(i) > 1})

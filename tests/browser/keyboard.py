"""Move through a page with the keyboard only, as a person without a mouse would."""

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || el.value || el.getAttribute("aria-label") || "").trim(),
    id: el.id,
    href: el.getAttribute("href"),
    visibleFocus: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
      || style.boxShadow !== "none",
  };
}"""


def focused(page):
    """Return what has the keyboard focus: tag, text, id, href, and whether focus shows."""
    return page.evaluate(FOCUSED)


def tab_to(page, *, text=None, element_id=None, limit=80):
    """Press Tab until the element with this text or id has the focus; return it.

    Fails when it is not reached within ``limit`` presses, or when the focus on it is
    invisible (no outline or shadow): keyboard users must see where they are.
    """
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now is None:
            continue
        seen.append(now["text"][:30] or now["id"])
        if (text is not None and now["text"] == text) or (
            element_id is not None and now["id"] == element_id
        ):
            assert now["visibleFocus"], f"focus on {now} is not visible"
            return now
    raise AssertionError(f"Tab never reached {text or element_id!r}; focus went through {seen}")

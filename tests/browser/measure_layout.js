() => {
  const viewport = document.documentElement.clientWidth;
  const ancestors = (el) => {
    const list = [];
    for (let e = el; e; e = e.parentElement) list.push(e);
    return list;
  };
  // The content of a closed <details> (all but its summary) is not drawn, although Chromium
  // still gives its text boxes: it sits in the ::details-content slot, not in a styled element.
  const folded = (e) => e.parentElement && e.parentElement.tagName === "DETAILS"
    && !e.parentElement.open && e.tagName !== "SUMMARY";
  const invisible = (el) => ancestors(el).some((e) => {
    if (folded(e)) return true;
    const s = getComputedStyle(e);
    return s.display === "none" || s.visibility === "hidden" || s.opacity === "0"
      || s.clipPath !== "none" || (s.clip !== "auto" && s.position === "absolute");
  });
  const inScroller = (el) => ancestors(el.parentElement).some((e) => {
    const x = getComputedStyle(e).overflowX;
    return e !== document.documentElement && e !== document.body && (x === "auto" || x === "scroll");
  });
  const lines = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let id = 0;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    if (!text || invisible(node.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    id += 1;
    for (const r of range.getClientRects()) {
      if (r.width < 1 || r.height < 1 || r.bottom + window.scrollY <= 0) continue;
      lines.push({id, text: text.slice(0, 50), el: node.parentElement,
        left: r.left + window.scrollX, right: r.right + window.scrollX,
        top: r.top + window.scrollY, bottom: r.bottom + window.scrollY});
    }
  }
  const pastEdge = lines.filter((l) => l.right > viewport + 1 && !inScroller(l.el)).map((l) => l.text);
  const overlaps = [];
  for (let i = 0; i < lines.length && overlaps.length < 10; i++) {
    for (let j = i + 1; j < lines.length; j++) {
      const a = lines[i], b = lines[j];
      if (a.id === b.id) continue;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      const lower = Math.min(a.bottom - a.top, b.bottom - b.top);
      if (w > 2 && h > 0.4 * lower) overlaps.push([a.text, b.text]);
    }
  }
  return {
    viewport: viewport,
    scrollWidth: document.documentElement.scrollWidth,
    pastEdge: [...new Set(pastEdge)].slice(0, 10),
    overlaps: overlaps,
  };
}

"""Layout metrics measured in the browser: horizontal overflow and overlapping text."""

from pathlib import Path

# Text nodes are compared by the boxes of their rendered lines. Two lines of different text
# nodes that cover each other by more than a sliver (tight line heights make neighbouring lines
# touch) count as overlapping text. Text inside a horizontal scroller may extend past the
# viewport; anything else past the right edge would need horizontal scrolling.
MEASURE_LAYOUT = (Path(__file__).parent / "measure_layout.js").read_text()

# Words of the given elements drawn over more than one line: cut by overflow-wrap in a column
# too narrow for them ("Quant ity").
BROKEN_WORDS = """(selector) => {
  const broken = [];
  for (const el of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""

"""Layout metrics measured in the browser: horizontal overflow and overlapping text."""

from pathlib import Path

# Text nodes are compared by the boxes of their rendered lines. Two lines of different text
# nodes that cover each other by more than a sliver (tight line heights make neighbouring lines
# touch) count as overlapping text. Text inside a horizontal scroller may extend past the
# viewport; anything else past the right edge would need horizontal scrolling.
MEASURE_LAYOUT = (Path(__file__).parent / "measure_layout.js").read_text()

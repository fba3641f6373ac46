"""Geometry for the server-drawn SVG bar charts (no script): one group of bars per bin, one bar per series."""
from __future__ import annotations

SLOT = 30  # px per bar; each bin's group is one slot wider than its bars, as a gap


def grouped_bars(series: list[dict], bin_labels: list[str], *, scale: int, baseline: int) -> dict:
    """`series`: dicts with "counts" (one per bin) plus whatever the template shows (label, colour...); each comes
    back with "bars" added. Bars are `scale` px tall at the largest count and stand on y = `baseline`."""
    top = max([1, *(c for s in series for c in s["counts"])])
    group = SLOT * (len(series) + 1)
    for i, s in enumerate(series):
        heights = [round(scale * c / top) for c in s["counts"]]
        s["bars"] = [{"x": 10 + b * group + i * SLOT, "h": h, "y": baseline - h, "count": c, "bin": bin_labels[b]}
                     for b, (c, h) in enumerate(zip(s["counts"], heights, strict=True))]
    return {"rows": series, "bins": [{"label": label, "x": 10 + b * group} for b, label in enumerate(bin_labels)],
            "width": 20 + len(bin_labels) * group, "bar": SLOT - 8}

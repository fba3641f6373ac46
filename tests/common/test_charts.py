"""common.charts.grouped_bars: one group per bin, one bar per series, heights scaled to the largest count."""
from common.charts import grouped_bars


def test_bars_are_grouped_per_bin_and_scaled_to_the_largest_count():
    chart = grouped_bars([{"label": "a", "counts": [4, 0]}, {"label": "b", "counts": [2, 1]}], ["low", "high"],
                         scale=160, baseline=170)
    a, b = (row["bars"] for row in chart["rows"])
    assert [(x["x"], x["h"], x["y"]) for x in a] == [(10, 160, 10), (100, 0, 170)]  # groups 3 slots of 30 px apart
    assert [(x["x"], x["h"], x["bin"]) for x in b] == [(40, 80, "low"), (130, 40, "high")]
    assert chart["bins"] == [{"label": "low", "x": 10}, {"label": "high", "x": 100}]
    assert (chart["width"], chart["bar"]) == (200, 22)


def test_no_counts_draws_flat_bars():
    chart = grouped_bars([{"counts": [0, 0]}], ["x", "y"], scale=150, baseline=165)
    assert [bar["h"] for bar in chart["rows"][0]["bars"]] == [0, 0]

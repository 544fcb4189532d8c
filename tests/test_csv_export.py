"""Exports never open as formulas in a spreadsheet."""

from __future__ import annotations

import csv
import io

from portal.csv_export import rows_to_csv


def test_cells_that_would_run_as_formulas_are_neutralised():
    text = rows_to_csv(
        ["name", "note"], [['=HYPERLINK("http://evil")', "+31 20 123"], ["@SUM(A1)", "-5"], ["Ann", "ok"]]
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ['\'=HYPERLINK("http://evil")', "'+31 20 123"]
    assert rows[2] == ["'@SUM(A1)", "'-5"]
    assert rows[3] == ["Ann", "ok"]


def test_a_formula_hidden_after_a_semicolon_is_neutralised_too():
    text = rows_to_csv(["user agent"], [["x;=cmd|' /C calc'!A0;"]])
    assert "=cmd" not in text.replace("'=cmd", "")

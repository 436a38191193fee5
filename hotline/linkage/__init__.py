"""110 ↔ 12345 linkage and case exchange between hotlines (issue 21)."""

"""Knowledge base, app side: entries and their lifecycle, the per-process search index, feedback, import."""

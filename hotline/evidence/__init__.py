"""Evidence on cases (issue 18): attachments and their storage backends, media checks and processing, locations,
maps and call recordings. Routes: ``api.py`` (under /api/v1), ``pages.py`` (the case page's panel, maps)."""

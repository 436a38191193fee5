"""A separate process with its own app and search index: reads queries on stdin, prints the codes found.

python -m tests.kb.search_probe   (env: HOTLINE_INSTANCE, DATABASE_URL of the app under test)
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    from hotline import create_app

    app = create_app()
    with app.app_context():
        from hotline.extensions import db
        from hotline.kb.service import search

        search("社保")  # build the index before saying ready
        print("ready", flush=True)
        for line in sys.stdin:
            results = search(line.strip(), 5)
            db.session.rollback()  # end the read transaction: the next search sees newer commits
            print(json.dumps([r["code"] for r in results]), flush=True)


if __name__ == "__main__":
    main()

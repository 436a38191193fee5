"""The routing lexicon (``routing_lexicon``): loading the shipped words (hotline/seed/data/routing_lexicon.tsv)
and the admin's edits. Every change bumps the routing version, so every process rebuilds its routing tables
(and with them the fine-grained router) after the commit."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from hotline.db.refcache import bump_version
from hotline.extensions import db
from hotline.models import Category, RoutingLexicon

SHIPPED = Path(__file__).resolve().parents[1] / "seed" / "data" / "routing_lexicon.tsv"
MAX_WORDS = 400
MAX_WORD = 12


class LexiconInvalid(ValueError):
    """Words the admin must correct: ``message`` (zh-CN)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def shipped(path: Path = SHIPPED) -> dict[str, list[str]]:
    """category path → words of the shipped file (comment lines start with #)."""
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cat, _, words = line.partition("\t")
        out.setdefault(cat.strip(), []).extend(w for w in words.split() if w)
    return out


def load_shipped(path: Path = SHIPPED) -> int:
    """Add the shipped words of every category that has no lexicon row yet (the admin's rows are kept)."""
    categories = dict(db.session.execute(sa.select(Category.path, Category.id)).all())
    have = set(db.session.scalars(sa.select(RoutingLexicon.category_id)))
    added = 0
    for cat, words in shipped(path).items():
        cid = categories.get(cat)
        if cid is None or cid in have:
            continue
        db.session.add(RoutingLexicon(category_id=cid, words=" ".join(dict.fromkeys(words)), enabled=True))
        have.add(cid)
        added += 1
    if added:
        db.session.flush()
        bump_version()
    return added


def clean_words(text: str) -> str:
    """Words separated by spaces, commas or 、; duplicates dropped; each 2–12 characters."""
    import re

    words = [w for w in re.split(r"[\s,，、|]+", text or "") if w]
    bad = [w for w in words if not 2 <= len(w) <= MAX_WORD]
    if bad:
        raise LexiconInvalid(f"每个词应为2到{MAX_WORD}个字：{bad[0]}")
    words = list(dict.fromkeys(words))
    if len(words) > MAX_WORDS:
        raise LexiconInvalid(f"一个分类最多{MAX_WORDS}个词")
    return " ".join(words)


def save(category: Category, words: str, enabled: bool | None, user_id: int | None) -> RoutingLexicon:
    row = db.session.scalar(sa.select(RoutingLexicon).where(RoutingLexicon.category_id == category.id))
    cleaned = clean_words(words)
    if row is None:
        row = RoutingLexicon(category=category, words=cleaned, enabled=True if enabled is None else enabled)
        db.session.add(row)
    else:
        row.words = cleaned
        if enabled is not None:
            row.enabled = enabled
    row.updated_by_id = user_id
    db.session.flush()
    bump_version()
    return row


def rows() -> list[RoutingLexicon]:
    return list(
        db.session.scalars(
            sa.select(RoutingLexicon).join(Category, Category.id == RoutingLexicon.category_id).order_by(Category.path)
        )
    )


def enabled_words() -> dict[str, list[str]]:
    """category path → words of the enabled rows (plain data for the router)."""
    out: dict[str, list[str]] = {}
    for path, words in db.session.execute(
        sa.select(Category.path, RoutingLexicon.words)
        .join(Category, Category.id == RoutingLexicon.category_id)
        .where(RoutingLexicon.enabled.is_(True))
    ):
        out[path] = (words or "").split()
    return out

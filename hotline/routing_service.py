"""The app's side of routing/: load the model once per process, build the gazetteer and mapping from the
database, and call the pure engine."""
from __future__ import annotations

import threading

import sqlalchemy as sa
from flask import current_app

from hotline.extensions import db
from hotline.models import Category, Department
from routing.engine import suggest
from routing.gazetteer import Gazetteer
from routing.model import Model, ModelError, model_path

_lock = threading.Lock()
_model_cache: dict[str, tuple[float, Model]] = {}


def load_model() -> Model | None:
    """The trained model of the instance, reloaded only when its file changes; None when there is none."""
    instance = current_app.config["HOTLINE"].instance
    path = model_path(instance)
    if not path.exists():
        return None
    mtime = path.stat().st_mtime
    with _lock:
        hit = _model_cache.get(str(path))
        if hit and hit[0] == mtime:
            return hit[1]
        try:
            model = Model.load(path, trusted_dir=instance)
        except ModelError:
            current_app.logger.exception("routing model at %s could not be loaded", path)
            return None
        _model_cache[str(path)] = (mtime, model)
        return model


def _gazetteer() -> Gazetteer:
    from hotline.seed.city import AREAS

    units = db.session.execute(sa.select(Department.code, Department.name, Department.parent_id, Department.id,
                                         Department.kind)).all()
    code_by_id = {u.id: u.code for u in units}
    local = {u.code: u for u in units if u.kind in ("district", "street")}
    areas = {code: [u.name, *AREAS.get(code, [])] for code, u in local.items()}
    return Gazetteer(areas, {c: u.name for c, u in local.items()},
                     {c: code_by_id.get(u.parent_id) for c, u in local.items()})


def _mapping() -> dict[str, tuple[str | None, bool]]:
    rows = db.session.execute(sa.select(Category.name, Department.code, Category.local)
                              .outerjoin(Department, Department.id == Category.department_id)
                              .where(Category.level == 1)).all()
    return {name: (code, bool(local)) for name, code, local in rows}


def suggest_for(text: str, address: str | None = None) -> dict:
    settings = current_app.config["HOTLINE"]
    result = suggest(text, address, model=load_model(), mapping=_mapping(), gazetteer=_gazetteer(),
                     rules=(), threshold=settings.auto_dispatch_threshold)
    return result.to_dict()

"""Scheduled retraining: closed cases' final categories (after a dispatcher's correction) teach the router."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.helpers import new_case
from tests.integration.test_dispatch_routing import settings
from tests.integration.test_routing_api import SAMPLES


def _phone() -> str:
    return "136" + f"{uuid.uuid4().int % 10**8:08d}"


def test_retrain_job_learns_from_closed_cases_and_base_data(app, api, tmp_path):
    from routing.model import model_path
    from workers.jobs.routing import retrain_router
    from workers.schedule import CRON_TABLE

    assert retrain_router in [f for f, _, _ in CRON_TABLE]
    agent, dispatcher = api("agent1"), api("dispatcher1")
    path = model_path(app.config["HOTLINE"].instance)
    path.unlink(missing_ok=True)
    # closed cases: 环境保护 and 交通运输 texts, one registered under a wrong category and corrected
    for label in ("环境保护", "交通运输"):
        for text in SAMPLES[label]:
            case = new_case(agent, _phone(), content=text + "，请处理", category=label, address="", district_code=None)
            assert agent.post(f"/cases/{case['number']}/close", json={"note": "已办结"}).status_code == 200
    wrong = new_case(
        agent, _phone(), content="出租车绕路还拒载，司机态度很差", category="环境保护", address="", district_code=None
    )
    fixed = dispatcher.post(f"/cases/{wrong['number']}/category", json={"category": "交通运输"})
    assert fixed.status_code == 200 and fixed.get_json()["category"] == "交通运输"
    assert fixed.get_json()["events"][-1]["action"] == "reclassify"
    agent.post(f"/cases/{wrong['number']}/close", json={})
    # the base data adds a third category the cases never had
    base = tmp_path / "base"
    base.mkdir()
    lines = [f"{t}\t劳动和社会保障" for t in SAMPLES["劳动和社会保障"]]
    (base / "base.tsv").write_text("\n".join(lines), encoding="utf-8")
    try:
        with settings(app, routing_retrain_min_cases=500), app.app_context():
            kept = retrain_router(datetime.now(UTC))
            assert kept["trained"] is False and not path.exists()
        with settings(app, routing_retrain_min_cases=10, routing_base_data=str(base)), app.app_context():
            summary = retrain_router(datetime.now(UTC))
        assert summary["trained"] is True and summary["from_base"] == 6 and summary["from_cases"] >= 13
        assert summary["classes"] >= 3 and path.exists()  # other tests' closed cases may add their categories
        from routing.model import Model

        model = Model.load(path, trusted_dir=app.config["HOTLINE"].instance)
        assert set(model.classes) >= {"环境保护", "交通运输", "劳动和社会保障"}
        assert len(model.classes) == summary["classes"]
        assert model.meta["source"] == "scheduled"
        # every process picks the new file up by its mtime: the API now uses the model
        body = agent.post("/routing/suggest", json={"content": "出租车司机拒载绕路"}).get_json()
        assert body["model_used"] is True and body["suggestions"][0]["category"] == "交通运输"
    finally:
        path.unlink(missing_ok=True)
        _forget_published(app)


def _forget_published(app) -> None:
    """Other tests run without a model: drop what this one published to the database."""
    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.models import RoutingModelFile

    with app.app_context():
        db.session.execute(sa.delete(RoutingModelFile))
        db.session.commit()


def test_a_model_trained_on_one_host_reaches_every_host(app, tmp_path):
    """Host A trains and publishes; host B (another instance folder, same database) copies the newest file by
    itself, once per change, atomically; only the last few are kept."""
    import sqlalchemy as sa

    from hotline.dispatch import model_store
    from hotline.extensions import db
    from hotline.models import RoutingModelFile
    from routing.classifier import train
    from routing.model import Model, model_path

    host_a, host_b = model_path(tmp_path / "a"), model_path(tmp_path / "b")
    texts = [t for label in ("环境保护", "交通运输") for t in SAMPLES[label]]
    labels = [label for label in ("环境保护", "交通运输") for _ in SAMPLES[label]]
    try:
        with app.app_context():
            assert model_store.sync(host_b, force=True) is False and not host_b.exists()  # nothing published
            first = train(texts, labels)
            first.meta["run"] = 1
            first.save(host_a)
            model_store.publish(host_a, "test")
            db.session.commit()
            assert model_store.sync(host_b, force=True) is True
            assert host_b.read_bytes() == host_a.read_bytes()
            assert Model.load(host_b, trusted_dir=tmp_path / "b").meta["run"] == 1
            assert model_store.sync(host_b, force=True) is False  # same file: not copied again
            assert model_store.sync(host_b) is False  # checked a moment ago: no query at all
            for run in (2, 3, 4, 5):
                newer = train(texts, labels)
                newer.meta["run"] = run
                newer.save(host_a)
                model_store.publish(host_a, "test")
                db.session.commit()
            assert model_store.sync(host_b, force=True) is True
            assert Model.load(host_b, trusted_dir=tmp_path / "b").meta["run"] == 5
            kept = db.session.scalar(sa.select(sa.func.count()).select_from(RoutingModelFile))
            assert kept == model_store.KEEP
            assert not list(host_b.parent.glob(".*.tmp"))  # written beside it and renamed: no leftovers
    finally:
        _forget_published(app)

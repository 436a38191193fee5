"""Classifier: training on project-written sentences, calibrated top-k, save/load, CV metrics, TSV loading."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from routing.classifier import (
    FORMAT_VERSION,
    Model,
    ModelError,
    load_tsv_dir,
    train,
)
from routing.cv import cross_validate
from routing.evaluation import score_metrics

# ~60 sentences written for these tests (never the shared labelled data)
CORPUS: dict[str, list[str]] = {
    "城乡建设": [
        "小区物业不作为，楼道垃圾没人清理",
        "小区电梯经常坏，物业拖着不修",
        "开发商延期交房，业主要求赔偿",
        "房产证办了三年还没办下来",
        "路灯坏了一个月没人修",
        "马路上的井盖丢了很危险",
        "小区旁边有人搭建违章建筑",
        "停水两天了，自来水公司没有通知",
        "老旧小区改造进度太慢",
        "公租房申请条件是什么",
        "下水道堵塞污水漫到路上",
        "物业费上涨没有经过业主大会",
    ],
    "环境保护": [
        "楼下饭店油烟太大，熏得没法开窗",
        "工厂晚上偷排污水，河水发黑发臭",
        "附近工地夜间施工噪音扰民",
        "化工厂废气有刺鼻气味",
        "养猪场臭味影响整个村",
        "搅拌站粉尘污染严重",
        "酒吧音响噪声太大影响休息",
        "有人在田里焚烧垃圾浓烟呛人",
        "河道被倾倒工业废渣",
        "企业没有环评就开工生产",
        "小区附近的基站辐射让人担心",
        "砖厂烟尘污染周边农田",
    ],
    "交通运输": [
        "公交车班次太少，等车要一个小时",
        "出租车司机拒载还绕路",
        "网约车乱收费，价格比平时高一倍",
        "客运站长途车票价上涨",
        "高速收费站排长队",
        "建议增加到高新区的公交线路",
        "驾校收了钱一直不安排考试",
        "乡村公路坑坑洼洼没人修",
        "货车超载压坏道路",
        "公交站台的候车亭破损",
        "快递员态度差还丢件",
        "地铁末班车时间太早",
    ],
    "教育文体": [
        "孩子入学学位不够，被分到很远的学校",
        "学校违规收取补课费",
        "幼儿园收费太高还乱涨价",
        "老师在校外有偿补课",
        "培训机构收了学费跑路",
        "中考招生政策不公平",
        "教师工资拖欠了三个月",
        "学校食堂饭菜质量太差",
        "校车超载很危险",
        "社区图书馆开放时间太短",
        "体育场馆收费不合理",
        "学生作业负担太重",
    ],
    "劳动和社会保障": [
        "公司拖欠工资半年不发",
        "单位不给交社保",
        "养老保险断缴了怎么补",
        "加班没有加班费",
        "公司不签劳动合同",
        "被公司无故辞退没有补偿",
        "失业金怎么申请",
        "退休金计算有误",
        "农民工工资被包工头卷走",
        "医保转移手续太麻烦",
        "工伤认定需要什么材料",
        "职称评审结果没有公示",
    ],
}
TEXTS = [t for texts in CORPUS.values() for t in texts]
LABELS = [c for c, texts in CORPUS.items() for _ in texts]


@pytest.fixture(scope="module")
def tiny_model() -> Model:
    return train(TEXTS, LABELS)


def test_corpus_size():
    assert len(TEXTS) >= 60


def test_predict_top_is_calibrated_and_sorted(tiny_model):
    top = tiny_model.predict_top("楼下饭店油烟很大", k=3)
    assert len(top) == 3
    assert top[0][0] == "环境保护"
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probs)
    full = tiny_model.proba(["楼下饭店油烟很大"])[0]
    assert full.sum() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("公司三个月没发工资", "劳动和社会保障"),
        ("公交车太少了", "交通运输"),
        ("小区物业不管事", "城乡建设"),
        ("学校乱收费", "教育文体"),
        ("工厂排放废气污染", "环境保护"),
    ],
)
def test_tiny_model_learns_the_corpus(tiny_model, text, label):
    assert tiny_model.predict_top(text, k=1)[0][0] == label


def test_full_width_input_is_normalised(tiny_model):
    assert tiny_model.predict_top("ＡＢＣ公交车太少了", k=1)[0][0] == "交通运输"


def test_save_load_round_trip(tiny_model, tmp_path):
    path = tmp_path / "models" / "router.npz"
    tiny_model.save(path)
    loaded = Model.load(path, trusted_dir=tmp_path)
    text = "小区电梯又坏了"
    assert loaded.classes == tiny_model.classes
    assert loaded.predict_top(text) == tiny_model.predict_top(text)
    assert loaded.meta["n"] == len(TEXTS)
    assert loaded.vocabulary == tiny_model.vocabulary


def test_load_refuses_files_outside_the_trusted_folder(tiny_model, tmp_path):
    path = tmp_path / "elsewhere" / "router.npz"
    tiny_model.save(path)
    with pytest.raises(ModelError, match="受信目录"):
        Model.load(path, trusted_dir=tmp_path / "instance")


def test_load_refuses_other_format_versions_and_foreign_files(tiny_model, tmp_path):
    path = tmp_path / "router.npz"
    tiny_model.save(path)
    with np.load(path) as data:
        arrays = dict(data)
    header = json.loads(str(arrays["header"]))
    with open(tmp_path / "old.npz", "wb") as fh:
        np.savez(fh, **{**arrays, "header": np.array(json.dumps({**header, "format": FORMAT_VERSION + 1}))})
    with pytest.raises(ModelError, match="重新训练"):
        Model.load(tmp_path / "old.npz", trusted_dir=tmp_path)
    with open(tmp_path / "other.npz", "wb") as fh:
        np.savez(fh, **{**arrays, "header": np.array(json.dumps({**header, "magic": "x"}))})
    with pytest.raises(ModelError, match="不是分类模型"):
        Model.load(tmp_path / "other.npz", trusted_dir=tmp_path)
    foreign = tmp_path / "foreign.pkl"
    foreign.write_bytes(pickle.dumps([1, 2, 3]))  # a pickle is never unpickled
    with pytest.raises(ModelError, match="不是分类模型"):
        Model.load(foreign, trusted_dir=tmp_path)
    with pytest.raises(ModelError, match="不存在"):
        Model.load(tmp_path / "missing.pkl", trusted_dir=tmp_path)


def test_matches_scikit_learn_scoring():
    """The numpy scorer (both the token path and the vectorised n-gram-key path) reproduces scikit-learn's
    TfidfVectorizer(sublinear_tf) + LinearSVC fitted on the same tokens."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    model = train(TEXTS, LABELS, calibrate=False)
    featurize = model.featurizer()
    vec = TfidfVectorizer(analyzer=lambda toks: toks, sublinear_tf=True)
    x = vec.fit_transform([featurize(t) for t in TEXTS])
    clf = LinearSVC(C=1.0, class_weight="balanced", random_state=0).fit(x, LABELS)
    probe = ["小区物业不管事", "公交太少", "没有任何已知词", "", "ＡＢＣ　公交车 太少了!!"]
    expected = clf.decision_function(vec.transform([featurize(t) for t in probe]))
    tokens_path = np.vstack([model._scores(featurize(t)) for t in probe])
    keys_path = np.vstack([model._scores_text(t) for t in probe])
    assert model._keys is not None  # char 1–2-grams: the vectorised path is the one in use
    np.testing.assert_allclose(tokens_path, expected, atol=1e-4)
    np.testing.assert_allclose(keys_path, expected, atol=1e-4)


def test_vectorised_path_equals_token_path_on_long_and_odd_text(tiny_model):
    texts = ["物业" * 700, "a" + "\U0001f600" * 3 + "停水😀停电", " 公交 \t站台\n破损 ", "x", "拖欠工资" + "。" * 1500]
    featurize = tiny_model.featurizer()
    for text in texts:
        np.testing.assert_allclose(tiny_model._scores_text(text), tiny_model._scores(featurize(text)), atol=1e-9)


def test_word_models_take_the_token_path():
    model = train(TEXTS, LABELS, algorithm="svm_words")
    assert model._keys is None
    assert model.predict_top("公司三个月没发工资", k=1)[0][0] == "劳动和社会保障"


def test_predict_case_combines_title_and_body(tiny_model):
    title, body = "反映一个问题", "楼下饭店油烟太大，熏得没法开窗，晚上还有噪音"
    both = tiny_model.proba_case(title, body)
    assert both.sum() == pytest.approx(1.0)
    assert tiny_model.predict_case(title, body, k=1)[0][0] == "环境保护"
    np.testing.assert_allclose(tiny_model.proba_case(None, body), tiny_model.proba([body])[0])
    np.testing.assert_allclose(tiny_model.proba_case(title, "  "), tiny_model.proba([title])[0])
    # geometric mean of the two rows, renormalised
    rows = tiny_model.proba([title, body])
    geo = np.sqrt(rows[0] * rows[1])
    np.testing.assert_allclose(both, geo / geo.sum(), atol=1e-9)


def test_two_classes():
    model = train(TEXTS[:24], LABELS[:24])
    assert set(model.classes) == {"城乡建设", "环境保护"}
    top = model.predict_top("油烟污染", k=3)
    assert len(top) == 2 and top[0][0] == "环境保护"
    assert sum(p for _, p in top) == pytest.approx(1.0)


def test_train_rejects_bad_input():
    with pytest.raises(ValueError):
        train(["只有一类"], ["城乡建设"])
    with pytest.raises(ValueError):
        train(TEXTS, LABELS, algorithm="bert")
    with pytest.raises(ValueError):
        train(TEXTS, LABELS, colour="blue")


def test_baseline_algorithm_trains(tmp_path):
    model = train(TEXTS, LABELS, algorithm="baseline")
    assert model.cal_weights is None
    assert model.predict_top("公司拖欠工资", k=1)[0][0] == "劳动和社会保障"


def test_score_metrics_precision_at_coverage():
    classes = ["a", "b"]
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.55, 0.45], [0.6, 0.4]])
    labels = ["a", "a", "b", "b", "a"]
    m = score_metrics(proba, classes, labels, coverage=0.8)
    # most confident 4 of 5: 0.9(a ok) 0.8(a ok) 0.7(b ok) 0.6(a ok) → precision 1.0; threshold 0.6
    assert m["precision_at_coverage"] == 1.0
    assert m["threshold_at_coverage"] == pytest.approx(0.6)
    assert m["accuracy"] == pytest.approx(0.8)
    assert m["top3_accuracy"] == 1.0


def test_cross_validate_on_the_corpus():
    m = cross_validate(TEXTS, LABELS, folds=3)
    assert m.n == len(TEXTS) and m.folds == 3
    assert 0.3 <= m.macro_f1 <= 1.0  # 5 classes: chance is 0.2; 40 training sentences per fold
    assert m.top3_accuracy >= m.accuracy
    assert 0.0 <= m.threshold_at_coverage <= 1.0


def test_load_tsv_dir_skips_malformed_lines(tmp_path):
    (tmp_path / "a.tsv").write_text(
        "公交太少\t交通运输\n坏行没有标签\n\t城乡建设\n物业不管\t城乡建设\n\n", encoding="utf-8"
    )
    (tmp_path / "b.tsv").write_text("\ufeff拖欠工资\t劳动和社会保障\n多\t一个\t制表符\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored\tx\n", encoding="utf-8")
    data = load_tsv_dir(tmp_path)
    assert data.texts == ["公交太少", "物业不管", "拖欠工资"]
    assert data.labels == ["交通运输", "城乡建设", "劳动和社会保障"]
    assert data.files == {"a.tsv": {"rows": 2, "skipped": 2}, "b.tsv": {"rows": 1, "skipped": 1}}


def test_load_tsv_dir_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_tsv_dir(tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        load_tsv_dir(tmp_path)


def test_temperature_keeps_the_svm_class_order():
    model = train(TEXTS, LABELS, algorithm="svm")
    assert model.nb is None and model.memory is None
    assert model.meta["temperature"] > 0
    np.testing.assert_allclose(model.cal_weights, model.meta["temperature"] * np.eye(5), atol=1e-3)
    for text in ["楼下饭店油烟很大", "公交太少", "学校补课费", "物业不管还涨价", "社保断缴"]:
        raw = model._scores_text(text)
        assert list(np.argsort(-model.proba([text])[0])) == list(np.argsort(-raw))


def test_fit_temperature_recovers_a_known_temperature():
    from routing.classifier import fit_temperature

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(4000, 4))
    z = 2.5 * scores
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in p])
    assert fit_temperature(scores, y) == pytest.approx(2.5, rel=0.1)


def test_logistic_calibrator_option():
    with pytest.raises(ValueError, match="NB-SVM"):
        train(TEXTS, LABELS, calibrator="logistic")
    model = train(TEXTS, LABELS, algorithm="svm", calibrator="logistic")
    assert "temperature" not in model.meta
    assert model.predict_top("公司拖欠工资", k=1)[0][0] == "劳动和社会保障"

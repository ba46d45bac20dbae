import json
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

import rrnsim
from conftest import whole
from rrnsim import RRNClassifier


def rhythm_task(n=160, n_steps=200, seed=0):
    """Two classes of noisy oscillations (8 Hz vs 40 Hz) with random phase, as spike-like pulses."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = np.arange(n_steps) / 1000.0
    f = np.where(y == 0, 8.0, 40.0)[:, None]
    rate = 0.1 * (1 + np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi, (n, 1))))
    return (rng.random((n, n_steps)) < rate).astype(float), y


@pytest.fixture
def recorded(monkeypatch):
    """What training hands on, recorded: the ``lr_scale`` of every AdamW built
    (``recorded.lr_scales``) and the strength of every ridge penalty on the readout
    (``recorded.ridge_strengths``)."""
    seen = SimpleNamespace(lr_scales=[], ridge_strengths=[])
    init, penalty = rrnsim.optim.AdamW.__init__, rrnsim.classifier.ridge_penalty

    def recording_init(self, params, decay=(), lr_scale=None, **kwargs):
        seen.lr_scales.append(lr_scale)
        init(self, params, decay, lr_scale, **kwargs)

    def recording_penalty(weight, l2):
        seen.ridge_strengths.append(l2)
        return penalty(weight, l2)
    monkeypatch.setattr(rrnsim.optim.AdamW, "__init__", recording_init)
    monkeypatch.setattr(rrnsim.classifier, "ridge_penalty", recording_penalty)
    return seen


def small(**kwargs):
    options = dict(spec="e", epochs=4, batch_size=32, lr=1e-2, verbose=False, seed=0)
    options.update(kwargs)
    return RRNClassifier(**options)


@pytest.mark.parametrize("features", ["power", "phase", "resonance", "centred"])
def test_fit_predict_score_on_a_rhythm_task(features):
    X, y = rhythm_task(n=400)
    clf = small(features=features, epochs=20).fit(X, y)
    X_test, y_test = rhythm_task(seed=1)
    proba = clf.predict_proba(X_test)
    print(f"\nrhythm task, {features} features: accuracy {clf.score(X_test, y_test):.3f}")
    assert proba.shape == (160, 2) and np.allclose(proba.sum(axis=1), 1)
    assert clf.score(X_test, y_test) > 0.8  # chance is 0.5
    assert np.array_equal(clf.predict(X_test), clf.classes_[proba.argmax(axis=1)])
    assert len(clf.history_) == 20 and 1 <= clf.best_epoch_ <= 20


def test_resonance_features_are_the_phase_features_and_two_per_node():
    X, y = rhythm_task(n=100)
    fixed = dict(epochs=1, train_recurrent=False)    # the same network for both
    F_phase = small(features="phase", **fixed).fit(X, y).transform(X)
    clf = small(features="resonance", **fixed).fit(X, y)
    F = clf.transform(X)
    K = clf.network_.n_nodes
    assert F.shape == (100, F_phase.shape[1] + 2 * K)
    np.testing.assert_array_equal(F[:, :F_phase.shape[1]], F_phase)
    summaries = clf.network_.summaries(X, resonance=True)   # no windows: other stretches
    np.testing.assert_allclose(F[:, -2 * K:], np.concatenate(
        [summaries["resonance_x"], summaries["resonance_q"]], axis=1), rtol=1e-9)


def test_products_features_and_readout_refit():
    X, y = rhythm_task(n=200)
    plain = small(epochs=3).fit(X, y)
    clf = small(epochs=3, products=1).fit(X, y)
    n_products = 3 * 5 + 4 * 4  # 5 nodes: x*x, x*q, q*q each; x/q cross products of 4 pairs
    assert clf.transform(X).shape == (200, plain.transform(X).shape[1] + n_products)
    refit = small(epochs=3, products=1, refit_alpha=10.0).fit(X, y)
    # the same training; then only the readout moves, to a lower penalised training loss
    np.testing.assert_array_equal(refit.transform(X), clf.transform(X))

    def penalised_loss(model):
        log_p = np.log(model.predict_proba(X))
        return (-log_p[np.arange(len(y)), y].mean()
                + 10.0 / len(y) * (model.params_["readout_weight"] ** 2).sum())
    assert penalised_loss(refit) < penalised_loss(clf)
    X_test, y_test = rhythm_task(seed=1)
    assert refit.score(X_test, y_test) > 0.8


def test_string_labels_and_multichannel_input():
    X, y = rhythm_task()
    labels = np.array(["slow", "fast"])[y]
    X2 = np.stack([X, np.roll(X, 3, axis=1)], axis=2)
    clf = small().fit(X2, labels)
    X_test, y_test = rhythm_task(seed=1)
    X2_test = np.stack([X_test, np.roll(X_test, 3, axis=1)], axis=2)
    assert clf.score(X2_test, np.array(["slow", "fast"])[y_test]) > 0.75  # labels not swapped
    assert list(clf.classes_) == ["fast", "slow"] and clf.network_.w_in.shape == (5, 2)


def test_parameters_follow_scikit_learn_conventions():
    clf = RRNClassifier(epochs=7, lr=0.5)
    assert clf.get_params()["epochs"] == 7 and clf.get_params()["lr"] == 0.5
    assert clf.set_params(epochs=3) is clf and clf.epochs == 3
    assert not hasattr(clf, "params_")
    with pytest.raises(ValueError, match="'colour'"):
        clf.set_params(colour="red")
    assert "epochs=3" in repr(clf)


def test_same_seed_same_model_and_different_seed_differs():
    X, y = rhythm_task()
    a, b, c = small().fit(X, y), small().fit(X, y), small(seed=1).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_paper_model_forward_is_the_papers_features():
    X, y = rhythm_task(n=40)
    clf = small(features="power", epochs=1).fit(X, y)
    net = clf.network_
    reference = rrnsim.RRN(net.frequencies, radius=net.radius, w_res=net.w_res).features(X)
    np.testing.assert_array_equal(clf.transform(X), reference)
    assert clf.n_parameters_ == net.n_parameters(n_classes=2)


def test_paper_settings_train_the_papers_model_as_its_code_does(recorded):
    """One rate for every weight, a linear readout on the power, no prior on the readout."""
    X, y = rhythm_task(n=40)
    clf = RRNClassifier(spec="e", epochs=1, verbose=False, **rrnsim.PAPER_SETTINGS).fit(X, y)
    assert recorded.lr_scales == [{"w_res": 1.0}] and set(recorded.ridge_strengths) == {0.0}
    assert clf.params_["readout_weight"].shape == (2, 1, clf.network_.n_nodes)
    assert clf.n_parameters_ == clf.network_.n_parameters(n_classes=2)


def test_readout_only_keeps_oscillators_fixed():
    X, y = rhythm_task(n=60)
    clf = small(train_recurrent=False, w_res_init=0.05).fit(X, y)
    first = small(train_recurrent=False, w_res_init=0.05, epochs=1).fit(X, y)
    np.testing.assert_array_equal(clf.network_.w_res, first.network_.w_res)
    # log power, 2 windows of x and q, centred resonance (5 nodes), and the mean input
    n_features = 5 * (1 + 2 * 2 + 2) + 1
    assert clf.n_parameters_ == 2 * n_features + 2 * 2 * (n_features + 1)  # norm + readout


def test_trained_nodes_stay_stable_and_below_nyquist():
    X, y = rhythm_task(n=60)
    clf = small(train_nodes=True, lr=0.2).fit(X, y)
    net = clf.network_
    assert np.all((net.frequencies > 0) & (net.frequencies < net.fs / 2))
    assert np.all((net.radius > 0) & (net.radius < 1))


@pytest.mark.parametrize("options", [{}, {"products": 2, "refit_alpha": 1.0}])
def test_save_load_predicts_exactly_the_same(tmp_path, options):
    X, y = rhythm_task()
    clf = small(**options).fit(X, y)
    path = clf.save(tmp_path / "model.npz")
    loaded = RRNClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.get_params() == clf.get_params()
    with np.load(path, allow_pickle=False) as data:  # plain arrays, no pickle
        assert json.loads(str(data["__metadata__"]))["format"] == "rrnsim.RRNClassifier"


@pytest.mark.parametrize("settings, network", [
    ('coupling = "none"\n', {"coupling": "none", "fs": 1000.0}),
    ("fs_hz = 500.0\n", {"coupling": "gated", "fs": 500.0}),
])
def test_save_load_keeps_the_specs_coupling_and_sampling_rate(tmp_path, settings, network):
    """A model of a spec without coupling (its random W_res unused), or at 500 Hz, loads as the
    network it was trained as, not as the defaults (gated, 1000 Hz)."""
    X, y = rhythm_task(n=60)
    spec = tmp_path / "spec.toml"
    spec.write_text(f'name = "s"\n{settings}[frequencies]\nhz = [5.0, 20.0, 40.0]\n')
    clf = small(spec=str(spec), epochs=2, w_res_init=0.3).fit(X, y)
    assert {"coupling": clf.network_.coupling, "fs": clf.network_.fs} == network
    assert np.abs(clf.params_["w_res"]).max() > 0.1
    loaded = RRNClassifier.load(clf.save(tmp_path / "model.npz"))
    assert {"coupling": loaded.network_.coupling, "fs": loaded.network_.fs} == network
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_verbose_false_prints_nothing(capsys):
    X, y = rhythm_task(n=40)
    small(epochs=1).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("X, y, message", [
    (np.zeros((10, 50)), np.zeros(10), "need at least two classes, got 1 class: [0.0]"),
    (np.zeros((10, 50)), np.zeros(9), "y must have shape (10,) to match X, got (9,)"),
    (np.full((10, 50), np.nan), np.arange(10) % 2,
     "X has a non-finite value NaN at index (0, 0, 0)"),
    (np.zeros(50), np.arange(2), "X must have shape (batch, time) or (batch, time, channels), got "
                                 "shape (50,). Reshape your data: X[None] for a single trial."),
    (np.zeros((4, 50)), None, "requires y to be passed, but the target y is None: give the class "
                              "labels"),
    (np.zeros((4, 50)), np.array([0.0, 1.0, np.nan, 1.0]),
     "y must hold finite labels, got nan at index 2"),
    (np.zeros((4, 50)), np.array([0.0, 1.0, 0.25, 1.0]),   # a regression target
     "y must hold class labels, got the continuous value 0.25 at index 2 (Unknown label type: "
     "continuous)"),
])
def test_bad_training_input(X, y, message):
    with pytest.raises(ValueError, match=whole(message)):
        small().fit(X, y)


@pytest.mark.parametrize("setting, message", [
    ({"features": "spectral"},
     "features must be one of ('power', 'phase', 'resonance', 'centred'), got 'spectral'"),
    ({"epochs": 0}, "epochs must be at least 1, got 0"),
    ({"products": -1}, "products must be at least 0, got -1"),
    ({"refit_alpha": 0}, "refit_alpha must be a finite positive number, got 0.0"),
    ({"weight_decay": np.nan}, "weight_decay must be finite, got nan"),
    ({"weight_decay": -0.1}, "weight_decay must be a finite non-negative number, got -0.1"),
    ({"w_res_init": -1.0}, "w_res_init must be a finite non-negative number, got -1.0"),
    ({"readout_alpha": -3.0}, "readout_alpha must be a finite non-negative number, got -3.0"),
    ({"readout_alpha": float("nan")}, "readout_alpha must be finite, got nan"),
    ({"lr": 0.0}, "lr must be a finite positive number, got 0.0"),
    ({"seed": -1}, "seed must be at least 0, got -1"),
    ({"seed": 1.5}, "seed must be an integer, got 1.5"),
    ({"windows": 2.7}, "windows must be an integer, got 2.7"),
    ({"components": 0}, "components must be at least 1, got 0"),
    ({"label_smoothing": 1.0}, "label_smoothing must be in [0, 1), got 1.0"),
    ({"train_nodes": "no"}, "train_nodes must be True or False, got 'no'"),
    ({"verbose": None}, "verbose must be True or False, got None"),
])
def test_bad_setting_is_named_before_training(setting, message):
    X, y = rhythm_task(n=20)
    with pytest.raises((TypeError, ValueError), match=whole(message)):
        small(**setting).fit(X, y)


def test_bad_labels_and_scoring_lengths():
    X, y = rhythm_task(n=20)
    with pytest.raises(ValueError, match="labels of one kind.*NoneType"):
        small().fit(X, np.array([None, 1] * 10, dtype=object))
    clf = small(epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"y must have shape \(20,\) to match X, got \(1,\)"):
        clf.score(X, y[:1])
    # labels of another kind never match: an error, not an accuracy of 0
    with pytest.raises(ValueError, match=whole("y holds string labels, the model's classes are "
                                               "number: [0, 1] (Mix of label input types)")):
        clf.score(X, y.astype(str))
    assert clf.score(X, y.astype(float)) == clf.score(X, y)
    named = small(epochs=1).fit(X, np.where(y == 0, "a", "b"))
    with pytest.raises(ValueError, match="y holds bytes labels, the model's classes are string"):
        named.score(X, np.where(y == 0, b"a", b"b"))
    as_objects = np.where(y == 0, "a", "b").astype(object)     # e.g. from a pandas column
    assert named.score(X, as_objects) == named.score(X, as_objects.astype(str))


@pytest.mark.parametrize("validation_fraction", [0.1, 0.0])
def test_numpy_settings_and_a_spec_path_save_as_plain_json(tmp_path, validation_fraction):
    X, y = rhythm_task(n=20)
    spec = tmp_path / "two.toml"
    spec.write_text('name = "two"\n[frequencies]\nhz = [8.0, 40.0]\n')
    clf = small(spec=spec, epochs=np.int64(1), lr=np.float32(3e-3),
                validation_fraction=validation_fraction).fit(X, y)
    loaded = RRNClassifier.load(clf.save(tmp_path / "m.npz"))
    assert loaded.epochs == 1 and type(loaded.epochs) is int and loaded.best_epoch_ == 1
    assert loaded.spec == str(spec)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_a_refused_fit_leaves_the_fitted_model_as_it_was():
    X, y = rhythm_task(n=40)
    clf = small(epochs=2).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="only 1 training sample"):
        clf.set_params(validation_fraction=0.5).fit(X[:3], y[:3])
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert list(clf.classes_) == [0, 1] and len(clf.history_) == 2


def test_decision_function_follows_scikit_learn_for_two_and_more_classes():
    X, y = rhythm_task(n=60)
    binary = small(epochs=1).fit(X, y)
    scores, proba = binary.decision_function(X), binary.predict_proba(X)
    assert scores.shape == (60,)
    np.testing.assert_allclose(scores, np.log(proba[:, 1] / proba[:, 0]), rtol=1e-9, atol=1e-12)
    three = small(epochs=1).fit(X, y + (np.arange(60) % 3 == 0))
    assert three.decision_function(X).shape == (60, 3)


def test_scikit_learn_sees_a_classifier_that_also_transforms():
    """Its tags say classifier and transformer (check_estimator refused it before running any
    check); fit_transform is fit then transform."""
    X, y = rhythm_task(n=40)
    tags = small().__sklearn_tags__()
    assert tags.estimator_type == "classifier" and tags.transformer_tags.preserves_dtype == ["float64"]
    features = small(epochs=1).fit_transform(X, y)
    np.testing.assert_array_equal(features, small(epochs=1).fit(X, y).transform(X))


#: The checks of scikit-learn's ``check_estimator`` that do not apply: they want X's column
#: count fixed at fit, and trials here may have any length (another length warns).
ANY_LENGTH = "trials of any length: X's columns are time steps, not a fixed feature count"
NOT_APPLICABLE = {check: ANY_LENGTH for check in (
    "check_n_features_in", "check_n_features_in_after_fitting", "check_classifiers_train",
    "check_transformer_general")}


def test_scikit_learns_estimator_checks_pass_but_those_of_a_fixed_column_count():
    """scikit-learn's own checks: its error messages (sparse, complex, empty, NaN and inf, one
    class, 1-d X, y None), column-vector labels, object arrays of numbers, cloning, pickling,
    fitting twice, ... all pass."""
    from sklearn.utils.estimator_checks import check_estimator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the checks' deliberate misuse warns
        results = check_estimator(small(spec="bands", epochs=2), on_fail=None,
                                  expected_failed_checks=NOT_APPLICABLE)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results
              if r["status"] == "failed"}
    assert failed == {}
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_estimators_nan_inf", "check_supervised_y_2d", "check_dtype_object",
            "check_estimator_sparse_array", "check_requires_y_none"} <= passed


def test_works_with_scikit_learn_model_selection():
    X, y = rhythm_task(n=60)
    labels = np.array(["slow", "fast"])[y]
    clf = small(epochs=2)
    assert is_classifier(clf) and clone(clf).get_params() == clf.get_params()
    folds = list(StratifiedKFold(3).split(X, labels))
    accuracy = cross_val_score(clf, X, labels, cv=3)
    np.testing.assert_array_equal(accuracy, [small(epochs=2).fit(X[train], labels[train])
                                             .score(X[test], labels[test])
                                             for train, test in folds])
    auc = cross_val_score(clf, X, labels, cv=3, scoring="roc_auc")
    # roc_auc ranks by decision_function, the log-odds of classes_[1] ("slow")
    np.testing.assert_allclose(auc, [roc_auc_score(labels[test] == "slow", small(epochs=2).fit(
        X[train], labels[train]).decision_function(X[test])) for train, test in folds])
    # the grid search scores each setting as that setting trains (set_params reaches fit), keeps
    # the best and refits it on all the data
    alphas = [0.0, 300.0]
    search = GridSearchCV(clf, {"readout_alpha": alphas}, cv=2, scoring="neg_log_loss")
    search.fit(X, labels)
    halves = list(StratifiedKFold(2).split(X, labels))
    scores = [np.mean([-log_loss(labels[test], small(epochs=2, readout_alpha=alpha)
                                 .fit(X[train], labels[train]).predict_proba(X[test]),
                                 labels=["fast", "slow"]) for train, test in halves])
              for alpha in alphas]
    assert scores[0] != scores[1]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], scores, rtol=1e-12)
    best = alphas[int(np.argmax(scores))]
    assert search.best_params_ == {"readout_alpha": best}
    np.testing.assert_array_equal(search.predict(X), small(epochs=2, readout_alpha=best)
                                  .fit(X, labels).predict(X))


def test_unfitted_use_and_an_untrainable_coupling(tmp_path):
    X, y = rhythm_task(n=20)
    from sklearn.exceptions import NotFittedError   # scikit-learn's, a ValueError
    with pytest.raises(NotFittedError, match=whole("this RRNClassifier is not fitted yet: call "
                                                   "fit(X, y) first")):
        small().predict(X)
    spec = tmp_path / "phase.toml"
    spec.write_text('name = "p"\ncoupling = "phase"\n[frequencies]\nhz = [5.0, 20.0]\n')
    with pytest.raises(ValueError, match=whole(f"training supports coupling 'gated' or 'none'; "
                                               f"spec {str(spec)!r} has 'phase'")):
        small(spec=str(spec)).fit(X, y)


def test_channel_mismatch_at_predict():
    X, y = rhythm_task(n=40)
    clf = small(epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="2 channel"):
        clf.predict(np.zeros((3, 200, 2)))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "not_a_model"])
def test_corrupt_model_file_is_a_clear_error(tmp_path, damage):
    X, y = rhythm_task(n=40)
    path = small(epochs=1).fit(X, y).save(tmp_path / "model.npz")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "garbage":
        path.write_bytes(b"this is not a zip file")
    else:
        rrnsim.io.save_arrays(path, {"a": np.zeros(3)}, {"format": "something else"})
    with pytest.raises(ValueError, match="model.npz") as error:
        RRNClassifier.load(path)
    if damage != "not_a_model":     # not numpy's advice to load it with pickles allowed
        assert "is not an .npz file, or is truncated" in str(error.value)
        assert "pickle" not in str(error.value)


def test_model_files_from_a_newer_rrnsim_or_with_inconsistent_arrays_are_named(tmp_path):
    X, y = rhythm_task(n=40)
    path = small(epochs=1).fit(X, y).save(tmp_path / "model.npz")
    arrays, metadata = rrnsim.io.load_arrays(path)
    newer = dict(metadata, version="99.0", params={**metadata["params"], "new_option": 1})
    rrnsim.io.save_arrays(tmp_path / "newer.npz", arrays, newer)
    with pytest.raises(ValueError, match="rrnsim 99.0 .*does not know: new_option"):
        RRNClassifier.load(tmp_path / "newer.npz")
    rrnsim.io.save_arrays(tmp_path / "newer.npz", arrays, dict(metadata, version="99.0"))
    with pytest.warns(UserWarning, match=r"rrnsim 99.0, newer than this rrnsim \(0"):
        RRNClassifier.load(tmp_path / "newer.npz")
    unknown_value = dict(metadata, version="99.0",
                         params={**metadata["params"], "features": "spectrogram"})
    rrnsim.io.save_arrays(tmp_path / "newer.npz", arrays, unknown_value)
    with pytest.warns(UserWarning, match="newer"), pytest.raises(
            ValueError, match="rrnsim 99.0 with settings this rrnsim .* refuses: features must be "
                              "one of .*got 'spectrogram'"):
        RRNClassifier.load(tmp_path / "newer.npz")
    partial = {k: v for k, v in arrays.items() if k != "param_readout_bias"}
    rrnsim.io.save_arrays(tmp_path / "partial.npz", partial, metadata)
    with pytest.raises(ValueError, match="partial.npz.*missing arrays param_readout_bias"):
        RRNClassifier.load(tmp_path / "partial.npz")
    rrnsim.io.save_arrays(tmp_path / "classes.npz", {**arrays, "classes": np.arange(3)},
                          metadata)
    with pytest.raises(ValueError, match=r"classes.npz.*'readout_weight' has shape \(2, 2, "):
        RRNClassifier.load(tmp_path / "classes.npz")
    rrnsim.io.save_arrays(tmp_path / "list.npz", arrays, metadata)
    with np.load(tmp_path / "list.npz") as data:    # metadata that is JSON, but not an object
        contents = {k: data[k] for k in data.files}
    contents["__metadata__"] = np.array("[1, 2]")
    np.savez(tmp_path / "list.npz", **contents)
    with pytest.raises(ValueError, match="list.npz.*a JSON list, not an object"):
        RRNClassifier.load(tmp_path / "list.npz")
    weight = arrays["param_readout_weight"].copy()
    weight.flat[3] = np.nan
    rrnsim.io.save_arrays(tmp_path / "nan.npz", {**arrays, "param_readout_weight": weight},
                          metadata)
    with pytest.raises(ValueError, match="nan.npz.*'readout_weight' holds values that are not "
                                         "finite"):
        RRNClassifier.load(tmp_path / "nan.npz")
    variance = arrays["bn_running_var"].copy()
    variance.flat[0] = -1e-6
    rrnsim.io.save_arrays(tmp_path / "var.npz", {**arrays, "bn_running_var": variance}, metadata)
    with pytest.raises(ValueError, match="var.npz.*'running_var' holds negative variances"):
        RRNClassifier.load(tmp_path / "var.npz")


def test_model_files_from_before_recurrent_lr_scale_load_with_the_settings_they_trained_at(
        tmp_path):
    X, y = rhythm_task(n=40)
    clf = small(epochs=1).fit(X, y)
    path = clf.save(tmp_path / "model.npz")
    arrays, metadata = rrnsim.io.load_arrays(path)
    del metadata["params"]["recurrent_lr_scale"], metadata["params"]["readout_alpha"]
    del metadata["n_steps"]
    # earlier versions also stored training settings they no longer take (0/1 for flags)
    metadata["params"].update(verbose=0, train_recurrent=1, batch_size=1)
    rrnsim.io.save_arrays(path, arrays, metadata)
    old = RRNClassifier.load(path)
    assert old.recurrent_lr_scale == 1.0 and old.readout_alpha == 0.0 and old.n_steps_ is None
    np.testing.assert_array_equal(old.predict_proba(X), clf.predict_proba(X))
    assert clf.n_steps_ == X.shape[1] and RRNClassifier.load(clf.save(path)).n_steps_ == X.shape[1]


def test_failed_save_leaves_existing_file(tmp_path):
    X, y = rhythm_task(n=40)
    clf = small(epochs=1).fit(X, y)
    path = clf.save(tmp_path / "model.npz")
    before = path.read_bytes()
    clf.history_.append({"bad": object()})  # not JSON: the save must fail before writing
    with pytest.raises(TypeError):
        clf.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_save_onto_a_folder_names_it_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "models"
    target.mkdir()
    with pytest.raises(OSError, match="cannot write .*models'"):
        rrnsim.io.save_arrays(target, {"a": np.zeros(3)})
    assert [p.name for p in tmp_path.iterdir()] == ["models"]


def test_array_files_refuse_numpys_own_names_and_name_a_folder(tmp_path):
    for name in ("file", "allow_pickle", "__metadata__"):
        with pytest.raises(ValueError, match=f"array name '{name}' is reserved"):
            rrnsim.io.save_arrays(tmp_path / "a.npz", {name: np.zeros(2)})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(IsADirectoryError, match="is a folder"):
        rrnsim.io.load_arrays(tmp_path)


def test_save_refuses_object_arrays_before_writing(tmp_path):
    path = rrnsim.io.save_arrays(tmp_path / "m.npz", {"a": np.zeros(3)})
    before = path.read_bytes()
    with pytest.raises(ValueError, match="'classes' holds Python objects"):
        rrnsim.io.save_arrays(path, {"classes": np.array([2 ** 70, 1], dtype=object)})
    assert path.read_bytes() == before


def test_silent_trials_and_object_labels(tmp_path):
    """An input without any spike has power 0: training and prediction stay finite; labels held
    in an object array still save without pickle."""
    X, y = rhythm_task(n=80)
    X[:3] = 0.0
    labels = np.array(["slow", "fast"], dtype=object)[y]
    clf = small(epochs=2).fit(X, labels)
    assert np.isfinite(clf.predict_proba(X[:3])).all()
    loaded = RRNClassifier.load(clf.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_column_labels_are_flattened_with_scikit_learns_warning():
    """As in scikit-learn: y of shape (n, 1) warns (DataConversionWarning) and is read as (n,);
    other shapes are an error."""
    from sklearn.exceptions import DataConversionWarning
    X, y = rhythm_task(n=40)
    clf = small(epochs=1).fit(X, y)
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed"):
        column = small(epochs=1).fit(X, y[:, None])
    np.testing.assert_array_equal(column.predict(X), clf.predict(X))
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed"):
        assert clf.score(X, y[:, None]) == clf.score(X, y)
    with pytest.raises(ValueError, match=r"shape \(40,\) to match X, got \(40, 2\)"):
        clf.score(X, np.c_[y, y])


def test_fit_leaves_the_blas_thread_count_as_it_found_it():
    """Training holds BLAS to one thread (threadpoolctl) and gives the setting back afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    X, y = rhythm_task(n=64)
    small(epochs=1).fit(X, y)   # loads every library that training uses
    with threadpool_limits(limits=2, user_api="blas"):
        assert blas_threads() == {2}
        small(epochs=2).fit(X, y)
        assert blas_threads() == {2}


def test_every_training_batch_holds_two_samples(monkeypatch):
    """Batch statistics need two samples: batch_size 1 is refused, and 5 samples in batches of
    2 train as 3 + 2, not 2 + 2 + 1."""
    X, y = rhythm_task(n=5)
    with pytest.raises(ValueError, match="batch_size must be at least 2, got 1"):
        small(batch_size=1).fit(X, y)
    sizes, forward = [], rrnsim.readout.BatchNorm.forward
    def recording(self, F, params, state, training):
        if training:
            sizes.append(F.shape[0])
        return forward(self, F, params, state, training)
    monkeypatch.setattr(rrnsim.readout.BatchNorm, "forward", recording)
    small(batch_size=2, epochs=2, validation_fraction=0.0).fit(X, y)
    assert sizes == [3, 2, 3, 2] or sizes == [2, 3, 2, 3]


def test_small_validation_split_is_never_empty_and_picks_the_epoch_by_one_standard_error():
    X, y = rhythm_task(n=10)
    clf = small(epochs=6, batch_size=4, validation_fraction=0.05).fit(X, y)  # round(0.5) = 0
    assert all({"val_accuracy", "val_loss", "val_loss_se"} <= set(r) for r in clf.history_)
    lowest = min(clf.history_, key=lambda r: r["val_loss"])
    within = [r["epoch"] for r in clf.history_
              if r["val_loss"] <= lowest["val_loss"] + lowest["val_loss_se"]]
    assert clf.best_epoch_ == max(within)


def test_one_standard_error_rule_keeps_the_latest_epoch_within_one_se_of_the_lowest_loss():
    def history(losses, se=0.1):
        return [{"epoch": i + 1, "val_loss": loss, "val_loss_se": se}
                for i, loss in enumerate(losses)]
    pick = rrnsim.classifier._one_standard_error_epoch
    assert pick(history([1.0, 0.8, 0.85, 0.95])) == 3    # lowest loss: 2; within 2 SE: 4
    assert pick(history([1.0, 0.8, 0.85, 0.95], se=0.0)) == 2
    assert pick(history([0.5, 0.9, 0.7])) == 1           # later epochs clearly worse
    assert pick(history([float("nan"), 0.8, 0.85])) == 3  # non-finite losses never count
    assert pick(history([float("inf")] * 3, se=float("nan"))) == 3


def test_recurrent_lr_scale_sets_how_far_w_res_moves(recorded):
    X, y = rhythm_task(n=100)
    start = small(train_recurrent=False).fit(X, y).params_["w_res"]   # the same random start
    moved = {scale: np.abs(small(recurrent_lr_scale=scale, validation_fraction=0).fit(X, y)
                           .params_["w_res"] - start).max() for scale in (1e-9, 0.1, 1.0)}
    assert moved[1e-9] < 1e-9 < moved[0.1] < moved[1.0]
    for bad, message in ((-1.0, "must be a finite positive number, got -1.0"),
                         (0.0, "must be a finite positive number, got 0.0"),
                         (float("nan"), "must be finite, got nan"),
                         ("0.1", "must be a number, got '0.1'"),
                         (True, "must be a number, got True")):
        with pytest.raises((TypeError, ValueError), match=whole(f"recurrent_lr_scale {message}")):
            small(recurrent_lr_scale=bad).fit(X, y)
    recorded.lr_scales.clear()
    small(recurrent_lr_scale=0.25, epochs=1).fit(X, y)
    assert recorded.lr_scales == [{"w_res": 0.25}]      # only W_res learns at the scaled rate


def test_readout_alpha_is_a_ridge_prior_scaled_by_the_training_samples(recorded):
    X, y = rhythm_task(n=100)
    fixed = dict(train_recurrent=False, epochs=10, validation_fraction=0.2)  # 80 trained on
    norms = [np.linalg.norm(small(readout_alpha=alpha, **fixed).fit(X, y).params_["readout_weight"])
             for alpha in (0.0, 30.0, 300.0)]
    assert norms[0] > norms[1] > norms[2]
    recorded.ridge_strengths.clear()
    clf = small(readout_alpha=30.0, **fixed).fit(X, y)
    assert set(recorded.ridge_strengths) == {30.0 / 80}
    assert len(recorded.ridge_strengths) == 10 * 3       # 80 samples in batches of 32: 3 per epoch
    # the training loss is the cross-entropy plus the penalty, and so is its gradient
    F, weight = clf.transform(X[:32]), clf.params_["readout_weight"]
    loss_0, grads_0, _ = clf._readout_gradients(F, y[:32], 0.0)
    loss, grads, _ = clf._readout_gradients(F, y[:32], 0.5)
    assert np.isclose(loss - loss_0, 0.5 * np.sum(weight ** 2), rtol=1e-12)
    np.testing.assert_allclose(grads["readout_weight"] - grads_0["readout_weight"], weight,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(grads["bn_scale"], grads_0["bn_scale"])


def test_the_model_of_the_kept_epoch_is_restored(monkeypatch):
    """After fit, the model scores the validation split exactly as the kept epoch did: here
    epoch 3 of 8, forced by the epoch rule, so the final state has to be replaced."""
    X, y = rhythm_task(n=40)
    seen, transform = [], RRNClassifier.transform
    def recording(self, X_part):
        seen.append(X_part)
        return transform(self, X_part)
    picked = []
    def third_epoch(history):
        picked.append([dict(record) for record in history])
        return 3
    monkeypatch.setattr(RRNClassifier, "transform", recording)
    monkeypatch.setattr(rrnsim.classifier, "_one_standard_error_epoch", third_epoch)
    clf = small(epochs=8, batch_size=4, lr=0.1, validation_fraction=0.25).fit(X, y)
    assert clf.best_epoch_ == 3 and picked == [clf.history_] and len(clf.history_) == 8
    X_val = seen[0]
    y_val = y[[int(np.flatnonzero((X == row).all(axis=1))[0]) for row in X_val[..., 0]]]
    log_p = np.log(clf.predict_proba(X_val))
    assert all(record["val_loss_se"] > 0 for record in clf.history_)   # 10 validation samples
    val_loss = -log_p[np.arange(len(y_val)), y_val].mean()
    assert val_loss == pytest.approx(clf.history_[2]["val_loss"], rel=1e-12)
    assert val_loss != pytest.approx(clf.history_[-1]["val_loss"], rel=1e-6)


def test_fixed_oscillators_are_simulated_once(monkeypatch):
    """Readout-only training computes the features once, not per batch and epoch, and trains
    to the same kind of model."""
    X, y = rhythm_task(n=200)
    calls, simulate = [], rrnsim.engines.discrete.simulate
    def counting(*args, **kwargs):
        calls.append(kwargs.get("record", True))
        return simulate(*args, **kwargs)
    monkeypatch.setattr(rrnsim.engines.discrete, "simulate", counting)
    clf = small(train_recurrent=False, epochs=5).fit(X, y)
    assert calls == [False]  # one streamed pass over X (one block), no recorded states
    X_test, y_test = rhythm_task(seed=1)
    assert clf.score(X_test, y_test) > 0.8


def test_uncoupled_spec_trains_no_w_res_and_labels_keep_their_dtype(tmp_path):
    X, y = rhythm_task(n=60)
    labels = y.astype(np.uint8)
    fitted = {}
    for coupling in ("none", "gated"):
        spec = tmp_path / f"{coupling}.toml"
        spec.write_text(f'name = "{coupling}"\ncoupling = "{coupling}"\n'
                        '[frequencies]\nhz = [5.0, 20.0, 40.0]\n')
        fitted[coupling] = small(spec=str(spec), epochs=2).fit(X, labels)
    clf = fitted["none"]
    assert fitted["gated"].n_parameters_ - clf.n_parameters_ == 3 * 2  # W_res off-diagonal
    paper = small(spec=str(tmp_path / "none.toml"), features="power", epochs=1).fit(X, labels)
    assert paper.n_parameters_ == paper.network_.n_parameters(n_classes=2) == 2 * 3 + 4 * 2
    assert clf.classes_.dtype == np.uint8 and clf.predict(X).dtype == np.uint8
    path = clf.save(tmp_path / "model.npz")
    assert rrnsim.RRNClassifier.load(path).classes_.dtype == np.uint8
    whole_floats = small(spec=str(tmp_path / "none.toml"), epochs=1).fit(X, y.astype(float))
    assert whole_floats.classes_.tolist() == [0.0, 1.0]    # whole-number floats are labels


def test_a_failed_fit_leaves_the_previous_model_as_it_was(tmp_path):
    """An error inside fit (here a spec file that cannot be read, found when the network is
    built) restores every fitted attribute: the old model predicts as before, under its own
    labels. On an unfitted estimator, it stays unfitted."""
    X, y = rhythm_task(n=60)
    clf = small(epochs=2).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(spec=str(tmp_path / "missing.toml"))
    with pytest.raises((OSError, ValueError), match="missing.toml"):
        clf.fit(X, np.where(y == 0, "cat", "dog"))
    assert clf.classes_.tolist() == [0, 1]
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    fresh = small(spec=str(tmp_path / "missing.toml"))
    with pytest.raises((OSError, ValueError)):
        fresh.fit(X, y)
    assert not [name for name in vars(fresh) if name.endswith("_")]
    clf.set_params(spec="e", epochs=50)      # an interrupt (Ctrl-C) restores the model too
    with pytest.raises(KeyboardInterrupt):
        _interrupted_fit(clf, X, np.where(y == 0, "cat", "dog"))
    assert clf.classes_.tolist() == [0, 1]
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def _interrupted_fit(clf, X, y):
    """fit, interrupted (KeyboardInterrupt) at its first training step."""
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    original, clf._gradients = clf._gradients, interrupt
    try:
        clf.fit(X, y)
    finally:
        del clf._gradients
        assert clf._gradients.__func__ is original.__func__


def test_trials_shorter_than_the_windows_are_refused_before_training():
    X, y = rhythm_task(n=20, n_steps=3)
    with pytest.raises(ValueError, match=whole("windows=4 needs trials of at least 4 samples, "
                                               "got 3 (n_features=3: X's columns are time "
                                               "steps)")):
        small(windows=4).fit(X, y)
    clf = small(windows=2, epochs=1).fit(*rhythm_task(n=20))
    with pytest.raises(ValueError, match="windows=2 needs trials of at least 2 samples, got 1"):
        clf.predict(np.zeros((2, 1)))
    with pytest.warns(UserWarning, match="the trials have 2 samples"):   # as long as the windows
        assert clf.predict(np.zeros((2, 2))).shape == (2,)


def test_trials_of_another_length_than_training_warn():
    """The oscillators barely decay, so the features of the same input grow with its length:
    the model warns, and its features do differ."""
    X, y = rhythm_task(n=40, n_steps=200)
    clf = small(epochs=1).fit(X, y)
    longer = np.concatenate([X, X], axis=1)
    with pytest.warns(UserWarning, match="the trials have 400 samples, the model was trained "
                                         "on 200"):
        features = clf.transform(longer)
    with pytest.warns(UserWarning, match="the trials have 100 samples"):
        clf.transform(X[:, :100])
    power = slice(0, clf.network_.n_nodes)      # log power: first K features
    assert features[:, power].mean() > clf.transform(X)[:, power].mean() + 0.3


def test_the_validation_split_is_stratified_and_keeps_every_class_in_training():
    from rrnsim.classifier import _validation_split
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [13, 13, 4])
    val, train = _validation_split(y, 3, rng)
    assert np.bincount(y[val]).tolist() == [1, 1, 1]        # 0.4 of class 2 rounds up
    assert sorted(np.concatenate([val, train]).tolist()) == list(range(30))
    val, train = _validation_split(np.array([0, 0, 1]), 2, rng)   # class 1 has none to give
    assert val.size == 1 and 2 in train
    y = np.repeat([0, 1, 2], [50, 49, 1])     # class 2's only sample stays in training
    for seed in range(20):
        val, train = _validation_split(y, 10, np.random.default_rng(seed))
        assert 2 in y[train] and np.bincount(y[val], minlength=3).tolist() == [5, 5, 0]


def test_fit_holds_out_fewer_when_the_classes_are_too_small_to_give():
    """validation_fraction 0.5 of 4 samples asks for 2; classes of 1, 1 and 2 samples can give
    only 1 (each keeps a training sample), and fit validates on that one."""
    X, _ = rhythm_task(n=4)
    clf = small(epochs=1, validation_fraction=0.5).fit(X, np.array([0, 1, 2, 2]))
    assert "val_loss" in clf.history_[-1]

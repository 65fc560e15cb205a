"""The stem corpus: stored events re-render the generator's scenes, remixes follow the rules, the
stream is reproducible, and training runs on it."""
import numpy as np
import pytest
import torch
import yaml

from s5bench.common.labels import LABELS, SILENCE
from s5bench.data_gen.factory import MixtureFactory
from s5bench.data_gen.stem_corpus import StemCorpus, StemStream, build_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from conftest import tiny_data_config

    root = tmp_path_factory.mktemp("stems")
    cfg = tiny_data_config(root)
    build_corpus(cfg, root / "corpus", n_scenes=6, seed=3, progress=False)
    return cfg, root / "corpus"


def test_stored_scenes_are_the_generator_s(corpus):
    cfg, folder = corpus
    c, factory = StemCorpus(folder), MixtureFactory(cfg)
    for i in range(6):
        scene = factory.render(factory.plan(3, i))
        mixture, dry, interference, noise = c.original_scene(i)
        peak = np.abs(scene.mixture).max()
        assert np.abs(mixture - scene.mixture).max() < 1e-5 * peak
        assert np.abs(dry - scene.dry).max() < 1e-5 * np.abs(scene.dry).max()
        assert np.abs(interference - scene.interference).max() < 1e-5 * peak
        assert np.abs(noise - scene.noise).max() < 1e-5 * np.abs(scene.noise).max()
    for k in range(len(c.events)):  # every stored image at unit mean square of its full length
        assert np.mean(c.wet(k).astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-5)


def test_remixes_follow_the_rules(corpus):
    _, folder = corpus
    c = StemCorpus(folder)
    rng = np.random.default_rng(0)
    counts = set()
    sr, T = c.rules["sr"], c.T
    for _ in range(300):
        targets, inter, noise_k = c.draw_events(rng)
        labels = [c.events[i]["label"] for i, _, _ in targets]
        counts.add(len(labels))
        assert 1 <= len(labels) <= 3 and len(set(labels)) == len(labels) and set(labels) <= set(LABELS)
        assert 1 <= len(inter) <= 2 and all(c.events[i]["kind"] == "interference" for i, _, _ in inter)
        assert all(5 <= snr <= 20 for _, snr, _ in targets) and all(0 <= snr <= 15 for _, snr, _ in inter)
        onsets = [s for _, _, s in targets]
        assert onsets == sorted(onsets)  # slots in onset order
        for i, _, s in targets + inter:  # the generator's onset range: the event fits in the scene
            assert 0 <= s <= int((c.rules["duration"] - c.events[i]["event_duration"]) * sr) <= T
        assert 0 <= noise_k < len(c.index["noise"])
    assert counts == {1, 2, 3}
    ex = c.draw(np.random.default_rng(1))  # an example has the stream's keys and shapes
    active = [lab for lab in ex["labels"] if lab != SILENCE]
    assert ex["labels"][len(active):] == [SILENCE] * (3 - len(active)) and int(ex["active"].sum()) == len(active)
    assert ex["mixture"].shape == (4, T) and ex["targets"].shape == (3, T) and ex["interference"].shape == (2, T)


def test_longer_remixes_place_the_same_events_in_a_longer_scene(corpus):
    """duration: an event keeps its level and image, its onset may fall anywhere it fits in the
    longer scene, and the noise is consecutive stored clips, each at its stored level."""
    _, folder = corpus
    short = StemCorpus(folder)
    stored, sr = short.T, short.rules["sr"]
    long = StemCorpus(folder, duration=2.5 * short.rules["duration"])
    assert long.T == int(round(2.5 * short.rules["duration"] * sr)) and long.index["samples"] == stored
    clips = short.index["noise"]
    noise = long.noise(len(clips) - 1)  # wraps round to the first clip
    assert noise.shape == (4, long.T)
    assert np.array_equal(noise[:, :stored], short.noise(len(clips) - 1))
    assert np.array_equal(noise[:, stored:2 * stored], short.noise(0))
    assert np.array_equal(noise[:, 2 * stored:], short.noise(1)[:, :long.T - 2 * stored])
    rng = np.random.default_rng(1)
    late = 0
    for _ in range(200):
        targets, inter, noise_k = long.draw_events(rng)
        for i, _, s in targets + inter:
            assert 0 <= s <= int((long.rules["duration"] - long.events[i]["event_duration"]) * sr)
            late += s >= stored
    assert late > 0  # onsets past the stored scenes' end occur
    i = long.by_label["target"][long.target_labels[0]][0]
    mixture, dry, _, _ = long.mix([(i, 10.0, stored)], [], 0)
    length = min(short.events[i]["length"], stored, long.T - stored)  # the short scene cuts at its end
    assert mixture.shape == (4, long.T) and not dry[0, :stored].any()
    assert np.array_equal(dry[0, stored:stored + length], short.mix([(i, 10.0, 0)], [], 0)[1][0, :length])
    with pytest.raises(ValueError, match="shorter than"):
        StemCorpus(folder, duration=0.5 * short.rules["duration"])
    first = next(iter(StemStream(folder, seed=5, duration=long.rules["duration"])))
    assert first["mixture"].shape == (4, long.T)


def test_the_stream_is_reproducible_and_resumable(corpus):
    _, folder = corpus
    first = [ex["mixture"] for ex, _ in zip(StemStream(folder, seed=5), range(6))]
    again = [ex["mixture"] for ex, _ in zip(StemStream(folder, seed=5), range(6))]
    resumed = [ex["mixture"] for ex, _ in zip(StemStream(folder, seed=5, start=3), range(3))]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert all(torch.equal(a, b) for a, b in zip(first[3:], resumed))
    assert not torch.equal(first[0], next(iter(StemStream(folder, seed=6)))["mixture"])
    loader = torch.utils.data.DataLoader(StemStream(folder, seed=5, length=6), batch_size=None, num_workers=2)
    assert sorted(ex["name"] for ex in loader) == sorted(f"stems5:{i}" for i in range(6))


def test_a_recipe_trains_on_the_corpus(corpus, tmp_path):
    from s5bench.systems.training.recipes import load_train_config
    from s5bench.systems.training.trainer import train

    cfg, folder = corpus
    data = tmp_path / "data.yaml"
    data.write_text(yaml.safe_dump({k: v for k, v in cfg.items() if not k.startswith("_")}))
    recipe = {"task": "uss", "model": {"architecture": "bandsplit", "dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128},
              "data": str(data), "stems": str(folder), "steps": 2, "batch_size": 2, "val_every": 2, "val_size": 2,
              "select_metric": "sep_gain", "select_mode": "max", "export": ""}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    result = train(load_train_config(path), tmp_path / "run", progress=False)
    assert result["steps"] == 2 and (tmp_path / "run" / "last.pt").is_file()


def test_the_training_cost_benchmark_writes_its_table(corpus, tmp_path):
    """A smoke run of runners/bench_training.py: one row per recipe, ratios against the first."""
    import pandas as pd

    from s5bench.runners.bench_training import main

    out = tmp_path / "bench.csv"
    assert main(["--steps", "1", "--recipes", "cpu_uss_bandsplit,probe_blstm_uss", "--stems", str(corpus[1]),
                 "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df["recipe"]) == ["cpu_uss_bandsplit", "probe_blstm_uss"]
    assert df.loc[0, "model_x_cheaper"] == 1.0 and df.loc[0, "total_x_cheaper_generator"] == 1.0
    assert (df["model_s"] > 0).all() and (df["stems_data_s"] > 0).all() and (df["parameters"] > 0).all()


def test_a_corpus_with_the_spatialscaper_engine_is_the_builtin_one(tmp_path, monkeypatch):
    """engine: spatialscaper (a stand-in for the fork, which renders whole scenes only): the corpus
    stores single events, which the SpatialScaper engine renders with the built-in renderer (the
    fork's rendering to ≈3e-7, tests/golden/fork2025); it used to crash (no `event_images`)."""
    import sys
    import types

    from conftest import tiny_data_config

    class Fork:  # the corpus never renders a whole scene
        @classmethod
        def from_metadata(cls, path):
            raise AssertionError("the stem corpus must not render whole scenes")

    monkeypatch.setitem(sys.modules, "spatialscaper", types.ModuleType("spatialscaper"))
    fork = types.ModuleType("fake_fork")
    fork.Fork = Fork
    monkeypatch.setitem(sys.modules, "fake_fork", fork)
    builtin = tiny_data_config(tmp_path)
    fork_cfg = {**builtin, "engine": "spatialscaper", "spatialscaper": {"module": "fake_fork", "class": "Fork"}}
    build_corpus(builtin, tmp_path / "builtin", n_scenes=3, seed=3, progress=False)
    build_corpus(fork_cfg, tmp_path / "fork", n_scenes=3, seed=3, progress=False)
    import json

    for f in sorted((tmp_path / "builtin").iterdir()):
        if f.suffix == ".json":  # the index names the recipe (its engine): the rest is the same
            ours, theirs = json.loads(f.read_text()), json.loads((tmp_path / "fork" / f.name).read_text())
            assert ours.pop("recipe")["engine"] == "builtin" and theirs.pop("recipe")["engine"] == "spatialscaper"
            assert ours == theirs and ours["events"]
        else:
            assert (tmp_path / "fork" / f.name).read_bytes() == f.read_bytes(), f.name

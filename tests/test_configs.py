"""Configs refuse keys they do not know; runs are keyed on the code that makes them; malformed
YAML is named by file, line and column."""
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, TINY_MODELS, runner

from s5bench.common.errors import S5Error
from s5bench.data_gen.config import load_config
from s5bench.systems import build_system


def test_data_config_refuses_unknown_keys(tmp_path):
    from s5bench.data_gen.config import load_config

    base = yaml.safe_load((ROOT / "configs" / "data" / "builtin_test.yaml").read_text())
    for broken, key in (({**base, "romos": {}}, "'romos'"), ({**base, "scene": {"n_target": [1, 3]}}, "'n_target'")):
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(broken))
        with pytest.raises(ValueError, match=f"data config {path}.*unknown key\\(s\\) {key}; allowed: .*duration"
                           if key == "'n_target'" else f"data config {path}: unknown key\\(s\\) {key}; allowed"):
            load_config(path)


def test_system_config_refuses_unknown_keys(tmp_path):
    from s5bench.systems.registry import load_system_config

    path = tmp_path / "sys.yaml"
    path.write_text("class: systems.oracle:OracleSources\nargz: {}\n")
    message = f"system config {path}: unknown key\\(s\\) 'argz'; allowed: args, class, name"
    with pytest.raises(ValueError, match=message):
        load_system_config(path)


def test_training_config_refuses_unknown_keys_in_each_section(tmp_path):
    from s5bench.systems.training.recipes import data_config, load_train_config
    from s5bench.systems.training.trainer import train

    good = {"task": "uss", "model": TINY_MODELS["uss"], "data": "builtin_train", "steps": 1}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({**good, "stpes": 10}))
    with pytest.raises(ValueError, match="unknown key\\(s\\) 'stpes'; allowed: .*steps"):
        load_train_config(path)
    path.write_text(yaml.safe_dump({**good, "model": {**TINY_MODELS["uss"], "d_stat": 32}}))
    with pytest.raises(ValueError, match="section 'model': unknown model option\\(s\\) 'd_stat'"):
        train(load_train_config(path), tmp_path / "work", progress=False)
    path.write_text(yaml.safe_dump({**good, "task_options": {"si_warmup_step": 300}}))  # one letter short
    with pytest.raises(ValueError, match=r"t\.yaml, section 'task_options' \(task uss\): unknown key\(s\) "
                                         r"'si_warmup_step'; allowed: si_warmup_steps"):
        load_train_config(path)
    from s5bench.systems.training.tasks import TASK_CLASSES

    with pytest.raises(ValueError, match=r"unknown task option\(s\) 'treshold' for SCTask; it takes: .*leak"):
        TASK_CLASSES["sc"](treshold=1)
    path.write_text(yaml.safe_dump({**good, "data_overrides": {"scene.durration": 2.0}}))
    with pytest.raises(ValueError, match="data_overrides .*unknown key\\(s\\) 'durration'"):
        data_config(load_train_config(path))
    r = subprocess.run([*runner("train.py"), "--config", str(path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "durration" in r.stderr


def test_a_code_change_starts_a_fresh_run(tmp_path, monkeypatch):
    import s5bench.systems.run_folder as tables
    from s5bench.common import provenance
    from s5bench.reporting.table_jobs import provenance as table_provenance

    cfg = {"class": "s5bench.systems.oracle:OracleSources", "name": "oracle_sources"}
    before = tables.run_dir_for("oracle_sources", cfg, "data-fp", tmp_path)
    assert tables.run_dir_for("oracle_sources", cfg, "data-fp", tmp_path) == before
    fake = tmp_path / "repo"
    for pkg in provenance.CODE_PACKAGES:
        (fake / pkg).mkdir(parents=True)
        (fake / pkg / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(provenance, "REPO", fake)
    one = tables.run_dir_for("oracle_sources", cfg, "data-fp", tmp_path)
    (fake / "systems" / "a.py").write_text("x = 2\n")  # an edit of a model's code
    two = tables.run_dir_for("oracle_sources", cfg, "data-fp", tmp_path)
    assert len({before, one, two}) == 3
    plug_in = {"class": "conftest:HalfMixture", "name": "half"}  # a plug-in's own folder counts too
    assert provenance.code_fingerprint(["conftest"]) != provenance.code_fingerprint()
    assert table_provenance("half", plug_in, tmp_path, "fp")["code_fingerprint"] == provenance.code_fingerprint(
        ["conftest:HalfMixture"])


def test_a_newcomer_s_first_errors_say_what_to_do(monkeypatch):
    from s5bench.data_gen.config import build_sources, load_config
    from s5bench.systems import build_system

    monkeypatch.delenv("S5_DEV_SET", raising=False)
    with pytest.raises(ValueError, match="environment variable S5_DEV_SET is not set"):
        build_sources(load_config("dcase2025_official"), "target")
    with pytest.raises(FileNotFoundError) as err:
        build_system("baseline_official")
    for key in ("args.separator", "args.tagger", "args.weight_file", "resunetk.ckpt", "v1.0.0 release"):
        assert key in str(err.value)


# The paper-size recipes: documented for GPU users, shipped without a checkpoint (the paper trains for days).
PAPER_RECIPES = {"uss_paper", "sc_paper_step1", "sc_paper", "tse_paper", "separator_paper", "tagger_head",
                 "tagger_blocks"}
CHECKPOINT_KEYS = ("init", "uss_checkpoint", "tse_checkpoint")


def _recipe_files():
    top = sorted((ROOT / "configs" / "train").glob("*.yaml"))
    experiments = sorted((ROOT / "configs" / "train" / "experiments").glob("*.yaml"))
    return top, experiments


def test_configs_train_lists_what_ships_and_experiments_hold_the_rest():
    top, experiments = _recipe_files()
    assert experiments, "configs/train/experiments/ holds the measured, unshipped recipes"
    for path in top:
        shipped = (ROOT / "checkpoints" / f"{path.stem}.pt").is_file()
        assert shipped or path.stem in PAPER_RECIPES, f"{path.name}: no checkpoint ships it; move it to experiments/"
    for path in experiments:
        assert not (ROOT / "checkpoints" / f"{path.stem}.pt").is_file(), f"{path.name} ships: move it up"
        assert not (ROOT / "configs" / "train" / path.name).exists(), f"{path.name} is in both folders"


def test_every_recipe_loads_by_name_and_by_path_and_its_start_points_resolve():
    from s5bench.systems.training.recipes import load_train_config

    top, experiments = _recipe_files()
    exports = {}
    for path in top + experiments:
        by_name, by_path = load_train_config(path.stem), load_train_config(path)
        assert by_name == by_path and by_name["name"] == path.stem
        if by_name["export"]:
            exports[by_name["export"]] = path.stem
    for path in top + experiments:
        cfg = load_train_config(path)
        for key in CHECKPOINT_KEYS:
            ref = cfg.get(key) or (cfg["task_options"] or {}).get(key)
            if ref:  # a shipped file, or the export of another recipe (a paper-size chain)
                assert (ROOT / ref).is_file() or ref in exports, f"{path.name}: {key} {ref} resolves to nothing"
    with pytest.raises(FileNotFoundError, match="training config 'no_such_recipe' not found"):
        load_train_config("no_such_recipe")


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("class: s5bench.systems.oracle:OracleSources\nargs: {a: [1, 2}\n")
    with pytest.raises(S5Error, match=r"system config .*bad.yaml: malformed YAML at line 2, column \d+"):
        build_system(str(bad))
    bad.write_text("engine: builtin\ntargets:\n  procedural: {seed: 1\n")
    with pytest.raises(S5Error, match=r"data config .*bad.yaml: malformed YAML at line \d+"):
        load_config(bad)
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "generate.py"), "--config", str(bad), "--out",
                        str(tmp_path / "o"), "--n", "1"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith(f"error: data config {bad}: malformed YAML at line")

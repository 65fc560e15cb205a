"""Plug-in systems as a participant writes them: the docs' plug-in copied into an empty folder and run
with the console command, a YAML's folder as the home of its class and of its paths, and a plug-in's
own failures named by file and line; a class that is no System is refused before it is called, and an
unknown `args:` key is named through **kwargs."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import ROOT, s5bench

from s5bench.common.errors import S5Error
from s5bench.systems import System
from s5bench.systems.registry import build_system, load_system_config

EXAMPLE = ROOT / "docs" / "examples" / "my_system"
def code_blocks(page: Path) -> list[str]:
    blocks = re.findall(r"^```[a-z]*\n.*?^```", page.read_text(), flags=re.M | re.S)
    return [block.split("\n", 1)[1] for block in blocks]


def test_the_docs_show_the_plugin_files_as_they_are():
    """docs/systems.md shows the whole plug-in, and what it shows is the file the next test runs."""
    blocks = [b.rstrip("`").rstrip() for b in code_blocks(ROOT / "docs" / "systems.md")]
    for file in ("my_plugin.py", "my_system.yaml"):
        assert (EXAMPLE / file).read_text().rstrip() in blocks, f"docs/systems.md does not show {file} as it is"


def test_the_docs_plugin_copied_into_an_empty_folder_runs(builtin_two, tmp_path):
    """Case 1: the plug-in as the docs show it, in a folder of its own, run from another folder with
    `s5bench run`: no PYTHONPATH, no install; its estimates carry its label, the run is scored."""
    plugin = tmp_path / "my_system"
    plugin.mkdir()
    for file in ("my_plugin.py", "my_system.yaml"):
        shutil.copy(EXAMPLE / file, plugin / file)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = s5bench("run", "--system", plugin / "my_system.yaml", "--data", builtin_two, "--out", "results",
                "--zip", "Me_MyLab_task4_1_out", "--jobs", "1", "--bootstrap", "0", cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    summary = pd.read_csv(elsewhere / "results" / "summary.csv")
    assert list(summary["system"]) == ["my_system"] and list(summary["n_mixtures"]) == [2]
    names = sorted(p.name for p in (elsewhere / "results" / "my_system" / "final" / "estimate").iterdir())
    assert names == ["mix_0000_Speech.wav", "mix_0001_Speech.wav"]
    assert (elsewhere / "results" / "my_system" / "Me_MyLab_task4_1_out.zip").is_file()


def plugin(folder: Path, module: str, body: str, yaml: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(body)
    (folder / "system.yaml").write_text(yaml)
    return folder / "system.yaml"


SILENT = '''import torch
from s5bench.systems.base import SlotOutput, System


class Quiet(System):
    def __init__(self, weights=None, nested=None):
        super().__init__()
        self.weights, self.nested = weights, nested
        if weights is not None:
            self.gain = torch.load(weights)

    def forward(self, mixture, batch):
        B, _, T = mixture.shape
        return {"final": SlotOutput([["silence"] * 3] * B, torch.zeros(B, 3, T))}
'''


def test_a_yaml_folder_is_the_home_of_its_class_and_only_for_that_import(tmp_path, monkeypatch):
    path = plugin(tmp_path / "p", "quiet_mod_a", SILENT, "class: quiet_mod_a:Quiet\n")
    monkeypatch.chdir(tmp_path)  # anywhere but the plug-in's folder
    before = list(sys.path)
    system = build_system(path)
    assert type(system).__name__ == "Quiet" and Path(sys.modules["quiet_mod_a"].__file__).parent == tmp_path / "p"
    assert sys.path == before  # the folder was on the path for the import only


def test_yaml_paths_resolve_against_its_folder(tmp_path, monkeypatch):
    """Case 4: `weights: weights.pt` (and paths nested under args) name files beside the YAML, from any folder."""
    folder = tmp_path / "p"
    path = plugin(folder, "quiet_mod_b", SILENT, "class: quiet_mod_b:Quiet\nargs:\n  weights: weights.pt\n"
                  "  nested: {files: [sub/a.txt, not a path], mode: mask}\n")
    torch.save(torch.tensor(0.5), folder / "weights.pt")
    (folder / "sub").mkdir()
    (folder / "sub" / "a.txt").write_text("x")
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    system = build_system(path)
    assert system.weights == str(folder / "weights.pt") and float(system.gain) == 0.5
    assert system.nested == {"files": [str(folder / "sub" / "a.txt"), "not a path"], "mode": "mask"}
    # a missing file is named where it was looked for, beside the YAML
    path.write_text("class: quiet_mod_b:Quiet\nargs: {weights: missing/w.pt}\n")
    with pytest.raises(FileNotFoundError, match=re.escape(str(folder / "missing" / "w.pt"))):
        build_system(path)


def test_shipped_configs_and_shipped_checkpoints_resolve_as_before(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_system_config("baseline_tiny")
    assert all(not Path(v).is_absolute() for v in cfg["args"].values() if isinstance(v, str))  # as written
    tagger, separator = cfg["args"]["tagger"], cfg["args"]["separator"]
    (tmp_path / "mine.yaml").write_text("class: s5bench.systems.baseline:Baseline\n"
                                        f"args: {{tagger: {tagger}, separator: {separator}}}\n")
    mine = load_system_config(tmp_path / "mine.yaml")
    assert mine["args"] == cfg["args"]  # a shipped checkpoint named as the shipped configs name it
    build_system(tmp_path / "mine.yaml")


def test_a_plugin_syntax_error_names_its_file_and_line(tmp_path):
    path = plugin(tmp_path, "broken_syntax", "import torch\n\ndef f(:\n    pass\n", "class: broken_syntax:X\n")
    with pytest.raises(S5Error, match=re.escape(f"SyntaxError: invalid syntax, at {tmp_path / 'broken_syntax.py'}, "
                                                "line 3")):
        build_system(path)


def test_a_plugin_import_or_init_failure_names_its_file_and_line(tmp_path):
    path = plugin(tmp_path / "a", "broken_import", "import torch\nimport not_a_module_anywhere\n",
                  "class: broken_import:X\n")
    with pytest.raises(S5Error, match=r"No module named 'not_a_module_anywhere'.*broken_import\.py, line 2"):
        build_system(path)
    path = plugin(tmp_path / "b", "broken_init", SILENT.replace("self.weights, self.nested = weights, nested",
                                                                 "self.weights = 1 / 0"),
                  "class: broken_init:Quiet\n")
    with pytest.raises(S5Error, match=r"Quiet\(\*\*args\) failed: ZeroDivisionError.*broken_init\.py, line 8"):
        build_system(path)
    path = plugin(tmp_path / "c", "no_such", SILENT, "class: not_beside_it:Quiet\n")
    with pytest.raises(S5Error, match="No module named 'not_beside_it'.*looked beside the YAML"):
        build_system(path)


def test_a_plugin_forward_error_names_its_file_and_line(tiny_test_set, tmp_path, capsys):
    from s5bench.runners.run_system import main

    body = SILENT.replace("        B, _, T = mixture.shape\n", "        B, _, T = mixture.shape\n"
                          "        scale = torch.ones(2) @ torch.ones(3)\n")
    path = plugin(tmp_path / "p", "broken_forward", body, "class: broken_forward:Quiet\n")
    assert main(["--system", str(path), "--data", str(tiny_test_set), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    line = body.splitlines().index("        scale = torch.ones(2) @ torch.ones(3)") + 1
    assert "Quiet.forward failed: RuntimeError" in err
    assert f"at {tmp_path / 'p' / 'broken_forward.py'}, line {line} (scale = torch.ones(2) @ torch.ones(3))" in err
    assert "Traceback" not in err


def test_two_plugins_with_one_module_name_are_refused_not_mixed_up(tmp_path):
    first = plugin(tmp_path / "one", "same_name_mod", SILENT, "class: same_name_mod:Quiet\n")
    second = plugin(tmp_path / "two", "same_name_mod", SILENT, "class: same_name_mod:Quiet\n")
    build_system(first)
    with pytest.raises(S5Error, match="a module named 'same_name_mod' is already imported from .*one"):
        build_system(second)
    build_system(first)  # the same plug-in again is fine


CALLED = []


def not_a_system(**kwargs):
    CALLED.append(kwargs)


class TakesKwargs(System):
    def __init__(self, gain: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.gain = gain


def test_a_class_that_is_no_system_is_refused_before_it_is_called(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    cfg = tmp_path / "evil.yaml"
    cfg.write_text("class: test_plugins:not_a_system\nargs: {command: touch pwned}\n")
    with pytest.raises(S5Error, match=r"evil.yaml: class 'test_plugins:not_a_system' is not a System"):
        build_system(str(cfg))
    assert CALLED == []
    (tmp_path / "os.yaml").write_text("class: os:system\nargs: {command: touch pwned}\n")
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "run_system.py"), "--system", str(tmp_path / "os.yaml"),
                        "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")],  # out apart from data
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "is not a System subclass" in r.stderr and not (tmp_path / "pwned").exists()


def test_an_unknown_argument_through_kwargs_is_named(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    cfg = tmp_path / "kw.yaml"
    cfg.write_text("class: test_plugins:TakesKwargs\nargs: {gain: 2.0, gian: 3.0}\n")
    with pytest.raises(ValueError, match=r"kw.yaml: unknown argument\(s\) 'gian' under `args:` for TakesKwargs; "
                                         r"it takes: gain"):
        build_system(str(cfg))
    cfg.write_text("class: test_plugins:TakesKwargs\nargs: {gain: 2.0}\n")
    assert build_system(str(cfg)).gain == 2.0

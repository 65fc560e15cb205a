"""`s5bench new-system NAME`: a working plug-in to start from, in a folder of its own.

NAME/NAME.py holds the System subclass, NAME/NAME.yaml the config that names it (found beside the
YAML, systems/plugins.py), NAME/test_NAME.py a pytest test that builds it from the YAML, checks
its answers and runs and scores it on two mixtures of the built-in test set. The class answers
every mixture with its channel 0 as one estimate: it runs and scores at once, and marks where a
model goes.
"""
from __future__ import annotations

import importlib.util
import keyword
import re
from pathlib import Path

from s5bench.common.errors import S5Error

CLASS_FILE = '''"""{camel}: an s5bench plug-in system (docs/systems.md, "Writing your own system")."""
import torch

from s5bench.common.labels import SILENCE
from s5bench.systems.base import SlotOutput, System


class {camel}(System):
    """Answers each mixture with one slot: the mixture's channel 0, labelled `label`.

    Replace the body of `forward` with your model; load its weights in `__init__` from a path
    given under `args:` in {name}.yaml (a relative path there is taken from the YAML's folder).
    """

    stages = ("final",)  # the names this system answers at; the last is its final answer

    def __init__(self, label: str = "Speech", probability: float = 1.0):
        super().__init__()
        self.label, self.probability = label, probability

    def forward(self, mixture: torch.Tensor, batch) -> dict[str, SlotOutput]:
        B, _, T = mixture.shape  # (batch, 4 channels, samples) at self.sample_rate (32 kHz)
        waveforms = torch.zeros(B, 3, T, device=mixture.device)  # 3 slots per mixture
        waveforms[:, 0] = mixture[:, 0]
        labels = [[self.label, SILENCE, SILENCE] for _ in range(B)]  # `silence`: an empty slot
        probabilities = torch.tensor([[self.probability, 1.0, 1.0]]).expand(B, 3)  # each label's, in [0, 1]
        return {{"final": SlotOutput(labels, waveforms, probabilities)}}
'''

CONFIG_FILE = '''# The {name} plug-in: its class (in {name}.py, beside this file) and the class's arguments.
# Run it: s5bench run --system {name}/{name}.yaml --data DIR --out results/{name}
class: {name}:{camel}
args:
  label: Speech
  probability: 1.0
'''

TEST_FILE = '''"""Tests of the {name} plug-in: python -m pytest {name}/"""
from pathlib import Path

import pandas as pd
import torch

from s5bench.runners.cli import main as s5bench
from s5bench.systems.registry import build_system

HERE = Path(__file__).resolve().parent


def test_answers_three_slots_per_mixture_at_every_stage():
    system = build_system(HERE / "{name}.yaml")
    mixture = torch.randn(2, 4, system.sample_rate)  # two 1-s mixtures
    for edition in (2025, 2026):
        outputs = system.infer(mixture, {{}}, edition=edition)  # checked: shapes, labels, probabilities
        for stage in system.stages:
            assert len(outputs[stage].labels) == 2 and outputs[stage].waveforms.shape == (2, 3, mixture.shape[-1])


def test_runs_and_scores_on_builtin_mixtures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the built-in set's rooms are cached under the working folder
    assert s5bench(["generate", "--config", "builtin_test", "--n", "2", "--seed", "0", "--jobs", "1",
                    "--out", "data"]) == 0
    assert s5bench(["run", "--system", str(HERE / "{name}.yaml"), "--data", "data", "--out", "run",
                    "--jobs", "1", "--bootstrap", "0"]) == 0
    summary = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert list(summary["system"]) == ["{name}"] and (summary["n_mixtures"] == 2).all()
'''


def class_name(name: str) -> str:
    """The class name for a plug-in name: `my_system` -> `MySystem`.

    Args:
        name: the plug-in's name (`check_name`).

    Returns:
        Each `_`-separated part with its first letter upper-case, joined.

    Example:
        >>> from s5bench.systems.scaffold import class_name
        >>> class_name("my_system"), class_name("sep2")
        ('MySystem', 'Sep2')
    """
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def check_name(name: str) -> str:
    """`name` if it can name a plug-in's module, YAML and folder, else an error saying why.

    Args:
        name: the name asked for.

    Returns:
        The name, unchanged.

    Raises:
        S5Error: If it is not a lower-case Python identifier, is a keyword, or is the name of a
            module that can already be imported (it would shadow it, or be shadowed).
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise S5Error(f"plug-in name {name!r}: use lower-case letters, digits and _ (a Python module name, e.g. "
                      "my_system)")
    try:  # a plain folder of that name (a namespace package) takes no name
        spec = importlib.util.find_spec(name)
        taken = spec is not None and spec.origin not in (None, "namespace")
    except (ImportError, ValueError):
        taken = True
    if taken:
        raise S5Error(f"plug-in name {name!r} is the name of a module that is already installed; choose another "
                      "(e.g. add your initials)")
    return name


def write_plugin(name: str, parent: Path | str = ".") -> list[Path]:
    """Write the plug-in NAME into PARENT/NAME/: the class, its YAML and its test.

    Args:
        name: the plug-in's name (`check_name`).
        parent: the folder to create NAME/ in.

    Returns:
        The files written: NAME.py, NAME.yaml, test_NAME.py.

    Raises:
        S5Error: If the name is refused, or PARENT/NAME exists and is not empty (nothing is overwritten).
    """
    folder = Path(parent) / name
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise S5Error(f"{folder} exists and is not empty: nothing written (choose another name or folder)")
    check_name(name)
    fields = {"name": name, "camel": class_name(name)}
    files = {f"{name}.py": CLASS_FILE, f"{name}.yaml": CONFIG_FILE, f"test_{name}.py": TEST_FILE}
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, template in files.items():
        path = folder / file_name
        path.write_text(template.format(**fields))
        written.append(path)
    return written

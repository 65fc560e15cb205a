"""The one namespace: the project installs as `s5bench` only, its modules import each other without
a cycle, the console command lists and runs the runners, and old class paths get a clear error."""
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import runner

from s5bench.runners.cli import COMMANDS, main, usage

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"namespace": "s5bench", "common": "s5bench.common", "metrics": "s5bench.metrics",
           "data_gen": "s5bench.data_gen", "systems": "s5bench.systems", "runners": "s5bench.runners",
           "reporting": "s5bench.reporting", "benchmarks": "s5bench.benchmarks",
           "submission": "s5bench.submission"}


def project_modules() -> dict[str, Path]:
    """Dotted name (s5bench.…) -> file, for every module of the installed namespace."""
    out = {}
    for folder, package in FOLDERS.items():
        for f in sorted((ROOT / folder).rglob("*.py")):
            parts = list(f.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = f
    return out


def import_edges(name: str, path: Path, modules: dict) -> set[str]:
    """The project modules that `name` imports anywhere in its file (top level or inside a function):
    the module an `import`/`from` names, or the submodule that `from package import sub` names.
    (Importing a submodule also runs its parents' __init__; those edges are not counted.)"""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            edges |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for a in node.names:
                edges.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return {e for e in edges if e in modules and e != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph as a list of nodes, or None (iterative depth-first search)."""
    state = {}
    for start in graph:
        if start in state:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        state[start], path = "open", [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = "done"
            elif state.get(child) == "open":
                return path[path.index(child):] + [child]
            elif child not in state:
                state[child] = "open"
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_find_cycle_finds_one_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_import_graph_has_no_cycle():
    modules = project_modules()
    graph = {name: import_edges(name, path, modules) for name, path in modules.items()}
    # the reading sees the imports that matter: the loader builds the models lazily, inside a function
    assert "s5bench.systems.models.deft_mamba" in graph["s5bench.systems.models.checkpoints"]
    assert "s5bench.systems.models.state_dicts" in graph["s5bench.systems.models.m2d"]
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


INSTALL = 'pip install -e ".[test]" --config-settings editable_mode=strict'


def not_installed(modules: dict[str, Path]) -> list[str]:
    """The modules (dotted name -> file on disk) that the installed package cannot find: under the
    strict editable install, a file added since the install command last ran."""
    import importlib.util

    return [f"{name} ({path.relative_to(ROOT) if path.is_relative_to(ROOT) else path})"
            for name, path in modules.items() if importlib.util.find_spec(name) is None]


def test_every_module_on_disk_is_in_the_install():
    """A module added on disk is importable only after the install command runs again (setuptools'
    strict editable install links the files it found then): say so, with the command to run."""
    missing = not_installed(project_modules())
    assert not missing, (f"{len(missing)} module(s) on disk are not in the installed package: "
                         f"{', '.join(missing)}; run `{INSTALL}` in {ROOT} (once per added file)")
    # the check can fail: a name the install does not have is reported
    assert not_installed({"s5bench.common.no_such_module": ROOT / "common" / "no_such_module.py"}) == [
        "s5bench.common.no_such_module (common/no_such_module.py)"]


def test_only_the_namespace_is_importable_from_outside_the_checkout(tmp_path):
    """No path tricks: the folders are importable only as s5bench.<folder>, the checkout itself is not a
    subpackage (s5bench.s5bench, s5bench.tests), and each module has one identity."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = ("import importlib.util, json; print(json.dumps({m: importlib.util.find_spec(m) is not None for m in "
             "['s5bench', 's5bench.metrics', 's5bench.systems.models', 'metrics', 'common', 'systems', "
             "'runners', 'data_gen', 's5bench.s5bench', 's5bench.tests']}))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    found = __import__("json").loads(r.stdout)
    assert found["s5bench"] and found["s5bench.metrics"] and found["s5bench.systems.models"], found
    assert not any(found[m] for m in ("metrics", "common", "systems", "runners", "data_gen", "s5bench.s5bench",
                                      "s5bench.tests")), found
    import s5bench
    import s5bench.metrics.scene

    assert not hasattr(s5bench, "__path__") or len(s5bench.__path__) == 1, s5bench.__path__
    assert "metrics" not in sys.modules and "metrics.scene" not in sys.modules


def test_the_console_command_lists_every_runner(capsys):
    assert main(["--help"]) == 0
    listing = capsys.readouterr().out
    for command, module in COMMANDS.items():
        assert (ROOT / "runners" / f"{module}.py").is_file(), module
        line = next(row for row in listing.splitlines() if row.strip().startswith(command + " "))
        assert len(line.split(None, 1)) == 2, f"{command} has no one-line summary"
    assert main(["no-such-command"]) == 2
    assert "unknown command 'no-such-command'" in capsys.readouterr().err
    assert usage().startswith("usage: s5bench")


def test_a_subcommand_is_its_runner(tmp_path):
    """`s5bench evaluate` runs runners/evaluate.py's main: the same refusal, word for word."""
    args = ["--soundscape-dir", str(tmp_path / "none"), "--oracle-dir", str(tmp_path / "none"),
            "--estimate-dir", str(tmp_path / "none"), "--out-dir", str(tmp_path / "out")]
    cli = subprocess.run([sys.executable, "-m", "s5bench.runners.cli", "evaluate", *args], capture_output=True,
                         text=True)
    script = subprocess.run([*runner("evaluate.py"), *args],
                            capture_output=True, text=True)
    assert cli.returncode == script.returncode != 0
    assert cli.stderr == script.stderr and "none" in cli.stderr


def test_an_old_class_path_says_the_new_name():
    from s5bench.systems.registry import build_system_from_config

    with pytest.raises(ValueError, match=r"write `class: s5bench\.systems\.oracle:OracleSources`"):
        build_system_from_config({"class": "systems.oracle:OracleSources", "name": "old.yaml"})


def test_every_cited_section_of_the_task_description_exists():
    """The project documents the task itself (docs/task.md); code and configs cite its sections."""
    import re

    headings = set(re.findall(r"^## §(\d+)", (ROOT / "docs" / "task.md").read_text(), flags=re.M))
    cited = set()
    sources = [p for d in FOLDERS for p in (ROOT / d).rglob("*.py")]
    for f in [*ROOT.glob("*.md"), *ROOT.glob("configs/**/*.yaml"), *sources]:
        text = f.read_text()
        assert "S5_REFERENCE" not in text, f"{f} cites a file that is not in the repository"
        for group in re.findall(r"docs/task\.md §([\d§, \-and]+)", text):
            cited |= set(re.findall(r"\d+", group))
    assert cited and cited <= headings, sorted(cited - headings)


def test_the_edition_is_decided_in_one_place():
    """No comparison with an edition's year outside common/editions.py: code asks its Edition."""
    import re

    from s5bench.common.editions import EDITIONS, edition_of

    literal = re.compile(r"[=!]=\s*(2025|2026)\b|\b(2025|2026)\s*[=!]=")
    for folder in FOLDERS:
        for f in (ROOT / folder).rglob("*.py"):
            if f != ROOT / "common" / "editions.py":
                hits = [n for n, line in enumerate(f.read_text().splitlines(), 1) if literal.search(line)]
                assert not hits, f"{f}: lines {hits} compare with an edition's year"
    assert [edition_of(y).year for y in EDITIONS] == [2025, 2026] and edition_of("2026").repeated_classes
    with pytest.raises(ValueError, match="unknown edition 2024"):
        edition_of(2024)


def install_wheel(tmp_path: Path) -> Path:
    """Build the project's wheel and install it alone into a fresh venv under `tmp_path`; the
    dependencies come from the running environment's site-packages through a .pth line (a path on
    sys.path only: that site-packages' own .pth files, the editable install's among them, are not
    read, so `s5bench` can only come from the wheel). Returns the new venv's folder."""
    import shutil
    import sysconfig

    # built from a copy: setuptools' build/lib would keep files deleted from the checkout in the wheel
    source = tmp_path / "source"

    def ignore(folder, names):  # the checkout's own outputs at its top (configs/data is package data)
        top = {".git", ".venv", "build", "data", "results", "runs", ".pytest_cache"} if Path(folder) == ROOT else set()
        return [n for n in names if n in top or n == "__pycache__" or n.endswith(".egg-info")]

    shutil.copytree(ROOT, source, ignore=ignore)
    wheels = tmp_path / "wheel"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(wheels), str(source)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                              *map(str, wheels.glob("s5bench-*.whl"))], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    return venv


@pytest.mark.wheel
def test_the_wheel_works_from_an_empty_folder(tmp_path):
    """The wheel test (about 40 s: build, install, then a runner): `pip install` of the wheel into a
    fresh venv, then from an empty folder `s5bench generate` (a shipped data config) and `s5bench run`
    (a shipped system config naming shipped checkpoints, scored) and `s5bench report` (the
    templates). Everything comes from the installed package and lands under the working folder.
    The full `s5bench ablation --all --n 4 --out run` takes minutes (README: measured by hand)."""
    venv = install_wheel(tmp_path)
    import zipfile

    names = set(zipfile.ZipFile(next((tmp_path / "wheel").glob("s5bench-*.whl"))).namelist())
    shipped = [f"s5bench/{p.relative_to(ROOT).as_posix()}" for p in
               [*ROOT.glob("configs/**/*.yaml"), *ROOT.glob("checkpoints/*.pt"), *ROOT.glob("runners/templates/*")]]
    assert len(shipped) > 60 and not set(shipped) - names, sorted(set(shipped) - names)
    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    s5bench = str(venv / "bin" / "s5bench")

    def run(*args):
        r = subprocess.run([s5bench, *args], capture_output=True, text=True, cwd=work, env=env, timeout=600)
        assert r.returncode == 0, f"s5bench {' '.join(args)}:\n{r.stderr[-3000:]}"
        return r

    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import s5bench.systems, s5bench.common.resources as r;"
                            " print(s5bench.systems.__file__); print(r.config_dir('systems'))"],
                           capture_output=True, text=True, cwd=work, env=env, check=True).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # the wheel's copy, not the checkout
    package = Path(where[0]).parents[1]
    installed = sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts)
    run("generate", "--config", "builtin_test", "--out", "data/set", "--n", "2", "--seed", "0", "--jobs", "1")
    run("run", "--system", "baseline_tiny", "--data", "data/set", "--out", "run", "--jobs", "1")
    summary = list((work / "run").rglob("summary.csv"))
    assert summary and "CA-SDRi" in summary[0].read_text(), summary
    run("report", "run")
    assert (work / "run" / "report" / "index.html").is_file()
    # the docs' plug-in, copied as shown into a folder of its own, runs with the wheel's command
    shutil.copytree(ROOT / "docs" / "examples" / "my_system", work / "my_system")
    run("run", "--system", "my_system/my_system.yaml", "--data", "data/set", "--out", "mine", "--jobs", "1")
    assert (work / "mine" / "my_system" / "final" / "summary.csv").is_file()
    shutil.rmtree(work / "my_system")
    # data and results only under the working folder: nothing added to the installed package
    assert sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts) == installed

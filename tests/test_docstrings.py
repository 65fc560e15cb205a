"""The documented rule of docs/architecture.md, checked: every public function, method and class of
common/, metrics/, data_gen/, systems/ and reporting/ has a docstring; one that takes parameters has
an `Args:` section, one that returns a value a `Returns:` (or `Yields:`) section. Read from the
source (ast), so a new module is checked without being imported."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("common", "metrics", "data_gen", "systems", "reporting")


def _decorated(fn: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    return any((isinstance(d, ast.Name) and d.id == name) or (isinstance(d, ast.Attribute) and d.attr == name)
               for d in fn.decorator_list)


def _wants(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> tuple[bool, bool]:
    """(needs Args, needs Returns) for a function."""
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    if method and params and params[0] in ("self", "cls"):
        params = params[1:]
    has_params = bool(params or fn.args.vararg or fn.args.kwarg)
    ret = fn.returns
    returns = not (ret is None or (isinstance(ret, ast.Constant) and ret.value is None))
    if _decorated(fn, "property"):  # a property says what it is in one line
        return False, False
    return has_params, returns


def _missing(doc: str | None, needs_args: bool, needs_returns: bool) -> list[str]:
    doc = doc or ""
    out = [] if doc.strip() else ["docstring"]
    if needs_args and "Args:" not in doc:
        out.append("Args")
    if needs_returns and "Returns:" not in doc and "Yields:" not in doc:
        out.append("Returns")
    return out


def undocumented(path: Path, root: Path = ROOT) -> list[str]:
    """'file:line name: missing sections' for each public definition of `path` that breaks the rule."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("_") or _decorated(node, "overload"):  # a stub: the implementation has it
                continue
            found.append((node, node.name, _missing(ast.get_docstring(node), *_wants(node, False))))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            class_doc = ast.get_docstring(node) or ""
            found.append((node, node.name, _missing(class_doc, False, False)))
            for item in node.body:
                if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) or _decorated(item, "overload"):
                    continue
                if item.name == "__init__":  # documented in the class's docstring or its own
                    needs_args, _ = _wants(item, True)
                    doc = class_doc + (ast.get_docstring(item) or "")
                    found.append((item, f"{node.name}.__init__", ["Args"] if needs_args and "Args:" not in doc else []))
                elif not item.name.startswith("_"):
                    found.append((item, f"{node.name}.{item.name}",
                                  _missing(ast.get_docstring(item), *_wants(item, True))))
    return [f"{path.relative_to(root)}:{n.lineno} {name}: {', '.join(m)}" for n, name, m in found if m]


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_public_definition_has_args_and_returns(folder):
    problems = [p for path in sorted((ROOT / folder).rglob("*.py")) for p in undocumented(path)]
    assert not problems, "public definitions without the sections docs/architecture.md asks for:\n" + \
        "\n".join(problems)


def test_the_rule_is_checked_by_hand_on_a_small_module(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text('''def documented(x: int) -> int:
    """Doubles.

    Args:
        x: a number.

    Returns:
        Twice x.
    """
    return 2 * x


def no_returns(x: int) -> int:
    """Doubles.

    Args:
        x: a number.
    """
    return 2 * x


def _private(x):
    return x


class Thing:
    def __init__(self, n: int) -> None:
        self.n = n

    @property
    def size(self) -> int:
        """Its size."""
        return self.n
''')
    assert undocumented(path, tmp_path) == ["probe.py:13 no_returns: Returns", "probe.py:26 Thing: docstring",
                                            "probe.py:27 Thing.__init__: Args"]

"""Plug-in systems: the class a system YAML names, imported from the YAML's own folder, and the
plug-in's file and line named when its code fails.

A plug-in is code that is not part of s5bench: `class: my_module:MySystem` in `my_system.yaml`
finds `my_module.py` (or the package `my_module/`) beside the YAML, the way pytest finds the
modules beside a test; an installed package is found as any import. The YAML's folder is on
`sys.path` only while the class is imported, so nothing else of the command can import from it by
accident; a plug-in's modules import their own siblings at import time (or through their package).
"""
from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

from s5bench.common.errors import S5Error


def local_module(name: str, folder: Path) -> Path | None:
    """The file or package folder in `folder` that a module's top-level name refers to, or None.

    Args:
        name: a dotted module name, e.g. ``my_package.my_module``.
        folder: the folder that may hold it.

    Returns:
        ``folder/<top>.py`` or ``folder/<top>/`` where it exists, else None.
    """
    top = name.split(".")[0]
    for candidate in (folder / f"{top}.py", folder / top):
        if candidate.is_file() or (candidate.is_dir() and (candidate / "__init__.py").is_file()):
            return candidate
    if (folder / top).is_dir() and any((folder / top).glob("*.py")):  # a namespace package
        return folder / top
    return None


def _loaded_from(module, place: Path) -> bool:
    """Whether an imported module is the file or package `place`."""
    files = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
    place = place.resolve()
    return any(f and (Path(f).resolve() == place or Path(f).resolve().is_relative_to(place)) for f in files)


def import_class(spec: str, folder: Path | None, where: str) -> object:
    """The object a config's `class: module:Name` names, its module imported from `folder` first.

    Args:
        spec: ``"package.module:Name"``.
        folder: the YAML's folder (None: an ordinary import, e.g. for the shipped configs).
        where: the config, named in every error.

    Returns:
        The attribute `Name` of the module.

    Raises:
        S5Error: If the module cannot be imported or has no such name; if a module of that
            top-level name is already imported from elsewhere (two plug-ins sharing a module
            name in one command); or if the plug-in's code fails while it is imported (the
            message names its file and line).
    """
    name, _, attr = spec.partition(":")
    place = local_module(name, folder) if folder is not None else None
    top = name.split(".")[0]
    if place is not None and top in sys.modules and not _loaded_from(sys.modules[top], place):
        raise S5Error(f"{where}: class {spec!r}: a module named {top!r} is already imported from "
                      f"{getattr(sys.modules[top], '__file__', None) or 'elsewhere'}, not {place}; give the "
                      "plug-in's module a name of its own")
    try:
        module = _import(name, folder if place is not None else None)
    except ModuleNotFoundError as err:
        inside = err.name is None or not (name == err.name or name.startswith(err.name + "."))
        if inside:  # raised by an import in the plug-in's own code, not by a missing plug-in module
            raise S5Error(f"{where}: importing class {spec!r} failed: {plugin_failure(err, place)}") from None
        hint = "" if folder is None else (f" (looked beside the YAML, in {folder}, then among the installed "
                                          "packages)")
        raise S5Error(f"{where}: cannot import class {spec!r}: {err}{hint}") from None
    except Exception as err:  # the plug-in's own code failed while being imported
        raise S5Error(f"{where}: importing class {spec!r} failed: {plugin_failure(err, place or folder)}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise S5Error(f"{where}: cannot import class {spec!r}: module {name!r} ({module.__file__}) has no "
                      f"{attr!r}") from None


def _import(name: str, folder: Path | None):
    """`importlib.import_module(name)` with `folder` first on sys.path for this import only."""
    if folder is None:
        return importlib.import_module(name)
    entry = str(folder.resolve())
    sys.path.insert(0, entry)
    importlib.invalidate_caches()  # the folder's files may be newer than the import system's listing
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(entry)  # the first occurrence: the one inserted above


def is_plugin(obj: object) -> bool:
    """Whether a class (or an instance's class) is a plug-in's, i.e. not defined inside s5bench.

    Args:
        obj: a class, or an instance of one.

    Returns:
        True when the class's module is neither `s5bench` nor under it.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    return not (cls.__module__ == "s5bench" or cls.__module__.startswith("s5bench."))


def plugin_root(obj: object) -> Path | None:
    """The folder of a plug-in class's code: its top-level package's folder, or the folder of its
    module file; None for a class without a file (defined in an interactive session).

    Args:
        obj: a class, or an instance of one.

    Returns:
        The folder, resolved, or None.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    top = sys.modules.get(cls.__module__.split(".")[0])
    paths = list(getattr(top, "__path__", []) or [])
    if paths:
        return Path(paths[0]).resolve()
    file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    return Path(file).resolve().parent if file else None


def plugin_frame(err: BaseException, place: Path | None = None) -> traceback.FrameSummary | None:
    """The deepest frame of an error's traceback in a plug-in's code: under `place` (a file or a
    folder) when given, else the deepest one outside s5bench and the import machinery.

    Args:
        err: the error.
        place: the plug-in's module file or folder, when known.

    Returns:
        The frame; for a SyntaxError, one made from the error's own file and line; None when no
        frame is in the plug-in's code.
    """
    if isinstance(err, SyntaxError) and err.filename:  # the faulty line is the error's, not a frame's
        return traceback.FrameSummary(err.filename, err.lineno or 0, "<module>", line=(err.text or "").strip())
    root = place.resolve() if place is not None else None
    if root is not None and root.is_file():
        root = root.parent
    package = Path(__file__).resolve().parents[1]

    def in_plugin(frame: traceback.FrameSummary) -> bool:
        if frame.filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>
            return False
        path = Path(frame.filename).resolve()
        return path.is_relative_to(root) if root is not None else not path.is_relative_to(package)

    mine = [f for f in traceback.extract_tb(err.__traceback__) if in_plugin(f)]
    return mine[-1] if mine else None


def plugin_failure(err: BaseException, place: Path | None = None) -> str:
    """`<Type>: <message>, at <file>, line <n> (<code>)` for an error raised in a plug-in's code.

    Args:
        err: the error.
        place: the plug-in's module file or folder, when known.

    Returns:
        One line naming the error and the plug-in's line that raised it (or the line in the
        plug-in that called into the library that raised it).
    """
    what = f"{type(err).__name__}: {err}" if not isinstance(err, SyntaxError) else f"SyntaxError: {err.msg}"
    frame = plugin_frame(err, place)
    if frame is None:
        return what
    code = f" ({frame.line})" if frame.line else ""
    return f"{what}, at {frame.filename}, line {frame.lineno}{code}"

"""Load a model from a Python file: a file `symc compile` wrote, or any hand-written module."""
from __future__ import annotations

import importlib.util
import inspect
import itertools
import sys
from pathlib import Path

import torch

_counter = itertools.count()


def load_model_file(path, class_name: str | None = None) -> tuple[torch.nn.Module, str | None]:
    """Import the file at `path` and build `class_name` (default 'Model') with no arguments.

    Returns (module instance, the file's module-level `SPEC` string or None). Every problem with the file
    (missing, syntax error, import failure, no such class, constructor needing arguments) is a ValueError
    whose message says what to fix.
    """
    path = Path(path)
    class_name = class_name or "Model"
    if not path.is_file():
        raise ValueError(f"model file not found: {path}")
    namespace = _import_file(path)
    cls = getattr(namespace, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise ValueError(f"{path} defines no torch.nn.Module subclass named {class_name!r}; "
                         f"found: {', '.join(_module_classes(namespace)) or 'none'}")
    instance = _construct(cls, path)
    spec_text = getattr(namespace, "SPEC", None)
    return instance, spec_text if isinstance(spec_text, str) else None


def _import_file(path: Path):
    # A unique name per load: loading two files (or one twice) never returns a stale module.
    name = f"symc_loaded_{path.stem.replace('-', '_')}_{next(_counter)}"
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise ValueError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(loader_spec)
    # Registered so dataclasses, pickling and torch.jit can find the module by name; the file's folder is
    # importable while it runs so hand-written models can import their neighbours.
    sys.modules[name] = module
    folder = str(path.parent.resolve())
    sys.path.insert(0, folder)
    try:
        loader_spec.loader.exec_module(module)
    except SyntaxError as error:
        del sys.modules[name]
        raise ValueError(f"syntax error in {path}, line {error.lineno}: {error.msg}") from error
    except (Exception, SystemExit) as error:  # a file that calls exit() must not end `symc check` with its code
        del sys.modules[name]
        raise ValueError(f"importing {path} raised {type(error).__name__}: {error}") from error
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module


def _module_classes(namespace) -> list[str]:
    """Names of the nn.Module subclasses the file itself defines."""
    return sorted(name for name, value in vars(namespace).items()
                  if isinstance(value, type) and issubclass(value, torch.nn.Module)
                  and value.__module__ == namespace.__name__)


def _construct(cls: type, path: Path) -> torch.nn.Module:
    required = [name for name, parameter in inspect.signature(cls).parameters.items()
                if parameter.default is inspect.Parameter.empty
                and parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD,
                                       parameter.KEYWORD_ONLY)]
    if required:
        raise ValueError(f"{cls.__name__} in {path} needs constructor arguments ({', '.join(required)}); "
                         f"the checker builds it with none")
    try:
        return cls()
    except (Exception, SystemExit) as error:
        raise ValueError(f"{cls.__name__}() in {path} raised {type(error).__name__}: {error}") from error

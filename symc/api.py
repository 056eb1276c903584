"""The Python API (docs/spec-language.md §3): compile a spec, then get its module, source, plan and spec."""
from __future__ import annotations

import builtins
import hashlib
import linecache
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Union

from .emit.codegen import emit_source
from .plan.canonicalize import plan_spec
from .plan.plan import Plan, make_plan
from .spec import Spec, SpecError, parse

SpecLike = Union[str, Path, Spec]


def read_spec(spec: SpecLike) -> Spec:
    """A parsed Spec from spec text, a Path to a .sym file, or a Spec."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, Path):
        try:
            text = spec.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is not spec text
        except (OSError, UnicodeDecodeError) as error:
            raise SpecError(f"cannot read spec file {spec}: {error}") from None
        return parse(text)
    if isinstance(spec, str):
        return parse(spec)
    raise TypeError(f"a spec is text, a pathlib.Path or a symc Spec, not {type(spec).__name__}")


def load_source(source: str, label: str = "model") -> types.ModuleType:
    """Execute generated source as a real module (registered, so its classes pickle and tracebacks show lines)."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    name = f"symc_generated_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    filename = f"<symc {label} {digest}>"
    module = types.ModuleType(name)
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(builtins.compile(source, filename, "exec"), module.__dict__)
    sys.modules[name] = module
    return module


def _text_or_bytes(data: Union[str, bytes]):
    """Open arguments for writing `data`: bytes as they are, text as UTF-8 with '\n' line ends."""
    if isinstance(data, bytes):
        return {"mode": "wb"}
    return {"mode": "w", "encoding": "utf-8", "newline": "\n"}


def write_atomically(path: Union[str, Path], text: Union[str, bytes]) -> None:
    """Write `text` (or bytes) to `path` through a temporary file and a rename: never a partial file, old file kept
    on error.

    The file gets the permissions it had, or those a plain `open` would give a new file (mkstemp's are 0600).
    A path that exists but is no regular file (/dev/null, a named pipe) is written directly: renaming over it
    would replace the device or pipe with a file.
    """
    path = Path(path)
    if path.is_symlink():  # replace the file the link points to, not the link
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file() and not path.is_dir():
        with open(path, **_text_or_bytes(text)) as handle:
            handle.write(text)
        return
    directory = path.parent if str(path.parent) else Path(".")
    mode = _mode_for(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, **_text_or_bytes(text)) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # the data is on disk before the rename makes it visible
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _mode_for(path: Path) -> int:
    """Permission bits for `path`: kept when it exists, else 0666 less the process umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # Linux shows the umask in /proc; setting and restoring it instead leaves a moment in which files other
    # threads create get the wrong permissions, so that is only the fallback.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _check_target(target: str) -> None:
    from .plan.hardware import TargetError, resolve
    try:
        resolve(target)
    except TargetError as error:
        raise SpecError(f"--target: {error}", suggestion=error.suggestion) from None


class Compiled:
    """A compiled spec: `.spec`, `.plan`, `.source`, and `.module` (built on first use, needs torch)."""

    def __init__(self, spec: Spec, plan: Plan, source: str):
        self.spec = spec
        self.plan = plan
        self.source = source
        self._module = None

    @property
    def module(self):
        """The model, freshly initialized on first access (the same object afterwards)."""
        if self._module is None:
            self._module = self.new_module()
        return self._module

    def new_module(self):
        """Another freshly initialized instance of the generated Model class."""
        return load_source(self.source).Model()

    def write(self, path: Union[str, Path]) -> Path:
        write_atomically(path, self.source)
        return Path(path)

    def __repr__(self) -> str:
        return f"Compiled({self.spec.normalized()!r}, params={self.plan.params:,})"


def compile(spec: SpecLike, *, target: str | None = None, autotune: bool = False) -> Compiled:  # noqa: A001
    """Spec (text, Path or Spec) -> Compiled. Raises SpecError for a bad or unsupported spec."""
    parsed = read_spec(spec)
    if target is not None:
        _check_target(target)
        parsed = parsed.model_copy(update={"hints": parsed.hints.model_copy(update={"target": target})})
    plan = plan_spec(parsed)   # make_plan, or a canonicalizer and a backbone under the `canonicalize` hint
    if autotune:
        from .plan.autotune import autotune as measure
        plan = measure(plan) if isinstance(plan, Plan) else plan.parts(measure)
    return Compiled(parsed, plan, emit_source(plan))


def plan(spec: SpecLike, *, target: str | None = None) -> Plan:
    """The plan alone (no module, no torch)."""
    return compile(spec, target=target).plan


def canonicalize(backbone, spec: SpecLike, *, width: int | None = None):
    """Wrap any torch module `backbone` with a small learned canonicalizer compiled from `spec` (an image spec with
    a rotation or mirror group of right angles and mirrors): the result is exactly invariant (per-pixel outputs
    exactly equivariant) whenever the canonicalizer's top score is unique. The backbone keeps its own parameters
    (`wrapped.backbone is backbone`). See docs/spec-language.md §3."""
    from .ir.symmetry import analyze
    from .groups.moves import grid_moves
    from .nn.canonicalize import Canonicalize
    from .spec.canonicalize import CANONICALIZER_WIDTH, canonicalizer_spec, check_canonicalizable

    parsed = read_spec(spec)
    check_canonicalizable(parsed)
    scorer_spec = canonicalizer_spec(parsed, width or CANONICALIZER_WIDTH)
    scorer = compile(scorer_spec).new_module()
    group = analyze(scorer_spec).group
    moves = grid_moves(group, 2)
    equivariant = tuple(output.kind == "equivariant" for output in parsed.outputs)
    return Canonicalize(backbone, scorer, moves, group.regular_table(), equivariant)

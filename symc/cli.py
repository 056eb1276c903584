"""`symc compile | plan | check` (docs/spec-language.md §2). Exit codes: 0 success, 1 a check failed, 2 bad spec, file or usage."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .version import __version__
from .spec import SpecError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad files or arguments: reported on standard error with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 too; keep its wording but our prefix
        self.print_usage(sys.stderr)
        print(f"symc: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def read_spec_text(source: str) -> tuple[str, str]:
    """(text, label) of a spec given as a path, or '-' for standard input."""
    if source == "-":
        data = sys.stdin.buffer.read()
        label = "<stdin>"
    else:
        path = Path(source)
        if path.is_dir():
            raise UsageError(f"{source} is a directory, not a spec file")
        if not path.exists():
            raise UsageError(f"spec file {source} does not exist")
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UsageError(f"cannot read {source}: {error.strerror or error}") from None
        label = source
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):   # Windows tools write UTF-16 with a byte-order mark
        raise UsageError(f"{label} is UTF-16 text: save it as UTF-8")
    if b"\x00" in data:
        raise UsageError(f"{label} is a binary file, not a spec")
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Windows editors) is not spec text
    except UnicodeDecodeError as error:
        raise UsageError(f"{label} is not UTF-8 text (byte {error.start})") from None
    if not text.strip():
        raise UsageError(f"{label} is empty: a spec names at least a domain, e.g. 'image; p4; invariant output'")
    return text, label


def _compile_text(text: str, target: str | None, autotune: bool = False):
    from .api import compile as compile_spec
    return compile_spec(text, target=target, autotune=autotune)


def cmd_compile(args) -> int:
    text, _ = read_spec_text(args.spec)
    if args.output not in (None, "-"):
        _check_output(Path(args.output), args.spec)   # before compiling: a bad path fails fast
    compiled = _compile_text(text, args.target, args.autotune)
    if args.output in (None, "-"):
        sys.stdout.write(compiled.source)
        return EXIT_OK
    try:
        compiled.write(args.output)
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
    print(f"wrote {args.output}: {compiled.spec.normalized()} ({compiled.plan.params:,} parameters)",
          file=sys.stderr)
    return EXIT_OK


def _check_output(output: Path, spec_source: str) -> None:
    """A clear message for an output path that cannot be written, before any work is done."""
    if output.is_dir():
        raise UsageError(f"output {output} is a directory; name a file, e.g. {output / 'model.py'}")
    parent = output.parent
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"cannot write {output}: {parent} is a file, not a directory")
    if not parent.exists():
        raise UsageError(f"output directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {output}: directory {parent} is not writable")
    if spec_source != "-" and output.exists() and os.path.samefile(output, spec_source):
        raise UsageError(f"output {output} is the spec file itself; name another file")


def cmd_plan(args) -> int:
    text, _ = read_spec_text(args.spec)
    plan = _compile_text(text, args.target, args.autotune).plan
    if args.png:
        _write_png(plan.to_dot(), args.png)
    if args.format == "json":
        print(json.dumps(plan.to_dict(), indent=2))
    elif args.format == "dot":
        sys.stdout.write(plan.to_dot())
    else:
        print(plan)
    return EXIT_OK


def _write_png(dot: str, path: str) -> None:
    """Render the IR picture with Graphviz's `dot`, when it is installed."""
    import shutil
    import subprocess
    program = shutil.which("dot")
    if program is None:
        raise UsageError("--png needs Graphviz's 'dot' program (e.g. apt-get install graphviz); "
                         "use --format dot for the DOT text")
    result = subprocess.run([program, "-Tpng"], input=dot.encode(), capture_output=True)
    if result.returncode != 0:
        raise UsageError(f"dot could not draw the graph: {result.stderr.decode(errors='replace').strip()}")
    from .api import write_atomically  # a partial picture is never left behind
    try:
        write_atomically(path, result.stdout)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
    print(f"wrote {path}", file=sys.stderr)


def _spec_argument(value: str) -> str:
    """--spec takes a .sym path or the spec text itself."""
    path = Path(value)
    if "\n" not in value and len(value) < 4096 and path.is_dir():
        raise UsageError(f"--spec {value} is a directory, not a spec file")
    if path.suffix == ".sym" or (len(value) < 4096 and "\n" not in value and path.is_file()):
        return read_spec_text(value)[0]
    return value


def cmd_check(args) -> int:
    import torch

    from .testing import check, load_model_file
    path = Path(args.model)
    if not path.is_file():
        raise UsageError(f"model file {args.model} does not exist" if not path.exists()
                         else f"{args.model} is not a file")
    torch.manual_seed(args.seed)  # the same initial weights, so the same report, on every run
    try:
        module, spec_text = load_model_file(path, args.class_name)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.spec is not None:
        spec_text = _spec_argument(args.spec)
    if spec_text is None:
        raise UsageError(f"{args.model} has no SPEC string; pass the symmetry with --spec")
    sizes = [tuple(int(s) for s in size.lower().split("x")) for size in args.size] if args.size else None
    try:
        report = check(module, spec_text, sizes=sizes, seed=args.seed)
    except SpecError:
        raise
    except ValueError as error:  # a spec the tester does not cover (scale, ...)
        raise UsageError(str(error).removeprefix("symc check: ")) from None
    print(report)
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def cmd_discover(args) -> int:
    from .discovery import DataError, discover, domain_word, load_npz, prepare
    try:
        domain = domain_word(args.domain)
        x, y = load_npz(args.data)   # its messages name the file
    except DataError as error:
        raise UsageError(str(error)) from None
    try:
        data = prepare(x, y, domain)
    except DataError as error:
        raise UsageError(f"{args.data}: {error}") from None
    if args.max_samples < 2 or args.steps < 1 or (args.time_limit is not None and args.time_limit <= 0):
        raise UsageError("--max-samples needs at least 2, --steps at least 1 and --time-limit more than 0 seconds")
    try:
        found = discover(data, None, data.domain, seed=args.seed, steps=args.steps, max_samples=args.max_samples,
                         time_limit=args.time_limit, progress=not args.quiet)
    except SpecError as error:  # the suggestion is compiled before it is shown: failing is a bug in symc
        raise RuntimeError(f"the suggested spec does not compile: {error}") from error
    print(found)
    return EXIT_OK


def _size(value: str) -> str:
    parts = value.lower().split("x")  # HxW for images, L or N for sequences, sets, graphs and points, DxHxW
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"size must look like 32x32 (images), 64 (length or number of elements) "
                                         f"or 8x8x8 (volumes), got {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symc", description="Compile symmetry specs into equivariant PyTorch models.")
    parser.add_argument("--version", action="version", version=f"symc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = commands.add_parser("compile", help="write a standalone PyTorch model file for a spec",
                            description="Write a standalone PyTorch file (needs torch alone) for SPEC.")
    p.add_argument("spec", metavar="SPEC", help="a .sym file, or - for standard input")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write the model (default: standard output)")
    p.add_argument("--target", metavar="T", help="hardware to plan for: cpu, T4, L4, A100, H100, H200, RTX4090, "
                                                 "or a profile file (.toml)")
    p.add_argument("--autotune", action="store_true", help="measure candidate algorithms on this machine")
    p.set_defaults(run=cmd_compile)

    p = commands.add_parser("plan", help="print the plan: layers, shapes, costs and the reason for each choice",
                            description="Print every layer of SPEC's plan with shapes, parameters, FLOPs, memory "
                                        "and each choice with its reason.")
    p.add_argument("spec", metavar="SPEC", help="a .sym file, or - for standard input")
    p.add_argument("--target", metavar="T", help="hardware to plan for: cpu, T4, L4, A100, H100, H200, RTX4090, "
                                                 "or a profile file (.toml)")
    p.add_argument("--autotune", action="store_true", help="measure candidate algorithms on this machine")
    p.add_argument("--format", choices=("table", "json", "dot"), default="table", help="output format")
    p.add_argument("--png", metavar="FILE", help="also draw the IR graph to FILE (needs Graphviz)")
    p.set_defaults(run=cmd_plan)

    p = commands.add_parser("check", help="test a model file's equivariance",
                            description="Test a generated model against the spec it carries, or any module "
                                        "against --spec. One row per group element; exit 0 when all pass, 1 if not.")
    p.add_argument("model", metavar="FILE.py", help="a generated model file or any Python file with a module")
    p.add_argument("--spec", metavar="SPEC", help="spec text or .sym file (default: the file's SPEC string)")
    p.add_argument("--class", dest="class_name", metavar="NAME", help="the nn.Module class (default: Model)")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds torch before the model is built, and the test inputs (default 0)")
    p.add_argument("--size", metavar="HxW", action="append", type=_size,
                   help="input size to test (repeatable; HxW for images, L or N for sequences, sets, graphs and "
                        "point clouds, DxHxW for volumes; default: the spec's size, or two sizes, one odd)")
    p.set_defaults(run=cmd_check)

    from .discovery import DEFAULT_MAX_SAMPLES, DEFAULT_STEPS, DEFAULT_TIME_LIMIT, DOMAINS
    p = commands.add_parser("discover", help="measure which symmetries the labels of a data set respect",
                            description="Train a small plain model on DATA.npz as is and once per candidate action "
                                        "of the domain imposed as augmentation; print a table (candidate, evidence, "
                                        "verdict) and, as the last line, the suggested spec ('spec: ...'). "
                                        "DATA.npz (numpy.savez) holds 'x', the inputs, and 'y', integer class "
                                        "labels (N,) or float targets (N,) or (N, K).")
    p.add_argument("data", metavar="DATA.npz", help="keys 'x' and 'y'; x is (N, C, H, W) or (N, H, W) for images, "
                                                    "(N, C, L) or (N, L) for sequences, (N, n, C) for sets, "
                                                    "(N, n, D) for point clouds")
    p.add_argument("--domain", required=True, metavar="DOMAIN", help=f"one of: {', '.join(DOMAINS)}")
    p.add_argument("--seed", type=int, default=0, help="seeds the split, the models and the augmentation (default 0)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"training batches per model (default {DEFAULT_STEPS})")
    p.add_argument("--max-samples", type=int, default=DEFAULT_MAX_SAMPLES,
                   help=f"use a seeded subset of at most this many samples (default {DEFAULT_MAX_SAMPLES})")
    p.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                   help=f"candidates not measured by then are 'unclear' (default {DEFAULT_TIME_LIMIT:g})")
    p.add_argument("--quiet", action="store_true", help="no progress bar on standard error")
    p.set_defaults(run=cmd_discover)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.run(args)
    except SpecError as error:
        if args.command in ("compile", "plan"):
            where = "<stdin>" if args.spec == "-" else args.spec
        else:
            where = "--spec" if args.spec is not None else f"the SPEC of {args.model}"
        print(f"symc: bad spec in {where}: {error}", file=sys.stderr)
    except UsageError as error:
        print(f"symc: {error}", file=sys.stderr)
    except BrokenPipeError:  # e.g. `symc plan spec.sym | head`
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("symc: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("symc: out of memory (a smaller spec or --size may fit)", file=sys.stderr)
    except Exception as error:  # a bug in symc: one clear line, never exit 0 or 1; the traceback on request
        if os.environ.get("SYMC_DEBUG"):
            raise
        print(f"symc: internal error ({type(error).__name__}: {error}); this is a bug in symc, please report it "
              "with the spec (SYMC_DEBUG=1 shows the traceback)", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())

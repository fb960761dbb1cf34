"""Mutation testing of the modules that guard data (`make mutation`; see TESTING.md).

Runs mutmut over the files and functions named in pyproject.toml (`[tool.mutmut]`
only_mutate and `[tool.mutation-targets]`), then prints, per module, how many mutants the
tests killed, how many survived and how many timed out, and the score over the mutants
that are not listed as equivalent in TESTING.md.

Phase 1 runs every mutant on SQLite + local memory (MUTATION_CHILDREN at a time, default
2). Phase 2, when DATABASE_URL is PostgreSQL and REDIS_URL is set, runs the survivors again
there, one at a time, so the PostgreSQL race tests and the Redis TTL test get their say.

    make mutation                                   # phase 1 only
    MUTATION_ARGS=--survivors make mutation         # after adding tests: the survivors only
    DATABASE_URL=postgres://…/hm_x REDIS_URL=redis://…/N make mutation
    .venv/bin/python bench/mutation.py --report     # the last run's figures again
    MUTATION_ARGS="--only outbound.engine" make mutation   # one module (repeatable)
"""

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
STATUS: dict[int | None, str] = {
    1: "killed",
    3: "killed",
    0: "survived",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
}
STATUS.update({152: "timeout", 255: "timeout", 5: "no tests", 33: "no tests", None: "not run"})
EQUIVALENT = re.compile(r"^- `([\w.ǁ]+__mutmut_\d+)`", re.MULTILINE)


def targets() -> dict[str, list[str]]:
    """file → functions ("*" = all), checked against mutmut's own list of files."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    files = config["mutation-targets"]
    only = config["mutmut"]["only_mutate"]
    if sorted(files) != sorted(only):
        sys.exit(
            "pyproject.toml: [tool.mutmut] only_mutate and [tool.mutation-targets] must name "
            f"the same files\n  only_mutate: {sorted(only)}\n  targets:     {sorted(files)}"
        )
    for path in files:
        if not (ROOT / path).is_file():
            sys.exit(f"pyproject.toml names {path}, which does not exist: re-point it")
    return files


def module(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def patterns(files: dict[str, list[str]]) -> list[str]:
    """mutmut's mutant-name globs: `pkg.mod.x_func__mutmut_N` (methods: `xǁClassǁm__…`)."""
    globs = []
    for path, functions in files.items():
        if functions == ["*"]:
            globs.append(f"{module(path)}.*")
        else:
            globs += [f"{module(path)}.x_{name}__mutmut_*" for name in functions]
    return globs


def equivalents() -> dict[str, str]:
    testing = ROOT / "TESTING.md"
    text = testing.read_text() if testing.exists() else ""
    return {name: "" for name in EQUIVALENT.findall(text)}


def report(files: dict[str, list[str]]) -> int:
    globs = patterns(files)
    known_equivalent = equivalents()
    rows: list[tuple[str, tuple[int, Counter[str], int, float] | None]] = []
    worst = 100.0
    unexplained = []
    for path in files:
        meta = ROOT / "mutants" / f"{path}.meta"
        if not meta.exists():
            rows.append((module(path), None))
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        chosen = {
            name: code
            for name, code in codes.items()
            if any(fnmatch.fnmatchcase(name, glob) for glob in globs)
        }
        counts = Counter(STATUS.get(code, "suspicious") for code in chosen.values())
        survivors = sorted(name for name, code in chosen.items() if STATUS.get(code) != "killed")
        equivalent = [name for name in survivors if name in known_equivalent]
        unexplained += [(name, STATUS.get(chosen[name], "suspicious")) for name in survivors]
        scored = len(chosen) - len(equivalent)
        score = 100.0 * counts["killed"] / scored if scored else 100.0
        worst = min(worst, score)
        rows.append((module(path), (len(chosen), counts, len(equivalent), score)))

    header = f"{'module':<26}{'mutants':>8}{'killed':>8}{'survived':>9}{'timeout':>8}"
    header += f"{'other':>7}{'equiv.':>7}{'score':>8}"
    print(header)
    for name, figures in rows:
        if figures is None:
            print(f"{name:<26}  (not run yet)")
            continue
        total, tally, equivalents_count, score = figures
        other = total - tally["killed"] - tally["survived"] - tally["timeout"]
        print(
            f"{name:<26}{total:>8}{tally['killed']:>8}{tally['survived']:>9}"
            f"{tally['timeout']:>8}{other:>7}{equivalents_count:>7}{score:>7.1f}%"
        )
    print("score = killed / (mutants - equivalent); equivalents are listed in TESTING.md")
    left = [(name, status) for name, status in unexplained if name not in known_equivalent]
    if left:
        print(f"\nNot killed and not listed as equivalent ({len(left)}): `mutmut show NAME`")
        for name, status in left:
            print(f"  {status:<9} {name}")
    return 0


def survivors(files: dict[str, list[str]]) -> list[str]:
    """Mutants of the targets that no test killed (survived, or no test reached them)."""
    globs = patterns(files)
    names = []
    for path in files:
        meta = ROOT / "mutants" / f"{path}.meta"
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        names += [
            name
            for name, code in codes.items()
            if STATUS.get(code) in ("survived", "no tests")
            and any(fnmatch.fnmatchcase(name, glob) for glob in globs)
        ]
    return sorted(names)


def mutmut(names: list[str], children: str, env: dict[str, str]) -> int:
    command = [str(MUTMUT), "run", "--max-children", children, *names]
    shown = " ".join(command[:6]) + (" …" if len(command) > 6 else "")
    print(f"+ {shown}  ({len(names)} names/globs)", flush=True)
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def refresh_tests() -> None:
    """Copy this tree's tests into mutants/ (mutmut copies a file only when it is missing)."""
    for source in [ROOT / "conftest.py", *ROOT.glob("*/tests/**/*.py")]:
        target = ROOT / "mutants" / source.relative_to(ROOT)
        if target.parent.exists() or source.parent == ROOT:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="print the last run's figures")
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="skip phase 1: re-run the last run's survivors with this tree's tests",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="MODULE",
        help="run (or report) only this module, e.g. outbound.engine; may be repeated",
    )
    args = parser.parse_args()
    files = targets()
    if args.only:
        unknown = sorted(set(args.only) - {module(path) for path in files})
        if unknown:
            sys.exit(f"--only: not a mutation target: {', '.join(unknown)}")
        files = {path: names for path, names in files.items() if module(path) in args.only}
    if args.report:
        return report(files)

    env = dict(os.environ)
    env.setdefault("HYPOTHESIS_PROFILE", "ci")  # the same examples for every mutant
    database = env.pop("DATABASE_URL", "")
    redis = env.pop("REDIS_URL", "")
    full = database.startswith("postgres") and bool(redis)
    code = 0
    if args.survivors:
        if not (ROOT / "mutants").exists():
            sys.exit("no earlier run in mutants/: run `make mutation` first")
        refresh_tests()
        if not full:
            print("== survivors again: SQLite + local-memory cache", flush=True)
            code = mutmut(survivors(files), env.get("MUTATION_CHILDREN", "2"), env)
    else:
        # mutants/ holds copies of the tree made by the previous run: start from this tree.
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        # 1. Every mutant on SQLite and local memory, two at a time (each on its own
        #    in-memory database and cache, so the children cannot disturb each other).
        print("== phase 1: SQLite + local-memory cache", flush=True)
        code = mutmut(patterns(files), env.get("MUTATION_CHILDREN", "2"), env)

    # 2. The survivors again on PostgreSQL + Redis, where the race tests (PostgreSQL-only)
    #    and the Redis TTL test run. One child: they share the test database and Redis db.
    #    Mutants TESTING.md lists as equivalent are not run again.
    known_equivalent = equivalents()
    left = [name for name in survivors(files) if name not in known_equivalent]
    if not full:
        print("\nnote: phase 2 skipped: set DATABASE_URL=postgres://… and REDIS_URL=redis://…")
        print("      to re-run the survivors where the race and Redis paths are exercised")
    elif left:
        print(f"\n== phase 2: PostgreSQL + Redis, {len(left)} survivors", flush=True)
        env.update(DATABASE_URL=database, REDIS_URL=redis)
        # Which test reaches which function is recorded again: PostgreSQL runs more tests.
        (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
        # Create the test database once from this tree's migrations; the children reuse it.
        pytest = [str(Path(sys.executable).with_name("pytest")), "--create-db", "--reuse-db"]
        pytest += ["-q", "-p", "no:cacheprovider", "workspaces/tests/test_api_keys.py"]
        if subprocess.run(pytest, cwd=ROOT, env=env, check=False).returncode not in (0, 5):
            sys.exit("could not create the PostgreSQL test database")
        env["PYTEST_ADDOPTS"] = (env.get("PYTEST_ADDOPTS", "") + " --reuse-db").strip()
        code = mutmut(left, "1", env) or code
    print()
    report(files)
    return code


if __name__ == "__main__":
    sys.exit(main())

"""The compose deployment (docker-compose.yml + deploy/Dockerfile), checked without a
container engine (none can be installed on the development machine or in CI).

* the file, interpolated the way Compose does from ``deploy/env.example``, validates
  against the Compose specification's JSON schema (vendored in ``data/``, see its README);
* every variable it needs is documented, and a missing secret stops Compose with its message;
* the Dockerfile's COPY sources exist, its install step is pinned by constraints.txt, its
  ENTRYPOINT is the CLI and its paths agree with the compose file;
* each service's command (the image's ENTRYPOINT + the service's command) runs as a local
  process with the service's environment, in ``depends_on`` order, against a scratch
  database on the loopback PostgreSQL: ``migrate`` exits 0, the ``worker`` replicas execute
  real jobs, the dashboard answers HTTP 200; SIGTERM stops them as ``docker compose down`` would.

Not covered: building the image, the ``postgres`` image itself, container networking,
published ports, the bind mount's file permissions.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tomllib
import urllib.request
import uuid
from graphlib import TopologicalSorter
from pathlib import Path

import jsonschema
import pytest
from packaging.specifiers import SpecifierSet
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "tests" / "scale"))
from scale_harness import FeedSite, source_id, wait_for, write_catalog  # noqa: E402

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
SCHEMA = Path(__file__).parent / "data" / "compose-spec.schema.json"
# the schema says "$schema": "http://json-schema.org/draft/2019-09/schema#", a spelling of
# draft 2019-09 that jsonschema does not look up: name the draft
VALIDATOR = jsonschema.Draft201909Validator
PG_URL = os.environ.get("TINGFENG_TEST_PG", "")


# ------------------------------------------------------------------ Compose model

_VAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*)|(?P<invalid>))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.S)
# Compose casts these after interpolation, before validating (compose-go's type-cast mapping)
_CASTS = {("services", "*", "deploy", "replicas"): int}


class MissingVariable(Exception):
    pass


def interpolate(value: object, env: dict[str, str], seen: dict[str, str] | None = None, path: tuple = ()) -> object:
    """Compose-style interpolation of every string value: ``$$``, ``$VAR``, ``${VAR}``,
    ``${VAR:-default}``/``-``, ``${VAR:?error}``/``?``, ``${VAR:+alt}``/``+``. ``seen``
    collects each variable with its operator (``""`` for none)."""
    seen = {} if seen is None else seen
    if isinstance(value, dict):
        out = {k: interpolate(v, env, seen, path + (k,)) for k, v in value.items()}
    elif isinstance(value, list):
        out = [interpolate(v, env, seen, path + (i,)) for i, v in enumerate(value)]
    elif isinstance(value, str):
        def sub(m: re.Match) -> str:
            if m["escaped"]:
                return "$"
            if m["named"]:
                seen.setdefault(m["named"], "")
                return env.get(m["named"], "")
            braced = _BRACED.fullmatch(m["braced"] or "")
            if m["invalid"] is not None or braced is None:
                raise ValueError(f"invalid interpolation at {'.'.join(map(str, path))}: {value!r}")
            name, op, arg = braced["name"], braced["op"] or "", braced["arg"] or ""
            assert "$" not in arg, f"nested interpolation is not handled here: {value!r}"
            seen.setdefault(name, op)
            present, non_empty = name in env, bool(env.get(name))
            if op in (":-", "-"):
                return env[name] if (non_empty if op == ":-" else present) else arg
            if op in (":?", "?"):
                if not (non_empty if op == ":?" else present):
                    raise MissingVariable(f"required variable {name} is missing a value: {arg}")
                return env[name]
            if op in (":+", "+"):
                return arg if (non_empty if op == ":+" else present) else ""
            return env.get(name, "")
        out = _VAR.sub(sub, value)
    else:
        out = value
    for pattern, cast in _CASTS.items():
        if len(pattern) == len(path) and all(p in ("*", q) for p, q in zip(pattern, path)):
            out = cast(out)
    return out


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines as Compose reads ``.env`` (the example uses no quoting)."""
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, val = line.partition("=")
            assert not val.startswith(("'", '"')) and " #" not in val, f"keep {path.name} unquoted: {line}"
            env[key.strip()] = val.strip()
    return env


def load_compose(env: dict[str, str], seen: dict[str, str] | None = None) -> dict:
    """docker-compose.yml with YAML anchors and merge keys resolved, then interpolated."""
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return interpolate(raw, env, seen)


# ------------------------------------------------------------------ Dockerfile model

def dockerfile_path(project: dict, service: str) -> Path:
    build = project["services"][service]["build"]
    return (COMPOSE.parent / build["context"] / build.get("dockerfile", "Dockerfile")).resolve()


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        word, _, rest = pending.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def dockerfile_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env = {}
    for word, args in instructions:
        if word == "ENV":
            for pair in shlex.split(args):
                key, _, val = pair.partition("=")
                env[key] = val
    return env


def last(instructions: list[tuple[str, str]], word: str) -> str:
    return [a for w, a in instructions if w == word][-1]


# ---------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def example_env() -> dict[str, str]:
    return read_dotenv(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def project(example_env: dict[str, str]) -> dict:
    return load_compose(example_env)


@pytest.fixture(scope="module")
def dockerfile(project: dict) -> list[tuple[str, str]]:
    return dockerfile_instructions(dockerfile_path(project, "worker"))


# ------------------------------------------------------------------- schema

def _validation_errors(model: dict) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = VALIDATOR(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(model)]


def test_the_vendored_schema_is_a_valid_json_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft/2019-09/schema#"
    VALIDATOR.check_schema(schema)
    assert schema["title"] == "Compose Specification"


@pytest.mark.parametrize("env_name", ["env.example", "only the required secrets"])
def test_compose_file_validates_against_the_compose_specification(env_name: str, example_env: dict) -> None:
    env = example_env if env_name == "env.example" else {
        "POSTGRES_PASSWORD": "pw", "TINGFENG_SECRET_KEY": "k" * 64}
    assert _validation_errors(load_compose(env)) == []


def test_the_schema_check_catches_mistakes(project: dict) -> None:
    """Negative control: the schema is strict enough to reject typical slips."""
    broken = copy.deepcopy(project)
    broken["services"]["worker"]["stop_grace_periods"] = "90s"
    broken["services"]["dashboard"]["depends_on"]["migrate"]["condition"] = "service_completed"
    broken["services"]["migrate"]["deploy"] = {"replicas": "2"}
    errors = _validation_errors(broken)
    assert len(errors) == 3, errors


# --------------------------------------------------------------- variables

def test_required_variables_are_in_env_example_and_every_variable_is_documented(example_env: dict) -> None:
    seen: dict[str, str] = {}
    load_compose(example_env, seen)
    required = {name for name, op in seen.items() if op in (":?", "?")}
    assert required == {"POSTGRES_PASSWORD", "TINGFENG_SECRET_KEY"}, seen
    assert required <= set(example_env), required - set(example_env)
    assert set(example_env) <= set(seen), f"env.example sets variables the compose file never reads: {set(example_env) - set(seen)}"
    doc = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    table = doc[doc.index("## Environment variables"):]
    undocumented = {name for name in seen
                    if f"`{name}`" not in table and f"`{name.rsplit('_', 1)[0]}_`" not in table
                    and f"`_{name.rsplit('_', 1)[1]}`" not in table}
    assert not undocumented, f"not in docs/deployment.md § Environment variables: {undocumented}"


@pytest.mark.parametrize("missing", ["POSTGRES_PASSWORD", "TINGFENG_SECRET_KEY"])
def test_a_missing_secret_stops_compose_with_a_message(missing: str, example_env: dict) -> None:
    env = {k: v for k, v in example_env.items() if k != missing}
    with pytest.raises(MissingVariable, match=f"{missing}.*set {missing} in .env"):
        load_compose(env)
    with pytest.raises(MissingVariable):  # ":?" also refuses an empty value
        load_compose({**env, missing: ""})


# --------------------------------------------------------------- Dockerfile

def test_every_service_but_postgres_runs_the_one_image(project: dict) -> None:
    ours = {name for name, svc in project["services"].items() if "build" in svc}
    assert ours == {"migrate", "worker", "dashboard"}
    assert {project["services"][s]["image"] for s in ours} == {"tingfeng:local"}
    assert {dockerfile_path(project, s) for s in ours} == {ROOT / "deploy" / "Dockerfile"}


def test_dockerfile_copies_what_exists_and_what_the_package_needs(project: dict, dockerfile: list) -> None:
    context = (COMPOSE.parent / project["services"]["worker"]["build"]["context"]).resolve()
    ignore_file = dockerfile_path(project, "worker").with_name("Dockerfile.dockerignore")
    ignored = {line.strip() for line in ignore_file.read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    copied = []
    for word, args in dockerfile:
        if word in ("COPY", "ADD"):
            assert not args.startswith("--from"), args
            *sources, _dest = args.split()
            for src in sources:
                assert (context / src).exists(), f"COPY {src}: not in the build context"
                assert src not in ignored, f"COPY {src}: excluded by {ignore_file.name}"
                copied.append(src)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= set(copied), f"packages not copied into the image: {packages - set(copied)}"
    assert {"pyproject.toml", "constraints.txt", pyproject["project"]["readme"]} <= set(copied)


def test_dockerfile_installs_pinned_by_constraints(dockerfile: list) -> None:
    """Every pip install is constrained, after constraints.txt is in the image, and the
    dependency layer installs exactly pyproject's dependencies."""
    copied_before: set[str] = set()
    installs = []
    for word, args in dockerfile:
        if word == "COPY":
            copied_before.update(args.split()[:-1])
        if word == "RUN" and "pip install" in args:
            for cmd in re.findall(r"pip install[^&;]*", args):
                assert "-c constraints.txt" in cmd, cmd
                assert "constraints.txt" in copied_before, cmd
                installs.append(cmd)
    assert any(cmd.rstrip().endswith(" .") for cmd in installs), installs  # the project itself
    # the requirements the dependency layer writes (run here on the same files) are pyproject's
    (script,) = [m for w, a in dockerfile if w == "RUN" for m in re.findall(r'(python -c ".*?") > ', a)]
    listed = subprocess.run(["sh", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert listed.stdout.splitlines() == pyproject["project"]["dependencies"]


def test_dockerfile_entrypoint_is_the_cli_the_services_call(project: dict, dockerfile: list) -> None:
    entrypoint = exec_form(last(dockerfile, "ENTRYPOINT"))
    assert entrypoint == ["python", "-m", "tingfeng.cli"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["tingfeng"] == "tingfeng.cli:app"
    for name in ("migrate", "worker", "dashboard"):
        argv = service_argv(project["services"][name], dockerfile)
        assert argv[:3] == entrypoint, (name, argv)
        assert_cli_accepts(argv[3:])


def assert_cli_accepts(args: list[str]) -> None:
    """The tingfeng CLI parses ``args`` down to an existing command (a typo'd sub-command
    or option raises; with ``--help`` appended, no prompt and no required value)."""
    from typer.main import get_command

    from tingfeng.cli import app

    command = get_command(app)
    while hasattr(command, "commands"):  # a group (typer's click may not be click's)
        assert args and args[0] in command.commands, f"no command {args[:1]} in {sorted(command.commands)}"
        command, args = command.commands[args[0]], args[1:]
    try:  # options are parsed before the eager --help exits: an unknown one raises first
        command.make_context("tingfeng", [*args, "--help"])
    except RuntimeError as exc:  # click's Exit, from --help (typer's click may not be click's)
        assert type(exc).__name__ == "Exit", exc


def test_documented_compose_commands_are_cli_commands(project: dict, dockerfile: list) -> None:
    """``docker compose run SERVICE ARGS`` (entrypoint kept) and ``docker compose exec
    SERVICE python -m tingfeng.cli ARGS`` lines in the compose file and the docs."""
    text = COMPOSE.read_text(encoding="utf-8") + DEPLOYMENT_DOC.read_text(encoding="utf-8")
    found = 0
    for line in text.splitlines():
        line = line.lstrip("# ").split(" #", 1)[0].strip()
        m = re.search(r"docker compose (run|exec)((?: --?[a-z-]+)*) ([a-z]+) (.+)$", line)
        if not m or m[3] not in ("migrate", "worker", "dashboard"):
            continue
        args = shlex.split(m[4])
        if m[1] == "exec":
            if args[:3] != ["python", "-m", "tingfeng.cli"]:
                continue  # e.g. the postgres service's pg_dump
            args = args[3:]
        else:
            assert service_argv({**project["services"][m[3]], "command": args}, dockerfile)[:3] == [
                "python", "-m", "tingfeng.cli"]
        assert_cli_accepts(args)
        found += 1
    assert found >= 3, found


def test_paths_agree_between_dockerfile_and_compose(project: dict, dockerfile: list) -> None:
    image_env = dockerfile_env(dockerfile)
    catalog = image_env["TINGFENG_CATALOG"]
    for name in ("migrate", "worker", "dashboard"):
        svc = project["services"][name]
        assert svc["environment"]["TINGFENG_CATALOG"] == catalog
        mounts = {v.split(":")[1]: v.split(":")[0] for v in svc["volumes"]}
        assert mounts.get(catalog) == "./tingfeng.toml", svc["volumes"]
    assert last(dockerfile, "WORKDIR") == image_env["TINGFENG_DATA_DIR"]
    assert last(dockerfile, "USER") not in ("root", "0")
    assert str(Path(catalog).parent) in last([i for i in dockerfile if "mkdir" in i[1]], "RUN")
    # pyproject accepts the image's Python (CI may run another minor version: not checked here)
    python_tag = re.fullmatch(r"python:(\d+\.\d+)-slim", [a for w, a in dockerfile if w == "FROM"][0])
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert python_tag and SpecifierSet(requires).contains(python_tag.group(1))


def test_runtime_dependencies_install_from_wheels_without_a_compiler(dockerfile: list) -> None:
    """python:3.11-slim has no C compiler: every runtime dependency installed here (same
    Python minor, constraints.txt) came as a manylinux or pure-Python wheel."""
    import importlib.metadata as md

    from packaging.requirements import Requirement

    todo, seen, native = ["tingfeng"], set(), []
    while todo:
        dist = md.distribution(todo.pop())
        name = dist.metadata["Name"].lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        if name != "tingfeng":
            tags = [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
                    if line.startswith("Tag:")]
            if not any(t.endswith("-any") or "manylinux" in t for t in tags):
                native.append((name, tags))
        for req in map(Requirement, dist.requires or []):
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    assert not native, native
    assert len(seen) > 30  # the walk did follow the dependency tree


def test_services_run_under_an_init_process(project: dict) -> None:
    """A Python process as PID 1 ignores signals it installs no handler for, and nothing
    reaps its children's zombies; with ``init: true`` an init forwards ``docker compose
    down``'s SIGTERM and reaps them, whatever the command does."""
    for name in ("migrate", "worker", "dashboard"):
        assert project["services"][name].get("init") is True, name


# ------------------------------------------------------- the services as processes

def service_argv(svc: dict, dockerfile: list) -> list[str]:
    """What the container runs: the entrypoint (the service's or the image's) followed by
    the command (the service's or, when the service has no entrypoint of its own, CMD)."""
    as_list = lambda v: shlex.split(v) if isinstance(v, str) else list(v)  # noqa: E731
    if "entrypoint" in svc:
        return as_list(svc["entrypoint"]) + as_list(svc.get("command", []))
    cmd = svc["command"] if "command" in svc else exec_form(last(dockerfile, "CMD"))
    return exec_form(last(dockerfile, "ENTRYPOINT")) + as_list(cmd)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Deployment:
    """The compose services as local processes, each in its own session (a stand-in for
    its container); ``postgres`` is the loopback server, DATABASE_URL's host swapped."""

    def __init__(self, project: dict, dockerfile: list, tmp: Path, database_url: str, catalog: Path) -> None:
        self.project, self.dockerfile, self.tmp = project, dockerfile, tmp
        self.database_url, self.catalog = database_url, catalog
        self.procs: dict[str, list[subprocess.Popen]] = {}
        self.logs: list[Path] = []

    def environment(self, name: str, replica: int, extra: dict[str, str]) -> tuple[dict[str, str], Path]:
        svc = self.project["services"][name]
        image_env = dockerfile_env(self.dockerfile)
        data_dir = self.tmp / f"{name}-{replica}"
        data_dir.mkdir()
        # container paths → this machine: the data dir (WORKDIR too) and the bind-mounted catalog
        mapped = {image_env["TINGFENG_DATA_DIR"]: str(data_dir)}
        for volume in svc.get("volumes", []):
            source, target = volume.split(":")[:2]
            assert source == "./tingfeng.toml", volume
            mapped[target] = str(self.catalog)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TINGFENG_") and k != "DATABASE_URL"}
        env.update({k: mapped.get(v, v) for k, v in {**image_env, **svc["environment"]}.items()})
        env["DATABASE_URL"] = self.database_url
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python` is the image's Python
        env["PYTHONPATH"] = str(ROOT)  # the image has the package installed
        env.update(extra)
        return env, data_dir

    def start(self, name: str, replicas: int = 1, argv_edit=lambda a: a, **extra: str) -> list[subprocess.Popen]:  # noqa: ANN001
        argv = argv_edit(service_argv(self.project["services"][name], self.dockerfile))
        for k in range(replicas):
            env, cwd = self.environment(name, k, extra)
            log = self.tmp / f"{name}-{k}.log"
            self.logs.append(log)
            self.procs.setdefault(name, []).append(subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True))
        return self.procs[name]

    def tail(self, chars: int = 2500) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in self.logs if p.exists())

    def teardown(self) -> None:
        """What removing the containers does to whatever is left: kill each session."""
        for procs in self.procs.values():
            for p in procs:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()


def app_test(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]):  # noqa: ANN201 - AppTest
    """dashboard/app.py in-process (Streamlit's AppTest) with the given environment."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=30)


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


@pytest.fixture
def scratch_database() -> str:
    """An empty database on the loopback PostgreSQL, dropped afterwards."""
    from storage import Database

    name = f"tingfeng_compose_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(Database(PG_URL).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_database_url_points_at_the_postgres_service(project: dict) -> None:
    pg = project["services"]["postgres"]
    for name in ("migrate", "worker", "dashboard"):
        url = sa.engine.make_url(project["services"][name]["environment"]["DATABASE_URL"])
        assert (url.host, url.port, url.username, url.database) == (
            "postgres", 5432, pg["environment"]["POSTGRES_USER"], pg["environment"]["POSTGRES_DB"]), name
        assert url.password == pg["environment"]["POSTGRES_PASSWORD"], name


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set TINGFENG_TEST_PG (CI does)")
def test_services_run_in_dependency_order_and_stop_on_sigterm(
        example_env: dict, dockerfile: list, scratch_database: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    closed_port = _free_port()  # mail goes nowhere: no recipients, and never to smtp.example.com
    project = load_compose({**example_env, "TINGFENG_SMTP_HOST": "127.0.0.1",
                            "TINGFENG_SMTP_PORT": str(closed_port), "TINGFENG_SMTP_STARTTLS": "false"})
    services = project["services"]
    order = list(TopologicalSorter({n: set(s.get("depends_on", {})) for n, s in services.items()}).static_order())
    assert order.index("postgres") < order.index("migrate") < min(order.index("worker"), order.index("dashboard"))
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("worker", "dashboard"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"

    engine = sa.create_engine(scratch_database.replace("postgresql://", "postgresql+psycopg://", 1))
    with FeedSite(4, 3) as site:
        catalog = write_catalog(tmp_path / "tingfeng.toml", site, recipients=False)
        deployment = Deployment(project, dockerfile, tmp_path, scratch_database, catalog)
        try:
            # postgres is "healthy" (pg_isready's question: does it accept connections?)
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            # migrate: one-shot, must exit 0 ("service_completed_successfully")
            (migrate,) = deployment.start("migrate")
            assert migrate.wait(120) == 0, deployment.tail()
            from storage import Database
            from tingfeng.tasks import schema_applied

            db = Database(scratch_database)
            assert db.current_revision() == db.head_revision()
            assert schema_applied(scratch_database)
            db.dispose()

            # the workers: deploy.replicas of them; recover every second gives the
            # replica that starts last a job to take soon
            replicas = services["worker"]["deploy"]["replicas"]
            assert replicas == 2
            workers = deployment.start("worker", replicas, TINGFENG_WORKER_RECOVER_EVERY_SECONDS="1")

            # the dashboard on a free port (and loopback: no need to expose a test machine)
            port = _free_port()

            def local_port(argv: list[str]) -> list[str]:
                argv = list(argv)
                assert argv[argv.index("--address") + 1] == "0.0.0.0" and argv[argv.index("--port") + 1] == "8501"
                argv[argv.index("--address") + 1], argv[argv.index("--port") + 1] = "127.0.0.1", str(port)
                return argv

            assert services["dashboard"]["ports"] == ["8501:8501"]
            assert services["dashboard"]["environment"]["TINGFENG_AUTH"] == "local"
            (dashboard,) = deployment.start("dashboard", argv_edit=local_port)

            def jobs(sql: str) -> int:
                with engine.connect() as conn:
                    return conn.exec_driver_sql(sql).scalar_one()

            def workers_ran_jobs() -> bool:
                assert all(p.poll() is None for p in workers), deployment.tail()
                return jobs("SELECT count(DISTINCT worker_id) FROM procrastinate_jobs WHERE status = 'succeeded'") == 2

            wait_for(workers_ran_jobs, 90, "both worker replicas to finish a job", on_fail=deployment.tail)
            wait_for(lambda: jobs("SELECT count(DISTINCT args->>'source_id') FROM procrastinate_jobs "
                                  "WHERE task_name = 'tingfeng.collect' AND status = 'succeeded'") == 4,
                     90, "a collect of every source", on_fail=deployment.tail)
            with engine.connect() as conn:
                stored = dict(conn.exec_driver_sql(
                    "SELECT s.id, count(m.id) FROM sources s LEFT JOIN mentions m ON m.source_id = s.id "
                    "GROUP BY s.id").all())
            assert stored == {source_id(i): 3 for i in range(4)}, stored
            assert jobs("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'") == 0, deployment.tail()

            def dashboard_up() -> bool:
                assert dashboard.poll() is None, deployment.tail()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                        return r.status == 200
                except OSError:
                    return False

            wait_for(dashboard_up, 60, "the dashboard's health check", on_fail=deployment.tail)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                assert r.status == 200 and b"<title>" in r.read()

            # the first login, as docs/deployment.md says: `docker compose run --rm dashboard account add …`
            add = subprocess.run(
                service_argv({**services["dashboard"], "command": ["account", "add", "admin", "--role", "admin"]},
                             dockerfile),
                env={**deployment.environment("dashboard", 9, {})[0], "TINGFENG_NEW_PASSWORD": "a-long-password"},
                cwd=tmp_path, capture_output=True, text=True, timeout=60)
            assert add.returncode == 0, add.stdout + add.stderr
            # what a visitor sees with the dashboard's environment: the login form, and the app once logged in
            dashboard_env = deployment.environment("dashboard", 8, {})[0]
            at = app_test(monkeypatch, {k: v for k, v in dashboard_env.items()
                                        if k.startswith("TINGFENG_") or k == "DATABASE_URL"})
            at.run()
            assert not at.exception and [t.value for t in at.title] == ["听风 · 登录"]
            at.text_input(key="login_user").input("admin")
            at.text_input(key="login_password").input("a-long-password")
            at.button[0].click().run()
            assert not at.exception and "听风 · 登录" not in [t.value for t in at.title]
            assert any("admin" in t.value for t in at.sidebar.text), at.sidebar.text

            # `docker compose down`: SIGTERM to each container's process (the init forwards
            # it), SIGKILL after stop_grace_period (10 s when unset)
            grace = _seconds(services["worker"]["stop_grace_period"])
            for p in [dashboard, *workers]:
                p.send_signal(signal.SIGTERM)
            for p in workers:
                try:
                    code = p.wait(grace)
                except subprocess.TimeoutExpired:
                    pytest.fail(f"a worker outlived stop_grace_period ({grace} s)\n{deployment.tail()}")
                assert code == 0, deployment.tail()
            dashboard.wait(_seconds(services["dashboard"].get("stop_grace_period", "10s")))
            # `tingfeng dashboard` execs Streamlit, so the SIGTERM reached the server itself:
            # no orphaned Streamlit keeps the port after the process is gone
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            assert jobs("SELECT count(*) FROM procrastinate_workers") == 0  # both unregistered cleanly
            assert jobs("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'") == 0
        finally:
            deployment.teardown()
            engine.dispose()

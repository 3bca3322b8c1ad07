"""The files that run and ship the project: docker-compose.yml, the Dockerfile, the run/test/CI
scripts and the README's configuration table.

Docker cannot run on the development machines, so these tests check what can be checked without
it: the compose file parses and wires the services as intended, and every management command,
Python module, Celery app and queue that the compose file or the Dockerfile names exists here.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from celery import Celery
from django.conf import settings
from django.core.management import get_commands

from config.celery import Queues

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
APP_SERVICES = ("migrate", "web", "worker", "beat")
SCRIPTS = ("scripts/run", "scripts/test", "scripts/install", "scripts/lock", ".ci/run")


def _command_line(value: str | list[str]) -> str:
    """A compose ``command``/healthcheck ``test`` as one shell-like line."""
    if isinstance(value, str):
        return value
    return " ".join(shlex.quote(part) if " " in part else part for part in value)


def _dockerfile_instructions() -> list[str]:
    """RUN and CMD instructions of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    return [
        line.strip() for line in joined.splitlines() if re.match(r"\s*(RUN|CMD|ENTRYPOINT)\b", line)
    ]


def _all_command_lines() -> list[str]:
    lines = []
    for service in SERVICES.values():
        if "command" in service:
            lines.append(_command_line(service["command"]))
        if "healthcheck" in service:
            lines.append(_command_line(service["healthcheck"]["test"]))
    for instruction in _dockerfile_instructions():
        if instruction.startswith(("CMD", "ENTRYPOINT")) and "[" in instruction:
            instruction = " ".join(yaml.safe_load(instruction.split(None, 1)[1]))
        lines.append(instruction)
    return lines


def test_compose_declares_every_service():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_are_configured_for_production(name):
    environment = SERVICES[name]["environment"]

    assert environment["DEBUG"] == "false"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert "ALLOWED_HOSTS" in environment
    assert SERVICES[name]["build"] == "."


def test_migrate_runs_once_after_the_database_is_healthy():
    migrate = SERVICES["migrate"]

    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    command = _command_line(migrate["command"])
    assert "manage.py migrate" in command
    assert "manage.py load_admin_units --province" in command


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_long_running_services_wait_for_migrate(name):
    depends_on = SERVICES[name]["depends_on"]

    assert depends_on["migrate"] == {"condition": "service_completed_successfully"}
    assert depends_on["postgres"] == {"condition": "service_healthy"}
    assert depends_on["redis"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker", "beat"])
def test_long_running_services_have_a_healthcheck(name):
    healthcheck = SERVICES[name]["healthcheck"]

    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    assert "interval" in healthcheck


def test_web_is_gunicorn_on_the_wsgi_application_and_is_checked_on_readyz():
    web = SERVICES["web"]

    assert web["command"][:2] == ["gunicorn", "config.wsgi:application"]
    assert "/readyz" in _command_line(web["healthcheck"]["test"])
    assert web["ports"] == ["${WEB_BIND:-127.0.0.1}:${WEB_PORT:-8000}:8000"]


def test_worker_consumes_every_declared_queue():
    command = _command_line(SERVICES["worker"]["command"])
    queues = re.search(r"(?:-Q|--queues)[= ](\S+)", command).group(1)

    assert set(queues.split(",")) == set(Queues.ALL)


def test_every_management_command_named_exists():
    commands = get_commands()
    named = {
        match
        for line in _all_command_lines()
        for match in re.findall(r"manage\.py\s+([a-z_]+)", line)
    }

    assert {"migrate", "load_admin_units", "collectstatic"} <= named
    assert sorted(name for name in named if name not in commands) == []


def test_every_wsgi_application_named_exists():
    targets = {
        match for line in _all_command_lines() for match in re.findall(r"gunicorn\s+(\S+)", line)
    }

    assert targets == {"config.wsgi:application"}
    for target in targets:
        module, _, attribute = target.partition(":")
        assert callable(getattr(importlib.import_module(module), attribute or "application"))


def test_every_celery_app_named_exists():
    apps = {
        match
        for line in _all_command_lines()
        for match in re.findall(r"celery\s+(?:-A|--app)[= ](\S+)", line)
    }

    assert apps == {"config"}
    for name in apps:
        # ``celery -A config`` looks for an app in ``config``, then in ``config.celery``.
        module = importlib.import_module(f"{name}.celery")
        assert isinstance(module.app, Celery)


def test_every_python_module_run_with_dash_m_exists():
    modules = {
        match
        for line in _all_command_lines()
        for match in re.findall(r"python\s+-m\s+([\w.]+)", line)
    }
    for module in modules:
        importlib.import_module(module)


def test_dockerfile_installs_pinned_dependencies_on_python_311():
    assert re.search(r"^FROM python:3\.11[-\w.]*$", DOCKERFILE, re.MULTILINE)
    assert re.search(r"pip install -c constraints\.txt \.", DOCKERFILE)
    assert "USER app" in DOCKERFILE


def test_files_the_dockerfile_copies_exist():
    for line in re.findall(r"^COPY\s+(.+)$", DOCKERFILE, re.MULTILINE):
        *sources, _destination = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source


@pytest.mark.parametrize("path", SCRIPTS)
def test_scripts_are_executable_bash_that_parses(path):
    script = ROOT / path

    assert script.stat().st_mode & 0o111, f"{path} is not executable"
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_constraints_pin_every_dependency_exactly():
    lines = [
        line
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    pinned = {re.split(r"==", line)[0].lower().replace("_", "-") for line in lines}

    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[^=\s]+", line) for line in lines)
    pyproject = (ROOT / "pyproject.toml").read_text()
    declared = re.findall(r'^\s+"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?[<>=!~;,"]', pyproject, re.M)
    assert declared
    missing = [name for name in declared if name.lower().replace("_", "-") not in pinned]
    assert missing == []


def test_readme_documents_every_environment_variable_the_settings_read():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]+)\"", settings_source))
    readme = (ROOT / "README.md").read_text()

    assert "SECRET_KEY" in read
    assert sorted(name for name in read if f"`{name}`" not in readme) == []


def test_makemigrations_check_runs_without_a_secret_and_finds_every_model_migrated():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert (result.returncode, result.stdout.strip()) == (0, "No changes detected"), result.stderr

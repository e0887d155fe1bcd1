{%- set rows = cookiecutter.__rows -%}
"""The container files, read with real parsers: no container runtime is needed to check them.

Dockerfile: stages, an unprivileged user, a health check, an exec-form command.
compose.yaml: the replicas, what they are wired to, health checks and start order.
requirements.lock: a pinned version for every dependency pyproject.toml declares.
"""

import ipaddress
import json
{%- if cookiecutter.format_file %}
import re
{%- endif %}
import tomllib
from pathlib import Path
from typing import Any
{%- if rows or cookiecutter.format_sse %}
from urllib.parse import urlsplit
{%- endif %}

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.nginxproxy import TEMPLATE

PROJECT = Path(__file__).parents[1]
APP_PORT = 8000
REPLICAS = ["app-1", "app-2"]
{%- set backing = (["postgres"] if rows else []) + (["redis"] if cookiecutter.format_sse else []) %}
BACKING: list[str] = {{ backing | tojson }}  # the services of compose.yaml besides the app
{%- if rows %}
ONE_SHOT = ["sample"]  # runs to completion before the replicas start
{%- else %}
ONE_SHOT: list[str] = []
{%- endif %}
{%- if backing %}
CONTAINER_EXTRAS = BACKING  # each has the extra of the same name
{%- endif %}


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments left out."""
    text = (PROJECT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    last = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last:]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROJECT / "compose.yaml").read_text())
    return loaded


def test_the_image_is_built_in_stages_and_runs_as_an_unprivileged_user() -> None:
    stages = [arguments for name, arguments in dockerfile() if name == "FROM"]
    assert len(stages) >= 2
    assert stages[-1].split()[-2:] == ["AS", "runtime"]
    users = [arguments for name, arguments in final_stage() if name == "USER"]
    assert users, "the runtime stage must name a USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_the_image_installs_the_lock_without_resolving_anything() -> None:
    runs = " ".join(arguments for name, arguments in dockerfile() if name == "RUN")
    assert "--no-deps --requirement requirements.lock" in runs
    assert "install --no-deps ." in runs


def test_the_image_checks_its_health_and_runs_uvicorn_in_exec_form() -> None:
    (health,) = [arguments for name, arguments in final_stage() if name == "HEALTHCHECK"]
    check = json.loads(health[health.index("CMD") + 3 :])
    assert f"http://127.0.0.1:{APP_PORT}/healthz" in " ".join(check)
    (command,) = [arguments for name, arguments in final_stage() if name == "CMD"]
    argv = json.loads(command)  # exec form: a JSON array, so SIGTERM reaches uvicorn
    assert argv[:2] == ["uvicorn", "{{ cookiecutter.package_name }}.main:app"]
    # The protocol that bounds request heads, slow requests and stalled readers.
    assert argv[argv.index("--http") + 1] == "{{ cookiecutter.package_name }}.main:http_protocol"
    assert argv[argv.index("--port") + 1] == str(APP_PORT)
    assert "--proxy-headers" in argv
    # Whom to trust is FORWARDED_ALLOW_IPS, set where the proxy is known (compose).
    assert "--forwarded-allow-ips" not in argv
{%- if cookiecutter.format_file %}


def test_nginx_sends_the_files_from_the_folder_the_replicas_serve(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    nginx = services["nginx"]
    root = nginx["environment"]["FILES_ROOT"]
    assert f"./files:{root}:ro" in nginx["volumes"]
    pattern = r"location (\S+) \{\s*internal;\s*alias \$\{FILES_ROOT\}/;"
    internal = re.search(pattern, TEMPLATE.read_text())
    assert internal, "the nginx config has no internal location for the files"
    for name in REPLICAS:
        environment = services[name]["environment"]
        assert environment["FILES_ACCEL_REDIRECT"] == internal.group(1)
        assert "./files:" + environment["FILES_DIR"] + ":ro" in services[name]["volumes"]

{%- endif %}


def test_compose_runs_two_replicas_behind_nginx(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert sorted(services) == sorted([*REPLICAS, "nginx", *BACKING, *ONE_SHOT])
    nginx = services["nginx"]
    assert nginx["environment"]["APP_1"] == f"{REPLICAS[0]}:{APP_PORT}"
    assert nginx["environment"]["APP_2"] == f"{REPLICAS[1]}:{APP_PORT}"
    port = nginx["environment"]["NGINX_PORT"]
    assert nginx["ports"] == [f"{port}:{port}"]
    mount = f"./{TEMPLATE.relative_to(PROJECT)}:/etc/nginx/templates/default.conf.template:ro"
    assert mount in nginx["volumes"]
    for name in REPLICAS:
        assert "ports" not in services[name], "only nginx is published"
    # The replicas take X-Forwarded-For from nginx's fixed address, and from no one else.
    proxy = nginx["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy) in ipaddress.ip_network(subnet)
    for name in REPLICAS:
        assert services[name]["environment"]["FORWARDED_ALLOW_IPS"] == proxy
        assert services[name]["build"] == "."


def test_every_service_has_a_health_check_and_starts_after_what_it_needs(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
        else:
            assert service["healthcheck"]["test"][0] == "CMD", name
    assert services["nginx"]["depends_on"] == {
        name: {"condition": "service_healthy"} for name in REPLICAS
    }
    for name in REPLICAS:
        wanted = {backing: {"condition": "service_healthy"} for backing in BACKING}
        wanted |= {once: {"condition": "service_completed_successfully"} for once in ONE_SHOT}
        assert services[name].get("depends_on", {}) == wanted
{%- if rows %}


def test_the_replicas_read_rows_from_the_postgres_service(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]["environment"]
    for name in [*REPLICAS, *ONE_SHOT]:
        url = urlsplit(compose["services"][name]["environment"]["DATABASE_URL"])
        assert url.scheme == "postgresql"
        assert url.hostname == "postgres"
        assert url.username == postgres["POSTGRES_USER"]
        assert url.password == postgres["POSTGRES_PASSWORD"]
        assert url.path == "/" + postgres["POSTGRES_DB"]
{%- endif %}
{%- if cookiecutter.format_sse %}


def test_the_replicas_share_events_through_the_redis_service(compose: dict[str, Any]) -> None:
    for name in REPLICAS:
        environment = compose["services"][name]["environment"]
        url = urlsplit(environment["BROKER_URL"])
        assert (url.scheme, url.hostname) == ("redis", "redis")
        # Passed through from the shell running compose, never written in the file.
        assert environment["PUBLISH_TOKEN"] is None
{%- endif %}


def test_the_replicas_check_their_health_as_the_image_does(compose: dict[str, Any]) -> None:
    (health,) = [arguments for name, arguments in final_stage() if name == "HEALTHCHECK"]
    image = json.loads(health[health.index("CMD") + 3 :])
    for name in REPLICAS:
        assert compose["services"][name]["healthcheck"]["test"] == ["CMD", *image]


def test_the_lock_pins_every_dependency_the_project_declares() -> None:
    locked: dict[str, str] = {}
    for line in (PROJECT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            locked[canonicalize_name(requirement.name)] = specifier.version
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
{%- if backing %}
    # The extras the container installs, once the project declares them.
    extras = project.get("optional-dependencies", {})
    declared += [line for extra in CONTAINER_EXTRAS for line in extras.get(extra, [])]
{%- endif %}
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{line} is not in requirements.lock"
        assert requirement.specifier.contains(locked[name]), f"{line}: locked {locked[name]}"

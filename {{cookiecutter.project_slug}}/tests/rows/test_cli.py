import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from {{ cookiecutter.package_name }}.__main__ import main

from tests.support.databases import postgres_database


def test_seed_creates_the_database_named_by_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "seeded.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert main(["seed", "--rows", "250"]) == 0
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT count(*), max(id) FROM items").fetchone() == (250, 250)
    assert "seeded 250 rows" in capsys.readouterr().out


def test_seed_if_missing_leaves_an_existing_sample_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "seeded.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert main(["seed", "--rows", "10", "--if-missing"]) == 0
    assert main(["seed", "--rows", "250", "--if-missing"]) == 0
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM items").fetchone() == (10,)
    assert "kept the sample table" in capsys.readouterr().out


def test_seed_fills_the_postgresql_database_named_by_the_settings(
    postgres_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with postgres_database(postgres_server) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert main(["seed", "--rows", "250"]) == 0
        assert main(["seed", "--rows", "300"]) == 0  # replaces the table
        with psycopg.connect(url) as connection:
            counted = connection.execute("SELECT count(*), max(id) FROM items").fetchone()
        assert counted == (300, 300)
    assert "seeded 300 rows" in capsys.readouterr().out


def test_seed_without_a_postgresql_server_exits_1_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:hunter2-secret@127.0.0.1:{port}/items")
    with pytest.raises(SystemExit) as stopped:
        main(["seed", "--rows", "10"])
    assert stopped.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith(f"cannot seed postgresql://app:***@127.0.0.1:{port}/items: ")
    assert "hunter2-secret" not in error


@pytest.mark.parametrize(
    ("args", "message"),
    [(["seed", "--rows", "-1"], "--rows must be 0 or more"), (["grow"], "invalid choice")],
)
def test_bad_arguments_exit_2_with_a_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err

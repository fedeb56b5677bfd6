import os
import subprocess
import sys
from pathlib import Path

from glean.cli import main


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "domains" in out and "glean" in out


def test_domains_list_shows_builtins(capsys):
    assert main(["domains", "list"]) == 0
    out = capsys.readouterr().out
    assert "python-ecosystem" in out and "world-news" in out and "ml-research" in out


def test_domains_show_prints_the_spec(capsys):
    assert main(["domains", "show", "world-news"]) == 0
    out = capsys.readouterr().out
    assert "id: world-news" in out and "relevance:" in out


def test_unknown_domain_exits_2_with_hint(capsys):
    assert main(["domains", "show", "cooking"]) == 2
    err = capsys.readouterr().err
    assert "unknown domain 'cooking'" in err and "hint:" in err


def test_bad_config_file_exits_2_naming_the_field(tmp_path, capsys):
    cfg = tmp_path / "glean.toml"
    cfg.write_text('[miner]\nport = "many"\n')
    assert main(["--config", str(cfg), "domains", "list"]) == 2
    err = capsys.readouterr().err
    assert "miner.port" in err


def test_bad_domain_file_exits_2_naming_file_and_field(tmp_path, capsys):
    folder = tmp_path / "domains"
    folder.mkdir()
    (folder / "mine.yaml").write_text("id: mine\ntitle: Mine\nsources: []\nrelevance: {keywords: {a: 1}}\n")
    cfg = tmp_path / "glean.toml"
    cfg.write_text(f'domain_dirs = ["{folder}"]\n')
    assert main(["--config", str(cfg), "domains", "list"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "mine.yaml" in err and "sources" in err and "fix that field" in err


def test_console_script_runs_as_a_process():
    exe = Path(sys.executable).parent / "glean"
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=os.environ, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("glean ")


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "No such command" in capsys.readouterr().err

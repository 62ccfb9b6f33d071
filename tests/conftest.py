import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, HERE)


@pytest.fixture
def run_cli(tmp_path, monkeypatch):
    """Run the CLI in-process in a temporary working directory: (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from fastapi_lint.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args, input=None):
        try:  # click < 8.2 mixes stderr into stdout unless told not to
            runner = CliRunner(mix_stderr=False)
        except TypeError:  # click >= 8.2: always separate
            runner = CliRunner()
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run

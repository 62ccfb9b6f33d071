"""The pre-commit hooks, run by real pre-commit (`try-repo`) against a small git repository.

Those tests are slow (pre-commit builds a virtualenv with this package once per run):
`-m "not slow"` skips them.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BAD = textwrap.dedent("""\
    import time


    async def handler():
        time.sleep(1)
        return 1
""")
GOOD = textwrap.dedent("""\
    import asyncio


    async def handler():
        await asyncio.sleep(1)
        return 1
""")


def _env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid", PRE_COMMIT_HOME=str(home), NO_COLOR="1",
               GIT_CONFIG_NOSYSTEM="1")
    return env


def _git(cwd, *args, env):
    subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args], cwd=str(cwd),
                   env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """This repository as it is now (committed or not), committed into a fresh git repo:
    try-repo installs the hooks from a repository's HEAD."""
    base = tmp_path_factory.mktemp("precommit")
    env = _env(base / "home")
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, env=env,
                            check=True, capture_output=True).stdout.decode().split("\0")
    copy = base / "fastapi-lint"
    for rel in filter(None, listed):
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue  # deleted but not yet committed
        dst = copy / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    _git(copy, "init", "-q", env=env)
    _git(copy, "add", "-A", env=env)
    _git(copy, "commit", "-q", "-m", "snapshot", env=env)
    return copy, env


@pytest.fixture
def project(tmp_path, hook_repo):
    _, env = hook_repo
    proj = tmp_path / "project"
    proj.mkdir()
    (proj / "bad.py").write_text(BAD)
    (proj / "good.py").write_text(GOOD)
    (proj / "generated").mkdir()
    (proj / "generated" / "client.py").write_text(BAD)
    (proj / "pyproject.toml").write_text('[tool.fastapi-lint]\nextend-exclude = ["generated"]\n')
    _git(proj, "init", "-q", env=env)
    _git(proj, "add", "-A", env=env)
    _git(proj, "commit", "-q", "-m", "init", env=env)
    return proj


def try_repo(hook_repo, project, hook, *files):
    repo, env = hook_repo
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(repo), hook, "--verbose",
                           "--files", *files], cwd=str(project), env=env, capture_output=True, text=True,
                          timeout=900)
    return proc.returncode, proc.stdout + proc.stderr


def test_hooks_file():
    import yaml

    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8") as fh:
        hooks = {h["id"]: h for h in yaml.safe_load(fh)}
    assert set(hooks) == {"fastapi-lint", "fastapi-lint-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["python", "pyi"]
        assert "--force-exclude" in hook["entry"].split()
        assert hook["require_serial"] is True  # the CLI runs its own process pool
    assert "--fix" in hooks["fastapi-lint-fix"]["entry"].split()
    assert "--fix" not in hooks["fastapi-lint"]["entry"].split()


@pytest.mark.parametrize("name", ["generated/client.py", "generated/deep/er.py", ".venv/lib/x.py"])
def test_force_exclude_applies_to_files_in_excluded_folders(tmp_path, run_cli, name):
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-lint]\nextend-exclude = ["generated"]\n')
    path = tmp_path / name
    path.parent.mkdir(parents=True)
    path.write_text(BAD)
    assert run_cli("check", "--no-cache", "--force-exclude", name)[0] == 0
    assert run_cli("check", "--no-cache", name)[0] == 1  # named explicitly without the flag: linted


@pytest.mark.slow
def test_check_hook_fails_on_bad_file_and_passes_on_good_one(hook_repo, project):
    status, out = try_repo(hook_repo, project, "fastapi-lint", "bad.py")
    assert status == 1, out
    assert "bad.py:5:5: FPI101" in out
    assert "Failed" in out
    status, out = try_repo(hook_repo, project, "fastapi-lint", "good.py")
    assert status == 0, out
    assert "Passed" in out
    # pre-commit names files itself: the project's excludes still apply (--force-exclude).
    status, out = try_repo(hook_repo, project, "fastapi-lint", "generated/client.py")
    assert status == 0, out
    assert (project / "bad.py").read_text() == BAD  # the check hook never writes


@pytest.mark.slow
def test_fix_hook_fixes_the_file(hook_repo, project):
    status, out = try_repo(hook_repo, project, "fastapi-lint-fix", "bad.py", "good.py")
    assert status == 1, out  # pre-commit fails a hook that modified files
    assert "files were modified by this hook" in out
    fixed = (project / "bad.py").read_text()
    assert "await asyncio.sleep(1)" in fixed and "import asyncio" in fixed
    assert (project / "good.py").read_text() == GOOD
    status, out = try_repo(hook_repo, project, "fastapi-lint-fix", "bad.py", "good.py")
    assert status == 0, out


def readme_precommit_config():
    import yaml

    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    section = readme[readme.index("### pre-commit"):]
    block = section[section.index("```yaml\n") + 8:]
    return yaml.safe_load(block[:block.index("```")])


def test_readme_snippet_names_our_hooks():
    import yaml

    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8") as fh:
        ids = {h["id"] for h in yaml.safe_load(fh)}
    repo, = readme_precommit_config()["repos"]
    assert {h["id"] for h in repo["hooks"]} <= ids and repo["rev"]


@pytest.mark.slow
def test_readme_snippet_with_pre_commit_run(hook_repo, project):
    """The README's .pre-commit-config.yaml, pointed at this repository, under `pre-commit run`."""
    import yaml

    repo_path, env = hook_repo
    config = readme_precommit_config()
    config["repos"][0]["repo"] = str(repo_path)
    config["repos"][0]["rev"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=str(repo_path), env=env,
                                               check=True, capture_output=True, text=True).stdout.strip()
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))

    def run(*files):
        proc = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--files", *files], cwd=str(project),
                              env=env, capture_output=True, text=True, timeout=900)
        return proc.returncode, proc.stdout + proc.stderr

    status, out = run("bad.py")
    assert status == 1 and "FPI101" in out, out
    status, out = run("good.py", "generated/client.py")
    assert status == 0, out

"""Every `vigil` command as a person first runs it, on a machine with nothing set up: no kubeconfig,
no AWS credentials, a home directory of its own. Each answers with one readable line on stderr
(what is wrong; what to do), never a traceback, and with the documented exit code
(vigil.workstation.exit_codes); `--debug` shows the traceback. Also: the codes are distinct and
documented in `vigil --help` and the README, and `vigil --version` is the package's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vigil.version import VERSION
from vigil.workstation import exit_codes
from vigil.workstation.exit_codes import CHANGES, ERROR, NOT_COMPLIANT, OK, USAGE

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = str(ROOT / "examples")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """An environment with no kubeconfig and no AWS credentials; botocore never waits on the
    instance metadata endpoint, and the one connection it may try is refused at once."""
    home = tmp_path_factory.mktemp("home")
    nothing = home / "nothing"
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=str(nothing),
               AWS_SHARED_CREDENTIALS_FILE=str(nothing), AWS_MAX_ATTEMPTS="1", PYTHONDONTWRITEBYTECODE="1")
    return env, home


def vigil(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vigil", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=60)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("args, code, said", [
    (["get"], ERROR, "error: no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist; set KUBECONFIG"),
    (["get", "orgtrails", "org-trail"], ERROR, "error: no kubeconfig"),
    (["get", "nonsense"], USAGE, "error: unknown kind 'nonsense'; use one of: organization (organizations, vorg), "),
    (["audit", "-f", EXAMPLES], ERROR, "error: no AWS credentials found; set AWS_PROFILE"),
    (["plan", "-f", EXAMPLES], ERROR, "error: no AWS credentials found; set AWS_PROFILE"),
    (["apply", "-f", EXAMPLES], ERROR, "error: no AWS credentials found; set AWS_PROFILE"),
    (["verify-trail", "--trail", "t", "--home-region", "us-east-1"], ERROR, "error: no AWS credentials found"),
    (["audit", "-f", "missing.yaml"], ERROR,
     "error: missing.yaml: no such file or directory; nothing was sent to AWS"),
    (["plan", "-f", "unparsable.yaml"], ERROR, "error: unparsable.yaml: not YAML: line 3, column 1: "),
    (["apply", "-f", "unknown-kind.yaml"], ERROR,
     "error: unknown-kind.yaml: Firewall edge: unknown kind; known kinds: Organization, "),
    (["audit", "-f", EXAMPLES, "--region", "mars-north-1x"], USAGE,
     "error: argument --region: 'mars-north-1x' is not an AWS region name"),
    (["verify-trail", "--trail", "t", "--home-region", "moon"], USAGE, "error: argument --home-region: 'moon' is not"),
    (["verify-trail", "--trail", "t", "--home-region", "us-east-1", "--regions", "us-east-1,nowhere"], USAGE,
     "error: argument --regions: 'nowhere' is not an AWS region name"),
    (["verify-trail", "--trail", "t", "--home-region", "us-east-1", "--lookback", "a day"], USAGE,
     "error: argument --lookback: 'a day' is not a duration"),
    (["crds", "--check", "--output", "crds", "--deploy", "deploy"], NOT_COMPLIANT, "stale generated files: crds/"),
    (["iam", "--check", "--output", "iam"], NOT_COMPLIANT, "stale generated files: iam/"),
    (["iam", "--organization-id", "o-x"], USAGE, "error: argument --organization-id: 'o-x' is not an AWS Organizations"),
    (["audit"], USAGE, "error: the following arguments are required: -f/--filename; see `vigil audit --help`"),
    (["frobnicate"], USAGE, "error: argument COMMAND: invalid choice: 'frobnicate'"),
    ([], USAGE, "error: the following arguments are required: COMMAND; see `vigil --help`"),
    (["get", "--no-such-flag"], USAGE, "error: unrecognized arguments: --no-such-flag"),
])
def test_each_command_on_a_bare_machine_says_what_to_do_in_one_line(clean, tmp_path: Path, args, code, said):
    env, _ = clean
    (tmp_path / "unparsable.yaml").write_text("apiVersion: vigil.dev/v1alpha1\nkind: {{\n")
    (tmp_path / "unknown-kind.yaml").write_text("apiVersion: vigil.dev/v1alpha1\nkind: Firewall\n"
                                                "metadata: {name: edge}\nspec: {}\n")
    result = vigil(env, tmp_path, *args)
    line = one_error_line(result)
    assert line.startswith(said), line
    assert result.returncode == code, result.stderr


def test_an_unreachable_aws_endpoint_is_no_verdict(clean, tmp_path: Path):
    env, _ = clean
    env = {**env, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    result = vigil(env, tmp_path, "audit", "-f", EXAMPLES, "-o", "json")
    assert one_error_line(result).startswith("error: EndpointUnreachable: The AWS endpoint http://127.0.0.1:1/ "
                                             "did not answer sts:GetCallerIdentity")
    assert result.returncode == ERROR


@pytest.mark.parametrize("kubeconfig, said", [
    ("nothing-here", "error: cannot use the kubeconfig nothing-here (ConfigException: "),
    ("unreachable", "error: the cluster did not answer (MaxRetryError); check that the kubeconfig's current context"),
])
def test_a_kubeconfig_that_cannot_be_used(clean, tmp_path: Path, kubeconfig, said):
    env, _ = clean
    (tmp_path / "unreachable").write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\n")
    result = vigil({**env, "KUBECONFIG": kubeconfig}, tmp_path, "get", "vtrail")
    assert one_error_line(result).startswith(said)
    assert result.returncode == ERROR


def test_debug_shows_the_traceback_and_keeps_the_exit_code(clean, tmp_path: Path):
    env, _ = clean
    result = vigil(env, tmp_path, "--debug", "get")
    assert "Traceback" in result.stderr and "ConfigException" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: no kubeconfig")
    assert result.returncode == ERROR
    after = vigil(env, tmp_path, "audit", "-f", "missing.yaml", "--debug")
    assert "Traceback" in after.stderr and after.returncode == ERROR


def test_version_is_the_packages(clean, tmp_path: Path):
    env, _ = clean
    result = vigil(env, tmp_path, "--version")
    assert (result.returncode, result.stdout.strip(), result.stderr) == (OK, f"vigil {VERSION}", "")


def test_crds_check_passes_on_fresh_files(clean, tmp_path: Path):
    env, _ = clean
    arguments = ["crds", "--output", "crds", "--deploy", "deploy"]
    assert vigil(env, tmp_path, *arguments).returncode == OK
    result = vigil(env, tmp_path, *arguments, "--check")
    assert (result.returncode, result.stderr) == (OK, "")


def test_the_codes_are_distinct_and_documented_in_help_and_readme(clean, tmp_path: Path):
    codes = {name: getattr(exit_codes, name) for name in ("OK", "NOT_COMPLIANT", "CHANGES", "ERROR", "USAGE")}
    assert codes == {"OK": 0, "NOT_COMPLIANT": 1, "CHANGES": 2, "ERROR": 3, "USAGE": 64}
    env, _ = clean
    for command in ([], ["audit"], ["plan"], ["verify-trail"]):
        shown = vigil(env, tmp_path, *command, "--help")
        assert shown.returncode == OK
        assert all(f"\n  {code} " in shown.stdout for code in codes.values()), shown.stdout
    readme = (ROOT / "README.md").read_text()
    assert all(f"| `{code}` |" in readme for code in codes.values())
    assert "docs/troubleshooting.md" in readme and (ROOT / "docs" / "troubleshooting.md").exists()
    assert CHANGES != USAGE  # argparse's own usage code (2) would read as "changes to make"

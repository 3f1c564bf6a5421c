"""The command line: exit status 0 / 1 / 2, one-line errors, JSON output."""

import json
import subprocess
import sys

import pytest

from symgrad.cli import main


def test_verify_all_cases_agree(capsys):
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert "tutorial_linear_bce" in out.splitlines()[1]
    assert "cases agree" in out


def test_verify_list_and_case(capsys):
    assert main(["verify", "--list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names[0] == "tutorial_linear_bce"
    assert main(["verify", "--case", "tutorial_jacobian"]) == 0
    assert "25x25" in capsys.readouterr().out


def test_verify_json(capsys):
    assert main(["verify", "--case", "tutorial_linear_bce", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["cases"][0]["name"] == "tutorial_linear_bce"


@pytest.mark.parametrize("argv", [["verify", "--case", "nope"], ["frobnicate"], [],
                                  ["verify", "--bogus"], ["rules", "--op", "nope"]])
def test_bad_usage_exits_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad: error:") and err.count("\n") == 1


def test_disagreement_exits_1(monkeypatch, capsys):
    from symgrad.ops import OPS

    op = OPS["sigmoid"]
    monkeypatch.setattr(op, "vjp", (lambda xp, g, ans, x: g * ans * (1 - ans) * 1.01,))
    assert main(["rules", "--op", "sigmoid"]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_rules_command(capsys):
    assert main(["rules", "--op", "exp", "--op", "mul"]) == 0
    out = capsys.readouterr().out
    assert "exp" in out and "proved" in out


def test_tutorial_replay(capsys):
    assert main(["tutorial"]) == 0
    out = capsys.readouterr().out
    assert "In [8]:" in out and "grad_fn=<PowBackward0>" in out
    assert "x[i]*(sigmoid(z[j]) - y[j])/3" in out


def test_python_dash_m():
    r = subprocess.run([sys.executable, "-m", "symgrad", "verify", "--list"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "tutorial_linear_bce" in r.stdout


def test_timeout_reports_what_finished(capsys):
    assert main(["verify", "--timeout", "0.05"]) == 1
    out = capsys.readouterr().out
    assert "timed out after 0.05s" in out and "did not run" in out


def test_timeout_must_be_positive(capsys):
    assert main(["verify", "--timeout", "0"]) == 2
    assert "positive" in capsys.readouterr().err


def test_ctrl_c_prints_the_partial_report():
    import signal
    import time

    # the command's main, entered only once the imports are done (a loaded machine can take
    # seconds to import SymPy; Ctrl-C there is Python's, before symgrad can answer)
    code = ("import sys; from symgrad.cli import main; print('ready', flush=True); "
            "sys.exit(main(['rules']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    time.sleep(1.0)   # into the rules (Ctrl-C before them is answered too, on stderr)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in out + err and "Traceback" not in err

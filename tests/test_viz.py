"""Graph pictures (``symgrad.viz``), ``verify --graph``, the progress bar and the HTML report."""

import html.parser
import json
import shutil
import subprocess
import sys

import pytest

import symgrad as sg
from symgrad import verify, viz
from symgrad.autograd.graph import Node
from symgrad.cli import main
from symgrad.nn import functional as F
from symgrad.ops import OPS
from symgrad.verify.localize import NodeFinding
from symgrad.verify.report import Report

BAR_MARKS = ("%|", "it/s", "case/s", "█", "\r")


def _wrong_sigmoid(mutate):
    mutate(OPS["sigmoid"], vjp=(lambda xp, g, ans, x: g * ans * (1 - ans) * (1 + 1e-10),))


def _svg(dot_text: str) -> str:
    """DOT text rendered by Graphviz: the Python package's ``Source``, else ``dot -Tsvg``.
    An empty string when no Graphviz program is installed (the parse check is skipped)."""
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        try:
            return graphviz.Source(dot_text).pipe(format="svg").decode()
        except graphviz.ExecutableNotFound:
            return ""
    if shutil.which("dot") is None:
        return ""
    proc = subprocess.run(["dot", "-Tsvg"], input=dot_text, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _node_lines(dot_text: str) -> list[tuple[str, str]]:
    """(label, node statement) for every node."""
    out = []
    for line in dot_text.splitlines():
        if "label=" in line and "->" not in line:
            out.append((line.split('label="', 1)[1].split('"', 1)[0], line))
    return out


def _red(dot_text: str) -> list[str]:
    return [label for label, line in _node_lines(dot_text) if "color=red" in line]


def _tutorial():
    sg.manual_seed(0)
    x, y = sg.ones(5), sg.zeros(3)
    w = sg.randn(5, 3, requires_grad=True)
    b = sg.randn(3, requires_grad=True)
    return x, y, w, b


# ================================================================ to_dot
def test_dot_has_ops_leaves_shapes_and_edges():
    x, y, w, b = _tutorial()
    z = sg.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    text = viz.to_dot(loss, names={"w": w, "b": b, "z": z})
    nodes = dict(_node_lines(text))
    assert {"w\\n(5, 3)", "b\\n(3,)", "z = AddBackward0\\n(3,)"} <= set(nodes)
    assert any("BinaryCrossEntropyWithLogitsBackward0\\n()" in k for k in nodes)
    assert text.count("->") == 4                 # w -> matmul -> add <- b, add -> loss
    assert "color=red" not in text
    svg = _svg(text)
    if svg:
        assert "AddBackward0" in svg and "BinaryCrossEntropyWithLogitsBackward0" in svg


def test_leaf_names_come_from_the_callers_variables():
    _, _, weights, bias = _tutorial()
    text = viz.to_dot((weights.sum() * bias).sum())
    assert '"weights\\n(5, 3)"' in text and '"bias\\n(3,)"' in text


def test_unnamed_leaves_are_numbered_like_the_mirrors_symbols():
    def build():
        a = sg.ones(2, requires_grad=True)
        return (a * sg.ones(2, requires_grad=True)).sum()

    text = viz.to_dot(build())
    assert '"p0\\n(2,)"' in text and '"p1\\n(2,)"' in text


def test_labels_are_escaped():
    w = sg.ones(2, requires_grad=True)
    odd = 'a "quoted"\\name\nnext'
    text = viz.to_dot((w * 2).sum(), names={odd: w})
    assert 'a \\"quoted\\"\\\\name\\nnext' in text
    svg = _svg(text)
    if svg:
        assert "a &quot;quoted&quot;\\name" in svg and ">next<" in svg


def test_long_chains_are_walked_without_recursion():
    x = sg.ones(3, requires_grad=True)
    y = x
    for _ in range(sys.getrecursionlimit() + 500):
        y = y * 1.0
    text = viz.to_dot(y)
    assert text.count("MulBackward0") == sys.getrecursionlimit() + 500


def test_tensors_without_a_graph_get_a_note_and_leaves_a_node():
    assert "no recorded graph" in viz.to_dot(sg.ones(2))
    w = sg.ones(2, requires_grad=True)
    assert '"w\\n(2,)"' in viz.to_dot(w)
    with pytest.raises(TypeError):
        viz.to_dot([1.0])


# ================================================================ findings drawn red
def test_a_failing_report_draws_the_named_node_red(mutate):
    _wrong_sigmoid(mutate)
    sg.manual_seed(0)
    x = sg.randn(4, 3)
    w = sg.randn(3, 2)
    rep = verify.check(lambda w: sg.sigmoid(x @ w).sum(), w)
    assert not rep.ok and rep.findings[0].node == "SigmoidBackward0"
    w.requires_grad_(True)
    text = viz.to_dot(sg.sigmoid(x @ w).sum(), report=rep)
    assert _red(text) == ["SigmoidBackward0\\n(4, 2)"]
    assert "tooltip=" in text and "VJP rule" in text
    svg = _svg(text)
    assert not svg or "SigmoidBackward0" in svg


def test_findings_match_by_name_when_the_graph_differs(mutate):
    _wrong_sigmoid(mutate)
    rep = verify.check(lambda a: sg.sigmoid(a).sum(), sg.tensor([0.3, -0.2]))
    assert [f.node for f in rep.findings] == ["SigmoidBackward0"]
    a = sg.tensor([0.1, 0.2], requires_grad=True)
    text = viz.to_dot((sg.sigmoid(a * 2) + sg.sigmoid(a)).sum(), report=rep)
    assert _red(text) == ["SigmoidBackward0\\n(2,)"] * 2


def test_a_finding_holding_the_node_itself_is_matched_by_identity():
    a = sg.tensor([0.1, 0.2], requires_grad=True)
    first, second = sg.exp(a), sg.exp(a * 2)
    out = (first + second).sum()
    finding = NodeFinding(node="ExpBackward0", op="exp", kind="rule", argument="x")
    finding.node = second.grad_fn
    assert isinstance(finding.node, Node)
    rep = Report(title="t", mode="m", findings=[finding])
    text = viz.to_dot(out, report=rep, names={"first": first, "second": second})
    nodes = dict(_node_lines(text))
    assert "color=red" in nodes["second = ExpBackward0\\n(2,)"]
    assert "color=red" not in nodes["first = ExpBackward0\\n(2,)"]


# ================================================================ render
def test_render_without_dot_writes_the_dot_file_and_says_how_to_get_svg(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    text = viz.to_dot((sg.ones(2, requires_grad=True) * 3).sum())
    with pytest.raises(RuntimeError) as e:
        viz.render(text, tmp_path / "sub" / "g.svg")
    msg = str(e.value)
    assert "Graphviz" in msg and "graphviz" in msg and str(tmp_path / "sub" / "g.dot") in msg
    assert (tmp_path / "sub" / "g.dot").read_text() == text
    assert not (tmp_path / "sub" / "g.svg").exists()


def test_render_with_dot(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz 'dot' program is not installed")
    text = viz.to_dot((sg.ones(2, requires_grad=True) * 3).sum())
    out = viz.render(text, tmp_path / "g")
    assert out == tmp_path / "g.svg" and "<svg" in out.read_text()
    assert (tmp_path / "g.dot").read_text() == text
    with pytest.raises(RuntimeError, match="g.dot"):
        viz.render("digraph { this is not dot", tmp_path / "g")
    with pytest.raises(ValueError):
        viz.render(text, tmp_path / "g", format="svg; rm -rf /")


# ================================================================ symgrad verify --graph
def test_verify_graph_writes_the_case_picture(tmp_path, capsys):
    d = tmp_path / "pictures"
    assert main(["verify", "--graph", str(d), "--case", "tutorial_linear_bce"]) == 0
    captured = capsys.readouterr()
    assert "tutorial_linear_bce" in captured.out
    text = (d / "tutorial_linear_bce.dot").read_text()
    assert "BinaryCrossEntropyWithLogitsBackward0" in text and '"w\\n(5, 3)"' in text
    assert "color=red" not in text
    if shutil.which("dot") is None:
        assert captured.err.count("\n") == 1 and "graphviz" in captured.err
    else:
        assert (d / "tutorial_linear_bce.svg").read_text().lstrip().startswith("<?xml")
        assert captured.err == ""


def test_verify_graph_without_dot_notes_it_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    names = ["tutorial_linear_bce", "tutorial_jacobian"]
    assert main(["verify", "--graph", str(tmp_path), "--case", names[0], "--case",
                 names[1]]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'graphviz'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.dot" for n in names)


def test_verify_graph_draws_a_disagreeing_node_red(tmp_path, capsys, mutate):
    add = OPS["add"]
    mutate(add, vjp=(lambda xp, g, ans, x, y, **kw: g * 1.01, add.vjp[1]))
    assert main(["verify", "--graph", str(tmp_path), "--case", "tutorial_linear_bce"]) == 1
    capsys.readouterr()
    text = (tmp_path / "tutorial_linear_bce.dot").read_text()
    assert _red(text) == ["z = AddBackward0\\n(3,)"]


def test_verify_graph_bad_directory_is_usage(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("")
    assert main(["verify", "--graph", str(f), "--case", "tutorial_jacobian"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad: error: --graph") and err.count("\n") == 1


# ================================================================ progress bar
def _pretend_terminal(monkeypatch):
    """Make the (captured) stderr claim to be a terminal, so a progress bar would be shown.
    Called in the test body: capsys swaps its stream between a fixture's setup and the test."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)


def test_progress_bar_on_a_terminal(capsys, monkeypatch):
    pytest.importorskip("tqdm")
    _pretend_terminal(monkeypatch)
    assert main(["verify", "--case", "tutorial_jacobian", "--case", "control_flow"]) == 0
    captured = capsys.readouterr()
    assert "verify" in captured.err and "/2" in captured.err
    assert not any(m in captured.out for m in BAR_MARKS if m != "\r")


def test_json_has_no_progress_bar(capsys, monkeypatch):
    _pretend_terminal(monkeypatch)
    assert main(["verify", "--case", "tutorial_jacobian", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["ok"] is True and data["cases"][0]["name"] == "tutorial_jacobian"
    assert not any(m in captured.out + captured.err for m in BAR_MARKS)
    assert main(["rules", "--op", "exp", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ok"] is True
    assert not any(m in captured.out + captured.err for m in BAR_MARKS)


def test_no_bar_when_not_a_terminal_or_without_tqdm(capsys, monkeypatch):
    assert main(["rules", "--op", "exp"]) == 0
    assert capsys.readouterr().err == ""
    _pretend_terminal(monkeypatch)
    monkeypatch.setitem(sys.modules, "tqdm", None)          # import tqdm -> ImportError
    assert main(["rules", "--op", "exp"]) == 0
    assert capsys.readouterr().err == ""


# ================================================================ the HTML report
class _Balance(html.parser.HTMLParser):
    """Checks that every element is closed, in order (void elements excepted)."""

    VOID = {"br", "hr", "img", "input", "meta", "link", "col", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unexpected </{tag}>")

    def handle_data(self, data):
        self.text.append(data)


def _failing_report(mutate) -> Report:
    _wrong_sigmoid(mutate)
    return verify.check(lambda a: sg.sigmoid(a).sum(), sg.tensor([0.3, -0.2]),
                        title="<sigmoid> & friends")


def test_html_report_is_well_formed(mutate):
    ok = verify.check(lambda a: (a * a).sum(), sg.tensor([1.0, 2.0]))
    for rep in (ok, _failing_report(mutate)):
        p = _Balance()
        p.feed(rep._repr_html_())
        p.close()
        assert not p.errors and not p.stack, (p.errors, p.stack)
        assert p.tags.count("table") == 1 and p.tags.count("tr") == len(rep.rows) + 1
        text = "".join(p.text)
        assert rep.title in text and ("OK" if rep.ok else "DISAGREES") in text
    assert "SigmoidBackward0" in text


def test_html_report_renders_in_a_browser(tmp_path, mutate):
    chromium = "/usr/bin/chromium"
    if shutil.which(chromium) is None:
        pytest.skip("chromium is not installed")
    rep = _failing_report(mutate)
    page = tmp_path / "report.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>r</title></head>"
                    f"<body>{rep._repr_html_()}</body></html>", encoding="utf-8")
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    dom = proc.stdout
    assert "<table>" in dom and "</tbody></table>" in dom
    assert dom.count("<tr>") == len(rep.rows) + 1 and "DISAGREES" in dom

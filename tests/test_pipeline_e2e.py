"""The embedded pipeline end to end: `dvc repro` in a fresh copy of the repo, then the Prefect deployment.

Runs on `configs/tiny.yaml` (the embedded world at its smallest). The copy is a new git repo holding the
tracked and not-ignored files, as a fresh clone would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lingualift_core.stages.run import STAGES

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.integration


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "DVC_NO_ANALYTICS": "1",
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "LINGUALIFT_PROGRESS": "lines"}
    env.update(extra)
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def _project_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                         capture_output=True, text=True, check=True)
    return [f for f in out.stdout.splitlines() if (REPO / f).is_file()]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh git repo with the project's files and the tiny profile applied to params.yaml."""
    root = tmp_path_factory.mktemp("pipeline")
    for rel in _project_files():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest)
    (root / "dvc.lock").unlink(missing_ok=True)
    _run(["lingualift", "profile", "configs/tiny.yaml"], root)  # the README's way to apply a profile
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    _run(["git", "init", "-q"], root)
    _run(["git", "add", "-A"], root)
    _run([*git, "commit", "-qm", "fresh clone"], root)
    return root


def _metrics(repo: Path, name: str) -> dict:
    return json.loads((repo / "data" / "metrics" / f"{name}.json").read_text())


def test_dvc_repro_builds_the_pipeline_and_second_run_is_a_no_op(repo: Path, tmp_path: Path) -> None:
    audit = tmp_path / "params_reads.jsonl"
    _run(["dvc", "repro"], repo, LINGUALIFT_PARAMS_AUDIT=str(audit))
    _check_params_reads(audit)
    for lang in ("en", "qaa", "qae"):
        assert (repo / "data" / "tokenized" / lang / "tokens.parquet").is_file()
        assert (repo / "data" / "tokenized" / lang / "run_meta.json").is_file()
    assert _metrics(repo, "vocab")["kept"] > 50
    lexicon = _metrics(repo, "lexicon")
    assert set(lexicon) == {f"en-{lang}" for lang in ("qaa", "qab", "qac", "qae")}
    assert all("p_at_1_csls" in m for m in lexicon.values())
    codeswitch = _metrics(repo, "codeswitch")
    # the code-switched English training questions join the corpus records
    assert 0 < codeswitch["task_question_records"] < codeswitch["stage1_records"]
    for stage in ("stage1", "stage2", "no_stage1", "mono_sft", "layout_sft"):
        assert (repo / "data" / "models" / stage / "run_meta.json").is_file(), stage
        assert (repo / "data" / "plots" / f"{stage}_loss.json").is_file(), stage
    evaluation = _metrics(repo, "evaluate")
    assert {"lingualift", "no_stage1", "mono_sft", "layout_only"} <= set(evaluation)
    gates = json.loads((repo / "data" / "metrics" / "evaluate_analysis.json").read_text())["gates"]
    assert {g["gate"] for g in gates} >= {"base LLM English dev accuracy", "base LLM copy accuracy"}
    assert (repo / "data" / "eval" / "report.md").is_file()
    summary = _run(["lingualift", "summary"], repo).stdout.splitlines()  # what `make run` ends with
    assert summary[0].startswith("math: accuracy in %") and summary[-1] == "report: data/eval/report.md"
    assert summary[1].split()[:4] == ["lang", "level", "layout_only", "lingualift"] and len(summary) >= 7
    # only the input check runs again (always); every stage is up to date
    assert _ran(_run(["dvc", "repro"], repo).stdout) == {"inputs"}


def _check_params_reads(audit: Path) -> None:
    """Every stage (every process of it) read only params keys it declares: what DVC reruns it for."""
    from dvc_deps import stage_params

    runs = [json.loads(line) for line in audit.read_text().splitlines()]
    assert {r["stage"] for r in runs} == set(STAGES)
    undeclared = {}
    for r in runs:
        declared = stage_params(r["stage"])
        if r["stage"] == "inputs":  # validates every key; runs every time
            continue
        extra = [k for k in r["reads"] if not any(k == d or k.startswith(d + ".") for d in declared)]
        if extra:
            undeclared.setdefault(r["stage"], set()).update(extra)
    assert not undeclared, undeclared


def test_editing_library_code_makes_exactly_its_stages_stale(repo: Path) -> None:
    """An edit to a project file makes exactly the stages whose code imports it stale (dvc.yaml's code deps)."""
    from dvc_deps import stages_importing

    for rel in ("lingualift_core/config.py", "lingualift_core/text/vocab.py", "lingualift_core/train/loop.py"):
        path = repo / rel
        text = path.read_text()
        try:
            path.write_text(text + "\n# an edit\n")
            status = json.loads(_run(["dvc", "status", "--json"], repo).stdout)
            stale = {name.split("@")[0] for name in status} - {"inputs"}  # inputs: always changed
            assert stale == stages_importing(REPO / rel) - {"inputs"}, (rel, sorted(stale))
        finally:
            path.write_text(text)
    assert set(json.loads(_run(["dvc", "status", "--json"], repo).stdout)) == {"inputs"}


def _ran(out: str) -> set[str]:
    return {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")}


def test_a_rerun_with_the_same_result_leaves_downstream_up_to_date(repo: Path) -> None:
    before = (repo / "data" / "models" / "stage1" / "run_meta.json").read_bytes()
    assert "Running stage 'stage1'" in _run(["dvc", "repro", "--force", "--single-item", "stage1"], repo).stdout
    # run_meta.json holds no timestamps or timings, so the same weights make the same output hash
    assert (repo / "data" / "models" / "stage1" / "run_meta.json").read_bytes() == before
    assert "run" in _metrics(repo, "stage1")  # the volatile facts went to the metrics file
    assert _ran(_run(["dvc", "repro"], repo).stdout) == {"inputs"}


def test_changing_a_tokenize_param_reruns_only_tokenization(repo: Path) -> None:
    params = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(params.replace("batch_size: 1000", "batch_size: 999"))
    out = _run(["dvc", "repro"], repo).stdout
    # codeswitch tags the English task questions with the tokenize stage's pipeline settings
    tokenize = {f"tokenize@{lang}" for lang in ("en", "qaa", "qab", "qac", "qae")}
    assert _ran(out) == {"inputs", "codeswitch"} | tokenize, out
    # the batch size does not change the tokens, so the outputs keep their hashes and nothing downstream reruns


def test_editing_a_params_named_input_reruns_exactly_its_stage(repo: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    bench = tmp_path / "bench.parquet"  # outside the project, named only in params.yaml
    table = pq.read_table(repo / "data" / "raw" / "benchmarks" / "math_test.parquet")
    pq.write_table(table.slice(0, 12), bench)
    params = (repo / "params.yaml").read_text()
    extra = (f"    external:\n      source: artifact\n      path: {bench}\n      layout_path: null\n"
             "      id_prefix: null\n      langs: null\n      max_per_lang: null\n")
    lines = params.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  benchmarks:")) + 1
    (repo / "params.yaml").write_text("".join(lines[:at]) + extra + "".join(lines[at:]))
    assert _ran(_run(["dvc", "repro"], repo).stdout) == {"inputs", "evaluate"}
    before = _metrics(repo, "evaluate")
    pq.write_table(table.slice(0, 6), bench)  # the file changes in place; params.yaml does not
    assert _ran(_run(["dvc", "repro"], repo).stdout) == {"inputs", "evaluate"}
    assert _metrics(repo, "evaluate") != before
    assert _ran(_run(["dvc", "repro"], repo).stdout) == {"inputs"}


def test_a_bad_param_is_one_line_and_keeps_every_output(repo: Path) -> None:
    params = (repo / "params.yaml").read_text()
    snapshot = {p: p.read_bytes() for p in (repo / "data" / "codeswitch").rglob("*") if p.is_file()}
    try:
        (repo / "params.yaml").write_text(params.replace("  ratio: ", "  ratoi: ", 1))
        out = subprocess.run(["dvc", "repro"], cwd=repo, env=_env(), capture_output=True, text=True, timeout=300)
        assert out.returncode != 0
        errors = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("lingualift: error:")]
        line = params[:params.index("  ratio: ")].count("\n") + 1
        assert errors == [f"lingualift: error: params.yaml:{line}:3: codeswitch.ratoi: unknown key; allowed keys "
                          f"of codeswitch: {errors[0].split('allowed keys of codeswitch: ')[1]}"], out.stderr
        assert "Traceback" not in out.stdout + out.stderr
        assert {p: p.read_bytes() for p in (repo / "data" / "codeswitch").rglob("*") if p.is_file()} == snapshot
    finally:
        (repo / "params.yaml").write_text(params)


def test_venv_dvc_works_without_the_venv_on_path(repo: Path) -> None:
    # the README's `.venv/bin/dvc repro`, from a shell whose PATH lacks the venv
    env = {**_env(), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(BIN / "dvc"), "repro", "inputs"], cwd=repo, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_deleted_output_is_rebuilt(repo: Path) -> None:
    shutil.rmtree(repo / "data" / "vocab")
    out = _run(["dvc", "repro"], repo).stdout
    # DVC restores it from its cache (same deps, params and code) instead of recomputing it
    assert "Stage 'vocab' is cached - skipping run, checking out outputs" in out, out
    assert (repo / "data" / "vocab" / "en.parquet").is_file()
    # without a cache to restore from, the stage runs again
    shutil.rmtree(repo / "data" / "vocab")
    shutil.rmtree(repo / ".dvc" / "cache")
    out = _run(["dvc", "repro", "vocab"], repo).stdout
    assert "Running stage 'vocab'" in out, out
    assert (repo / "data" / "vocab" / "run_meta.json").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"{what}: process {p.args} exited with {p.returncode}")
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_prefect_deployment_runs_the_pipeline(repo: Path, tmp_path: Path) -> None:
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = _env(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_API_URL=api)
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen] = []
    try:
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
            cwd=repo, env=env, stdout=(logs / "server.log").open("w"), stderr=subprocess.STDOUT)
        procs.append(server)

        def healthy() -> bool:
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(healthy, 120, "the Prefect server", procs)
        serve = subprocess.Popen([str(BIN / "lingualift"), "serve", "--root", str(repo)], cwd=repo, env=env,
                                 stdout=(logs / "serve.log").open("w"), stderr=subprocess.STDOUT)
        procs.append(serve)

        def deployed() -> bool:
            r = httpx.post(f"{api}/deployments/filter", json={}, timeout=5)
            return any(d["name"] == "full" for d in r.json())

        _wait(deployed, 120, "the deployment lingualift/full", procs)
        # vocab forced: real work in the run; everything else is checked (and found up to date) by DVC; the
        # override holds for this run only
        params_before = (repo / "params.yaml").read_bytes()
        run = subprocess.run(
            [str(BIN / "prefect"), "deployment", "run", "lingualift/full", "--param", "force=true",
             "--param", 'stages=["vocab"]', "--param", 'overrides={"tokenize.vocab_min_count": 2}',
             "--watch", "--watch-timeout", "600"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=700)
        assert run.returncode == 0, run.stdout + run.stderr + (logs / "serve.log").read_text()[-3000:]
        assert (repo / "params.yaml").read_bytes() == params_before
        vocab_meta = json.loads((repo / "data" / "vocab" / "run_meta.json").read_text())
        assert vocab_meta["config"]["tokenize"] == {"vocab_min_count": 2}
        runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=5).json()
        assert [r["state_type"] for r in runs] == ["COMPLETED"], runs
        tasks = httpx.post(f"{api}/task_runs/filter", json={}, timeout=5).json()
        assert {t["name"] for t in tasks} == {"vocab"}
        keys = {a["key"] for a in httpx.post(f"{api}/artifacts/filter", json={}, timeout=5).json()}
        assert {"vocab-progress", "vocab-metrics", "vocab-summary"} <= keys, keys
        logs_api = httpx.post(f"{api}/logs/filter", json={"limit": 200}, timeout=5).json()
        assert any("Running stage 'vocab'" in entry["message"] for entry in logs_api)
        # `serve` stops within seconds on SIGTERM, also when the Prefect server is already gone
        server.terminate()
        server.wait(timeout=30)
        start = time.monotonic()
        serve.terminate()
        serve.wait(timeout=30)
        assert time.monotonic() - start < 10, (logs / "serve.log").read_text()[-2000:]
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()

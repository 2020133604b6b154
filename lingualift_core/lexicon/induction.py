"""Cross-lingual mapping en -> X: normalisation, initialisations, Procrustes refinement, model selection.

Methods of `induce`:

- ``"unsupervised"`` (default): runs the initialisations listed in ``inits`` (adversarial and robust), refines
  each with Procrustes iterations, and keeps the mapping with the best unsupervised selection criterion
  (`criterion`). Which of them run is the ``init_policy``: ``"fallback"`` (default) runs the robust
  initialisation first and the adversarial one only when the refined robust mapping scores below
  ``adversarial_if_below`` (adversarial training took 392 of the 544 s of the 200k x 300 benchmark, whose
  robust mapping was already exact); ``"all"`` runs every listed initialisation (the earlier behaviour). The
  decision and every criterion are logged and kept in `InductionResult.init_decision`;
- ``"adversarial"``: MUSE (Conneau et al., ICLR 2018, "Word translation without parallel data"):
  a discriminator learns to tell mapped source vectors from target vectors, the linear map W learns to fool
  it while kept near-orthogonal, then Procrustes refinement;
- ``"robust"``: the VecMap unsupervised initialisation (Artetxe et al., ACL 2018, "A robust self-learning
  method for fully unsupervised cross-lingual mappings"): the sorted similarity distributions of the most
  frequent words are language-independent up to noise, so nearest neighbours among them give an initial
  dictionary; then Procrustes refinement. Deterministic, and it works on distant pairs where the adversarial
  step fails;
- ``"procrustes"``: supervised, Procrustes on a given seed dictionary (e.g. MUSE's 0-5000 train split), an
  upper bound for the unsupervised methods; optional refinement iterations (``n_refinement``, default 0 here).

Refinement (MUSE's ``build_dictionary`` + ``procrustes``): map, unit-normalise, build the synthetic dictionary
of mutual nearest neighbours under CSLS (k = ``csls_k``) among the ``refine_max_rank`` most frequent words of
each language (MUSE: dico_method csls_knn_10, dico_build S2T&T2S, dico_max_rank 15000), solve the orthogonal
Procrustes problem W = U V^T for U S V^T = svd(B^T A), repeat up to ``n_refinement`` times (MUSE: 5) until
it converges (see `InductionConfig`).

Selection criterion (MUSE's VALIDATION_METRIC ``mean_cosine-csls_knn_10-S2T-10000``): the mean cosine between
the ``criterion_words`` (10 000) most frequent source words and their CSLS translations. It needs no
dictionary; every adversarial epoch and every refinement iteration is scored and the best mapping is kept.

Deviations from MUSE, for a 2-core CPU and small vocabularies (all documented in `InductionConfig`):
CSLS neighbourhoods inside refinement and the criterion are computed within the restricted top-rank sets (MUSE
computes them over the whole 200k vocabulary and then drops pairs beyond the rank limit); every rank limit is
clamped to the vocabulary sizes (MUSE asserts ``dis_most_frequent`` <= vocabulary size and crashes below 75k
words); the adversarial epoch is much shorter by default (MUSE: 5 epochs of 1M samples, hours on a CPU);
the discriminator uses a numerically stable BCE-with-logits instead of sigmoid + BCE (same loss).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lingualift_core.threads import torch_threads

from .embeddings import Embeddings, _check_pair
from .errors import LexiconError
from .knn import as_f32, csls_mutual, csls_search, blas_threads, limit_threads, mean_topk_sim, unit_rows

log = logging.getLogger(__name__)

METHODS = ("unsupervised", "adversarial", "robust", "procrustes")
#: `InductionConfig.init_policy` values.
INIT_POLICIES = ("fallback", "all")
NORMALIZE_DEFAULT = "renorm,center,renorm"
#: Smallest vocabulary induction accepts (see `min_vocabulary`).
MIN_WORDS = 20


def min_vocabulary(csls_k: int) -> int:
    """Fewest words per language induction accepts: CSLS averages over `csls_k` neighbours and the mapping
    needs many more anchor words than that to mean anything."""
    return max(MIN_WORDS, int(csls_k) + 1)


@dataclass(frozen=True)
class AdversarialConfig:
    """MUSE adversarial training; defaults are MUSE's (unsupervised.py) except where noted.

    MUSE: n_epochs 5, epoch_size 1 000 000 samples, batch_size 32, map_optimizer/dis_optimizer "sgd,lr=0.1",
    lr_decay 0.98, min_lr 1e-6, lr_shrink 0.5, dis_layers 2, dis_hid_dim 2048, dis_dropout 0,
    dis_input_dropout 0.1, dis_steps 5, dis_lambda 1, dis_most_frequent 75000, dis_smooth 0.1, map_beta 0.001,
    map_id_init True (`AdversarialConfig.muse()` returns exactly these).

    epochs 0 skips the adversarial training: the "adversarial" initialisation is then the identity map.

    CPU defaults here: dis_hid_dim 512 (not 2048), epochs 3 (not 5), epoch_size 32 000 samples (not 1M). On a
    2-core CPU one MUSE iteration (5 discriminator steps + 1 mapping step, 300-dim, 2048 hidden units) takes
    ~0.35 s, so MUSE's schedule (5 x 31 250 iterations) would take ~15 hours per language pair; these defaults
    take ~2-3 minutes. The adversarial step is an initialisation candidate only: the selection criterion
    decides between it and the robust initialisation.
    threads: torch threads for the discriminator/mapping steps (None: the induction's setting). Default 1:
    these small-batch steps were 4x faster single-threaded than with 2 threads on a shared 2-core CPU.
    """

    epochs: int = 3
    epoch_size: int = 32_000
    batch_size: int = 32
    lr: float = 0.1
    lr_decay: float = 0.98
    min_lr: float = 1e-6
    lr_shrink: float = 0.5
    dis_layers: int = 2
    dis_hid_dim: int = 512
    dis_dropout: float = 0.0
    dis_input_dropout: float = 0.1
    dis_steps: int = 5
    dis_lambda: float = 1.0
    dis_most_frequent: int = 75_000
    dis_smooth: float = 0.1
    map_beta: float = 0.001
    threads: int | None = 1

    @classmethod
    def muse(cls) -> "AdversarialConfig":
        """MUSE's published defaults (unsupervised.py): hours per language pair on a CPU."""
        return cls(epochs=5, epoch_size=1_000_000, dis_hid_dim=2048, threads=None)

    def validate(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise LexiconError(f"adversarial: threads must be >= 1, got {self.threads}")
        if self.epochs < 0:
            raise LexiconError(f"adversarial: epochs must be >= 0 (0: start refinement from the identity), got {self.epochs}")
        if self.epoch_size < 1 or self.batch_size < 1 or self.dis_steps < 1:
            raise LexiconError("adversarial: epoch_size, batch_size and dis_steps must be >= 1")
        if not 0 <= self.dis_dropout < 1 or not 0 <= self.dis_input_dropout < 1:
            raise LexiconError("adversarial: dropouts must be in [0, 1)")
        if not 0 <= self.dis_smooth < 0.5:
            raise LexiconError("adversarial: dis_smooth must be in [0, 0.5)")
        if not 0 < self.lr_shrink <= 1 or self.lr <= 0 or self.dis_lambda <= 0:
            raise LexiconError("adversarial: need lr > 0, dis_lambda > 0 and 0 < lr_shrink <= 1")
        if self.dis_hid_dim < 1 or self.dis_layers < 0:
            raise LexiconError("adversarial: dis_hid_dim must be >= 1 and dis_layers >= 0")


@dataclass(frozen=True)
class InductionConfig:
    """Settings of `induce`. Rank limits are clamped to the vocabulary sizes.

    normalize: comma-separated steps applied to both languages before anything else: ``renorm`` (unit
        length), ``center`` (subtract the mean vector); ``""``/``"none"`` for none. MUSE's default is none;
        ``renorm,center,renorm`` is VecMap's recommendation and the default here.
    csls_k: CSLS neighbourhood size (MUSE: 10).
    n_refinement: at most this many Procrustes refinement iterations after each unsupervised initialisation
        (MUSE: 5, fixed). Refinement stops earlier when the synthetic dictionary stops changing or, from the
        second iteration on, the criterion improves by less than ``refine_tol`` (VecMap also iterates to
        convergence). From a noisy robust initialisation 5 iterations are far from converged: on the toy
        world's en-qaa pair P@1 went from 0.12 after 5 iterations to 0.46 after 15.
    refine_max_rank: refinement dictionaries use the most frequent words of each side (MUSE dico_max_rank 15000).
    criterion_words: source words of the selection criterion (MUSE: 10000, targets limited to the same rank).
    robust_vocab: most frequent words whose similarity profiles seed the robust init (VecMap: 4000).
    robust_csls: apply CSLS to the profile similarities (VecMap: yes, k = csls_k).
    inits: for ``method="unsupervised"``, which initialisations may run (both by default); see `init_policy`.
    init_policy: for ``method="unsupervised"`` with both inits listed: ``"fallback"`` (default) runs the robust
        initialisation (+ refinement) first and the adversarial one (+ refinement) only when the robust
        criterion is below `adversarial_if_below`, then keeps the better by criterion; ``"all"`` runs every
        listed init in the listed order and keeps the best (the behaviour before `init_policy` existed). With a
        single init listed both policies run just that one.
    adversarial_if_below: the fallback threshold on the refined robust mapping's criterion (mean cosine of
        CSLS translations, see `criterion`). Default 0.7, from measured values (renorm,center,renorm
        normalisation): successful robust mappings scored 0.96 (200k x 300 synthetic pair), 0.82 (fastText
        en-en from two disjoint halves of WMT news text, P@1 0.50 = supervised) and 0.81-0.83 on the toy
        world's high/medium pairs, the failed robust mapping of its low-resource pair (P@1 0.11) scored 0.66,
        random rotations ~0.30. On the toy world (pairs en-qaa/qab/qac/qae) fallback gave P@1 (CSLS) 0.76 /
        0.76 / 0.79 / 0.50, "all" 0.82 / 0.76 / 0.56 / 0.50, robust alone 0.76 / 0.76 / 0.79 / 0.11. The
        criterion also rates some failed mappings highly (a failed adversarial en-en mapping scored 0.77 at
        P@1 0.0; undertrained fastText spaces score ~0.98), so it cannot confirm success; the threshold only
        decides when the adversarial init is worth its time. Values > 1 always run it, values <= -1 never do.
    seed: seeds the adversarial training (the robust path is deterministic).
    threads: faiss/torch/BLAS threads (None: leave the process settings).
    """

    method: str = "unsupervised"
    normalize: str = NORMALIZE_DEFAULT
    csls_k: int = 10
    n_refinement: int = 30
    refine_tol: float = 5e-3
    refine_max_rank: int = 15_000
    criterion_words: int = 10_000
    robust_vocab: int = 4_000
    robust_csls: bool = True
    inits: tuple[str, ...] = ("adversarial", "robust")
    init_policy: str = "fallback"
    adversarial_if_below: float = 0.7
    procrustes_refinement: int = 0
    seed: int = 0
    threads: int | None = None
    adversarial: AdversarialConfig = field(default_factory=AdversarialConfig)

    def validate(self) -> None:
        if self.method not in METHODS:
            extra = " (method 'dictionary' has no mapping: use lexicon_from_dictionary)" if self.method == "dictionary" else ""
            raise LexiconError(f"unknown induction method {self.method!r}, expected one of {METHODS}{extra}")
        parse_normalize(self.normalize)
        if self.csls_k < 1:
            raise LexiconError(f"csls_k must be >= 1, got {self.csls_k}")
        if self.n_refinement < 0 or self.procrustes_refinement < 0:
            raise LexiconError("refinement iteration counts must be >= 0")
        if self.refine_tol < 0:
            raise LexiconError(f"refine_tol must be >= 0, got {self.refine_tol}")
        for key in ("refine_max_rank", "criterion_words", "robust_vocab"):
            if getattr(self, key) < 2:
                raise LexiconError(f"{key} must be >= 2, got {getattr(self, key)}")
        bad = set(self.inits) - {"adversarial", "robust"}
        if bad or not self.inits:
            raise LexiconError(f"inits must be a non-empty subset of ('adversarial', 'robust'), got {self.inits}")
        if self.init_policy not in INIT_POLICIES:
            raise LexiconError(f"init_policy must be one of {INIT_POLICIES}, got {self.init_policy!r}")
        if not np.isfinite(self.adversarial_if_below):
            raise LexiconError(f"adversarial_if_below must be a finite number, got {self.adversarial_if_below}")
        self.adversarial.validate()


@dataclass(frozen=True)
class InductionResult:
    """A mapping of normalised source vectors into the normalised target space: mapped = x @ W.T.

    selection_score: the unsupervised criterion of the chosen mapping; method_chosen: which path produced it
    (``adversarial``/``robust``/``procrustes``); history: one dict per scored step (init, stage, step,
    criterion, dictionary size, seconds); init_scores: best criterion per initialisation that ran.
    init_decision: how the initialisations were chosen: ``policy``, ``adversarial_if_below``, ``ran`` (in
    order), ``skipped`` (init -> reason), ``criteria`` (init -> best criterion, None when skipped),
    ``seconds`` (init -> wall time of init + refinement), ``chosen``.
    """

    W: np.ndarray
    selection_score: float
    method_chosen: str
    history: list[dict[str, Any]]
    normalize: str
    csls_k: int
    init_scores: dict[str, float]
    config: dict[str, Any]
    init_decision: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ primitives


def parse_normalize(spec: str | None) -> list[str]:
    steps = [s.strip() for s in (spec or "").split(",") if s.strip() and s.strip() != "none"]
    bad = [s for s in steps if s not in ("renorm", "center")]
    if bad:
        raise LexiconError(f"unknown normalisation step(s) {bad} in {spec!r}; use 'renorm' and 'center'")
    return steps


def normalize_vectors(x: np.ndarray, spec: str | None = NORMALIZE_DEFAULT) -> np.ndarray:
    """Apply normalisation steps (e.g. ``"renorm,center,renorm"``) to a copy of `x` (float32)."""
    x = np.array(x, dtype=np.float32, copy=True)
    for step in parse_normalize(spec):
        if step == "renorm":
            norms = np.linalg.norm(x, axis=1, keepdims=True)
            np.maximum(norms, 1e-12, out=norms)
            x /= norms
        else:
            x -= x.mean(axis=0, dtype=np.float64).astype(np.float32)
    return x


def procrustes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Orthogonal W minimising ||a W^T - b||_F: W = U V^T with U S V^T = svd(b^T a)."""
    m = b.astype(np.float64).T @ a.astype(np.float64)
    with blas_threads(1):
        u, _, vt = np.linalg.svd(m)
    return (u @ vt).astype(np.float32)


def map_unit(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Unit rows of x @ W^T."""
    return unit_rows(as_f32(x) @ as_f32(w).T)


def csls_translations(
    xs: np.ndarray, zt: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSLS top-1 both ways between unit rows: (s2t, t2s, r_src, r_tgt) (`knn.csls_mutual`, exact)."""
    return csls_mutual(xs, zt, k)


def mutual_nn_dictionary(xs: np.ndarray, zt: np.ndarray, k: int) -> np.ndarray:
    """(n, 2) pairs (src row, tgt row) that are each other's CSLS nearest neighbour (MUSE S2T&T2S)."""
    s2t, t2s, _, _ = csls_translations(xs, zt, k)
    src = np.arange(len(xs))
    keep = t2s[s2t] == src
    return np.stack([src[keep], s2t[keep]], axis=1)


def criterion(xs_norm: np.ndarray, zt_norm: np.ndarray, w: np.ndarray, *, words: int = 10_000, csls_k: int = 10) -> float:
    """MUSE's unsupervised selection criterion: mean cosine of the CSLS translations of the `words` most
    frequent source words (targets restricted to the same rank), for normalised inputs and mapping `w`."""
    n_s = min(words, len(xs_norm))
    n_t = min(words, len(zt_norm))
    xs = map_unit(xs_norm[:n_s], w)
    zt = unit_rows(zt_norm[:n_t])
    r_tgt = mean_topk_sim(zt, xs, csls_k)
    _, s2t = csls_search(xs, zt, r_tgt, 1)
    cos = np.einsum("ij,ij->i", xs, zt[s2t[:, 0]])
    return float(cos.mean(dtype=np.float64))


# ------------------------------------------------------------------------------------- initialisations


def robust_init_dictionary(xs_norm: np.ndarray, zt_norm: np.ndarray, *, vocab: int = 4000, csls_k: int = 10, use_csls: bool = True) -> np.ndarray:
    """VecMap unsupervised initial dictionary among the `vocab` most frequent words of each side.

    For each language: sqrt of the similarity matrix of the top words (U S U^T for X = U S V^T), each row
    sorted, rows normalised (unit, center, unit); then nearest neighbours between the two profile sets (CSLS
    if `use_csls`), both directions (VecMap's "union"). Returns (n, 2) row pairs.
    """
    n = min(vocab, len(xs_norm), len(zt_norm))

    def profiles(x: np.ndarray) -> np.ndarray:
        # U S U^T = X (X^T X)^(-1/2) X^T: a d x d eigendecomposition instead of an n x d SVD.
        xf = as_f32(x[:n])
        gram = xf.astype(np.float64).T @ xf.astype(np.float64)
        with blas_threads(1):
            lam, v = np.linalg.eigh(gram)
        keep = lam > lam.max() * 1e-10
        inv_sqrt = np.where(keep, 1.0 / np.sqrt(np.where(keep, lam, 1.0)), 0.0)
        m = ((v * inv_sqrt) @ v.T).astype(np.float32)
        sim = (xf @ m) @ xf.T
        sim.sort(axis=1)
        return normalize_vectors(sim, "renorm,center,renorm")

    px = profiles(xs_norm)
    pz = profiles(zt_norm)
    if use_csls:
        s2t, t2s, _, _ = csls_translations(px, pz, csls_k)
    else:
        from .knn import knn_ip

        s2t = knn_ip(px, pz, 1)[1][:, 0]
        t2s = knn_ip(pz, px, 1)[1][:, 0]
    ids = np.arange(n)
    return np.concatenate([np.stack([ids, s2t], 1), np.stack([t2s, ids], 1)])


class _Discriminator(nn.Module):
    def __init__(self, dim: int, cfg: AdversarialConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Dropout(cfg.dis_input_dropout)]
        for i in range(cfg.dis_layers + 1):
            d_in = dim if i == 0 else cfg.dis_hid_dim
            d_out = 1 if i == cfg.dis_layers else cfg.dis_hid_dim
            layers.append(nn.Linear(d_in, d_out))
            if i < cfg.dis_layers:
                layers.append(nn.LeakyReLU(0.2))
                layers.append(nn.Dropout(cfg.dis_dropout))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # logits
        return self.net(x).squeeze(1)


def _adversarial_epoch(
    cfg: AdversarialConfig,
    dis: _Discriminator,
    mapping: nn.Linear,
    opt_dis: torch.optim.Optimizer,
    opt_map: torch.optim.Optimizer,
    batch: Any,
    y: torch.Tensor,
    dis_losses: list[float],
) -> None:
    """One MUSE epoch: per iteration, dis_steps discriminator steps, then one mapping (fooling) step followed
    by the orthogonalisation W <- (1 + beta) W - beta (W W^T) W."""
    for _ in range(0, cfg.epoch_size, cfg.batch_size):
        dis.train()
        for _ in range(cfg.dis_steps):
            loss = F.binary_cross_entropy_with_logits(dis(batch(False)), y)
            opt_dis.zero_grad()
            loss.backward()
            opt_dis.step()
            dis_losses.append(float(loss.detach()))
        dis.eval()
        loss = cfg.dis_lambda * F.binary_cross_entropy_with_logits(dis(batch(True)), 1 - y)
        opt_map.zero_grad()
        loss.backward()
        opt_map.step()
        if cfg.map_beta > 0:
            with torch.no_grad():
                w = mapping.weight
                w.copy_((1 + cfg.map_beta) * w - cfg.map_beta * w.mm(w.t().mm(w)))


def adversarial_init(
    xs_norm: np.ndarray,
    zt_norm: np.ndarray,
    cfg: AdversarialConfig,
    *,
    seed: int,
    score: Any,
    history: list[dict[str, Any]],
) -> tuple[np.ndarray, float]:
    """MUSE adversarial training of W (identity init); returns the best W by `score(W)` over epochs.
    With ``epochs=0`` nothing is trained: the identity map is returned (MUSE with --adversarial False)."""
    dim = xs_norm.shape[1]
    if cfg.epochs == 0:
        eye = np.eye(dim, dtype=np.float32)
        metric = score(eye)
        history.append({"init": "adversarial", "stage": "identity", "step": 0, "criterion": metric, "seconds": 0.0})
        return eye, float(metric)
    mf_s = min(cfg.dis_most_frequent, len(xs_norm)) if cfg.dis_most_frequent > 0 else len(xs_norm)
    mf_t = min(cfg.dis_most_frequent, len(zt_norm)) if cfg.dis_most_frequent > 0 else len(zt_norm)
    bs = cfg.batch_size
    best_w, best = np.eye(dim, dtype=np.float32), -np.inf
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        x_src = torch.from_numpy(np.array(xs_norm[:mf_s], dtype=np.float32))
        x_tgt = torch.from_numpy(np.array(zt_norm[:mf_t], dtype=np.float32))
        mapping = nn.Linear(dim, dim, bias=False)
        with torch.no_grad():
            mapping.weight.copy_(torch.eye(dim))
        dis = _Discriminator(dim, cfg)
        opt_map = torch.optim.SGD(mapping.parameters(), lr=cfg.lr)
        opt_dis = torch.optim.SGD(dis.parameters(), lr=cfg.lr)
        y = torch.cat([torch.full((bs,), 1 - cfg.dis_smooth), torch.full((bs,), cfg.dis_smooth)])
        best_epoch_metric, decrease_lr = -np.inf, False

        def batch(with_grad: bool) -> torch.Tensor:
            si = torch.randint(mf_s, (bs,), generator=gen)
            ti = torch.randint(mf_t, (bs,), generator=gen)
            if with_grad:
                src = mapping(x_src[si])
            else:
                with torch.no_grad():
                    src = mapping(x_src[si])
            return torch.cat([src, x_tgt[ti]])

        for epoch in range(cfg.epochs):
            t0 = time.perf_counter()
            dis_losses: list[float] = []
            with torch_threads(cfg.threads):
                _adversarial_epoch(cfg, dis, mapping, opt_dis, opt_map, batch, y, dis_losses)
            w_np = mapping.weight.detach().numpy().astype(np.float32, copy=True)
            metric = score(w_np)
            history.append(
                {
                    "init": "adversarial",
                    "stage": "adversarial",
                    "step": epoch,
                    "criterion": metric,
                    "dis_loss": float(np.mean(dis_losses)) if dis_losses else None,
                    "lr": opt_map.param_groups[0]["lr"],
                    "seconds": time.perf_counter() - t0,
                }
            )
            log.info("adversarial epoch %d: criterion %.5f, discriminator loss %.4f", epoch, metric, history[-1]["dis_loss"] or 0.0)
            if metric > best:
                best, best_w = metric, w_np
            # MUSE update_lr: decay every epoch; shrink when the metric drops below the best (second time on).
            lr = max(cfg.min_lr, opt_map.param_groups[0]["lr"] * cfg.lr_decay)
            opt_map.param_groups[0]["lr"] = lr
            if cfg.lr_shrink < 1 and metric < best_epoch_metric:
                if decrease_lr:
                    opt_map.param_groups[0]["lr"] *= cfg.lr_shrink
                decrease_lr = True
            best_epoch_metric = max(best_epoch_metric, metric)
            if opt_map.param_groups[0]["lr"] < cfg.min_lr:
                break
    return best_w, float(best)


# ------------------------------------------------------------------------------------------- refinement


def refine(
    xs_norm: np.ndarray,
    zt_norm: np.ndarray,
    w: np.ndarray,
    *,
    iterations: int,
    max_rank: int,
    csls_k: int,
    score: Any,
    history: list[dict[str, Any]],
    init: str,
    start_score: float | None = None,
    tol: float = 0.0,
) -> tuple[np.ndarray, float]:
    """Procrustes refinement on mutual CSLS nearest neighbours; returns the best (W, criterion) seen,
    the starting W included. Stops early when the synthetic dictionary no longer changes or, after the first
    iteration, the criterion rises by less than `tol`."""
    n_s = min(max_rank, len(xs_norm))
    n_t = min(max_rank, len(zt_norm))
    a_all = xs_norm[:n_s]
    zt = unit_rows(zt_norm[:n_t])
    best_w, best = w, (score(w) if start_score is None else start_score)
    prev: np.ndarray | None = None
    prev_metric = -np.inf
    for it in range(iterations):
        t0 = time.perf_counter()
        pairs = mutual_nn_dictionary(map_unit(a_all, w), zt, csls_k)
        if len(pairs) == 0:
            log.warning("refinement (%s) iteration %d: empty synthetic dictionary, stopping", init, it)
            break
        w = procrustes(a_all[pairs[:, 0]], zt_norm[pairs[:, 1]])
        metric = score(w)
        history.append(
            {
                "init": init,
                "stage": "refinement",
                "step": it,
                "criterion": metric,
                "dictionary_size": int(len(pairs)),
                "seconds": time.perf_counter() - t0,
            }
        )
        log.info("refinement (%s) iteration %d: %d pairs, criterion %.5f", init, it, len(pairs), metric)
        if metric > best:
            best, best_w = metric, w
        # pairs come sorted by source row (one target each): equal arrays <=> equal dictionaries
        if (prev is not None and np.array_equal(pairs, prev)) or (it > 0 and metric - prev_metric < tol):
            break
        prev, prev_metric = pairs, metric
    return best_w, float(best)


# ------------------------------------------------------------------------------------------------ induce


def _check_vocab(emb: Embeddings, csls_k: int) -> None:
    need = min_vocabulary(csls_k)
    if len(emb) < need:
        raise LexiconError(
            f"{emb.name} has {len(emb)} words; lexicon induction needs at least {need} "
            f"(CSLS averages over {csls_k} nearest neighbours and the mapping needs many more anchor words)"
        )


def resolve_config(config: InductionConfig | None, overrides: dict[str, Any]) -> InductionConfig:
    cfg = config or InductionConfig()
    if overrides:
        names = {f.name for f in fields(InductionConfig)}
        unknown = set(overrides) - names
        if unknown:
            raise LexiconError(f"unknown induction option(s) {sorted(unknown)}")
        if isinstance(overrides.get("adversarial"), dict):
            overrides = {**overrides, "adversarial": replace(cfg.adversarial, **overrides["adversarial"])}
        if isinstance(overrides.get("inits"), (list, str)):
            inits = overrides["inits"]
            overrides = {**overrides, "inits": (inits,) if isinstance(inits, str) else tuple(inits)}
        cfg = replace(cfg, **overrides)
    cfg.validate()
    return cfg


def dictionary_rows(
    src: Embeddings, tgt: Embeddings, pairs: Iterable[tuple[str, str]]
) -> np.ndarray:
    """(n, 2) row pairs for the dictionary pairs whose two words are in the vocabularies."""
    rows = [(src.index[s], tgt.index[t]) for s, t in pairs if s in src.index and t in tgt.index]
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def induce(
    src: Embeddings,
    tgt: Embeddings,
    *,
    config: InductionConfig | None = None,
    seed_dictionary: Sequence[tuple[str, str]] | None = None,
    **overrides: Any,
) -> InductionResult:
    """Learn the mapping src -> tgt. Options: `InductionConfig` fields, as `config` and/or keywords
    (``method="robust"``, ``adversarial={"epochs": 2}``, ...). ``method="procrustes"`` needs `seed_dictionary`
    (pairs of words, e.g. `load_muse_dictionary`)."""
    cfg = resolve_config(config, overrides)
    _check_pair(src, tgt)
    _check_vocab(src, cfg.csls_k)
    _check_vocab(tgt, cfg.csls_k)
    history: list[dict[str, Any]] = []
    init_scores: dict[str, float] = {}
    decision: dict[str, Any] = {}
    with limit_threads(cfg.threads):
        xs = normalize_vectors(src.vectors, cfg.normalize)
        zt = normalize_vectors(tgt.vectors, cfg.normalize)

        def score(w: np.ndarray) -> float:
            return criterion(xs, zt, w, words=cfg.criterion_words, csls_k=cfg.csls_k)

        candidates: dict[str, tuple[np.ndarray, float]] = {}
        if cfg.method == "procrustes":
            if seed_dictionary is None:
                raise LexiconError("method 'procrustes' needs a seed_dictionary (list of (src, tgt) word pairs)")
            rows = dictionary_rows(src, tgt, seed_dictionary)
            if len(rows) < 2:
                raise LexiconError(
                    f"seed dictionary has {len(rows)} pairs with both words in the vocabularies; Procrustes needs at least 2"
                )
            t0 = time.perf_counter()
            decision.update(policy="procrustes", ran=["procrustes"], skipped={}, seconds={})
            w = procrustes(xs[rows[:, 0]], zt[rows[:, 1]])
            metric = score(w)
            history.append({"init": "procrustes", "stage": "procrustes", "step": 0, "criterion": metric,
                            "dictionary_size": int(len(rows)), "seconds": time.perf_counter() - t0})
            candidates["procrustes"] = refine(
                xs, zt, w, iterations=cfg.procrustes_refinement, max_rank=cfg.refine_max_rank,
                csls_k=cfg.csls_k, score=score, history=history, init="procrustes", start_score=metric,
                tol=cfg.refine_tol,
            )
        else:
            inits = cfg.inits if cfg.method == "unsupervised" else (cfg.method,)
            policy = cfg.init_policy if cfg.method == "unsupervised" else "all"
            decision.update(policy=policy, adversarial_if_below=cfg.adversarial_if_below)

            def run_init(init: str) -> None:
                t0 = time.perf_counter()
                if init == "adversarial":
                    w, metric = adversarial_init(xs, zt, cfg.adversarial, seed=cfg.seed, score=score, history=history)
                else:
                    pairs = robust_init_dictionary(xs, zt, vocab=cfg.robust_vocab, csls_k=cfg.csls_k, use_csls=cfg.robust_csls)
                    w = procrustes(xs[pairs[:, 0]], zt[pairs[:, 1]])
                    metric = score(w)
                    history.append({"init": "robust", "stage": "robust_init", "step": 0, "criterion": metric,
                                    "dictionary_size": int(len(pairs)), "seconds": time.perf_counter() - t0})
                log.info("%s initialisation: criterion %.5f (%.1f s)", init, metric, time.perf_counter() - t0)
                candidates[init] = refine(
                    xs, zt, w, iterations=cfg.n_refinement, max_rank=cfg.refine_max_rank,
                    csls_k=cfg.csls_k, score=score, history=history, init=init, start_score=metric,
                    tol=cfg.refine_tol,
                )
                decision["ran"].append(init)
                decision["seconds"][init] = round(time.perf_counter() - t0, 3)
                log.info("%s initialisation + refinement: criterion %.5f (%.1f s)", init, candidates[init][1],
                         time.perf_counter() - t0)

            decision.update(ran=[], skipped={}, seconds={})
            if policy == "fallback" and set(inits) == {"adversarial", "robust"}:
                run_init("robust")
                robust_score = candidates["robust"][1]
                if robust_score < cfg.adversarial_if_below:
                    log.info("init policy fallback: robust criterion %.5f < adversarial_if_below %.5f, running the "
                             "adversarial initialisation", robust_score, cfg.adversarial_if_below)
                    run_init("adversarial")
                else:
                    reason = (f"robust criterion {robust_score:.5f} >= adversarial_if_below "
                              f"{cfg.adversarial_if_below:g}")
                    decision["skipped"]["adversarial"] = reason
                    log.info("init policy fallback: %s, adversarial initialisation skipped", reason)
            else:
                for init in inits:
                    run_init(init)
        for name, (_, metric) in candidates.items():
            init_scores[name] = metric
        chosen = max(candidates, key=lambda k: candidates[k][1])
        w_best, best = candidates[chosen]
        decision["criteria"] = {**{name: None for name in decision.get("skipped", {})}, **init_scores}
        decision["chosen"] = chosen
    log.info("selected %s (criterion %.5f) among %s%s", chosen, best, init_scores,
             f"; skipped {decision['skipped']}" if decision.get("skipped") else "")
    return InductionResult(
        W=np.asarray(w_best, dtype=np.float32),
        selection_score=float(best),
        method_chosen=chosen,
        history=history,
        normalize=cfg.normalize,
        csls_k=cfg.csls_k,
        init_scores=init_scores,
        config=asdict(cfg),
        init_decision=decision,
    )

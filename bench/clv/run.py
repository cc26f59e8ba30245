"""Benchmark of clientbase's CLV models against ``lifetimes==0.11.3`` on the same arrays.

Run from the repository root::

    .venv/bin/python bench/clv/run.py            # CDNOW and 1,000,000 synthetic customers
    .venv/bin/python bench/clv/run.py --quick    # skip the anchor on 1,000,000 customers
    .venv/bin/python bench/clv/run.py --only pareto        # some models only (comma-separated)

The anchor runs in its own virtualenv (``bench/.venv-lifetimes``, created on first use) in a
subprocess, on the very arrays saved to a temporary ``.npz``. Times are the best of several
repeats. Log-likelihoods are all computed with the same formula (ours, the papers' equations)
at each library's optimum, because lifetimes reports a mean over rescaled data.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import timeit
import venv
from collections.abc import Callable
from pathlib import Path

import numpy as np

from clientbase.models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from clientbase.models.clv.beta_geo import _log_likelihood_function as bg_loglik
from clientbase.models.clv.pareto_nbd import _log_likelihood_function as pnbd_loglik

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "bench" / ".venv-lifetimes"
CDNOW = ROOT.parent / "shared" / "datasets" / "cdnow" / "cdnow_sample_summary.csv"

ANCHOR = r"""
import json, sys, time, warnings
import numpy as np
import pandas as pd
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

def best(fn, repeat):
    times, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time(); out = fn()
        times.append(time.perf_counter() - start); cpus.append(time.process_time() - cpu)
    best.cpu = min(cpus)
    return min(times), out

data = np.load(sys.argv[1])
repeat = int(sys.argv[2])
which = sys.argv[3].split(",")
x, t_x, T = (pd.Series(data[k]) for k in ("x", "t_x", "T"))
result = {}
if "bgnbd" in which:
    t, m = best(lambda: BetaGeoFitter().fit(x, t_x, T), repeat)
    cpu = best.cpu
    p, _ = best(lambda: (m.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T),
                         m.conditional_probability_alive(x, t_x, T)), repeat)
    params = {k: float(v) for k, v in m.params_.items()}
    result["bgnbd"] = {"fit": t, "fit_cpu": cpu, "predict": p, "params": params}
if "pareto" in which:
    t, m = best(lambda: ParetoNBDFitter().fit(x, t_x, T), repeat)
    cpu = best.cpu
    p, _ = best(lambda: (m.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T),
                         m.conditional_probability_alive(x, t_x, T)), repeat)
    params = {k: float(v) for k, v in m.params_.items()}
    result["pareto"] = {"fit": t, "fit_cpu": cpu, "predict": p, "params": params}
if "gamma" in which:
    keep = data["x"] > 0
    fx, z = pd.Series(data["x"][keep]), pd.Series(data["zbar"][keep])
    t, m = best(lambda: GammaGammaFitter().fit(fx, z), repeat)
    cpu = best.cpu
    p, _ = best(lambda: m.conditional_expected_average_profit(fx, z), repeat)
    params = {k: float(v) for k, v in m.params_.items()}
    result["gamma"] = {"fit": t, "fit_cpu": cpu, "predict": p, "params": params}
print(json.dumps(result))
"""


def ensure_anchor() -> Path:
    """The anchor's interpreter, installing lifetimes 0.11.3 in its own venv if needed."""
    python = VENV / "bin" / "python"
    if not python.exists():
        venv.create(VENV, with_pip=True)
    check = subprocess.run([python, "-c", "import lifetimes"], capture_output=True, check=False)
    if check.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", "lifetimes==0.11.3"], check=True)
    return python


def simulate_bgnbd(n: int, seed: int = 2005) -> dict[str, np.ndarray]:
    """Customers from BG/NBD with the CDNOW parameters, first purchases over 12 weeks,
    observed to week 39, on a day grid (so that rows repeat, as in real data)."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = (273 - rng.integers(0, 84, n)) / 7
    arrivals = rng.poisson(lam * T)
    # purchases before dropping out: after each repeat purchase the customer leaves w.p. p
    survive = rng.geometric(p)
    x = np.minimum(arrivals, survive).astype(float)
    # the x-th of `arrivals` uniform arrival times on (0, T] is T * Beta(x, arrivals - x + 1)
    t_x = np.zeros(n)
    buyers = x > 0
    t_x[buyers] = T[buyers] * rng.beta(x[buyers], arrivals[buyers] - x[buyers] + 1)
    t_x = np.floor(t_x * 7) / 7
    zbar = np.where(buyers, rng.gamma(6.25, 1 / rng.gamma(3.74, 1 / 15.44, n)), 0.0)
    return {"x": x, "t_x": t_x, "T": T, "zbar": zbar}


def best_of(fn: object, repeat: int) -> float:
    return min(timeit.repeat(fn, number=1, repeat=repeat))  # type: ignore[arg-type]


def best_cpu(fn: Callable[..., object], repeat: int) -> float:
    """Best CPU time (``time.process_time``) of ``repeat`` calls: fairer on a loaded machine."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def ours(data: dict[str, np.ndarray], repeat: int, which: list[str]) -> dict[str, dict]:
    x, t_x, T = data["x"], data["t_x"], data["T"]
    out: dict[str, dict] = {}
    for key, cls in (("bgnbd", BetaGeoModel), ("pareto", ParetoNBDModel)):
        if key not in which:
            continue
        model = cls().fit(x, t_x, T)
        fit = best_of(lambda cls=cls: cls().fit(x, t_x, T), repeat)
        fit_cpu = best_cpu(lambda cls=cls: cls().fit(x, t_x, T), repeat)
        predict = best_of(
            lambda m=model: (m.expected_purchases(39, x, t_x, T), m.probability_alive(x, t_x, T)),
            repeat,
        )
        out[key] = {"fit": fit, "fit_cpu": fit_cpu, "predict": predict, "params": model.params_}
    if "gamma" in which:
        keep = x > 0
        model = GammaGammaModel().fit(x[keep], data["zbar"][keep])
        fit = best_of(lambda: GammaGammaModel().fit(x[keep], data["zbar"][keep]), repeat)
        fit_cpu = best_cpu(lambda: GammaGammaModel().fit(x[keep], data["zbar"][keep]), repeat)
        predict = best_of(lambda: model.expected_spend(x[keep], data["zbar"][keep]), repeat)
        out["gamma"] = {"fit": fit, "fit_cpu": fit_cpu, "predict": predict, "params": model.params_}
    return out


def log_likelihood(key: str, params: dict[str, float], data: dict[str, np.ndarray]) -> float:
    """Total log-likelihood with our (the papers') formula at the given parameters."""
    if key == "gamma":
        from clientbase.models.clv.gamma_gamma import _log_likelihood_function as gg

        keep = data["x"] > 0
        names = ("p", "q", "v")
        f = gg(data["x"][keep], data["zbar"][keep])
    else:
        names = ("r", "alpha", "a", "b") if key == "bgnbd" else ("r", "alpha", "s", "beta")
        f = (bg_loglik if key == "bgnbd" else pnbd_loglik)(data["x"], data["t_x"], data["T"])
    return float(f(np.log([params[n] for n in names]))[0].sum())


def anchor(python: Path, data: dict[str, np.ndarray], repeat: int, which: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "data.npz"
        np.savez(npz, **data)
        script = Path(tmp) / "anchor.py"
        script.write_text(ANCHOR)
        done = subprocess.run(
            [python, str(script), str(npz), str(repeat), ",".join(which)],
            capture_output=True,
            text=True,
            check=True,
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no anchor on 1M customers")
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic customers")
    parser.add_argument(
        "--only",
        default="bgnbd,pareto,gamma",
        help="comma-separated models to run: bgnbd, pareto, gamma (data with none are skipped)",
    )
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    if not only <= {"bgnbd", "pareto", "gamma"}:
        parser.error(f"--only takes bgnbd, pareto, gamma; got {args.only!r}")
    import pandas as pd

    frame = pd.read_csv(CDNOW)
    cdnow = {
        k: frame[c].to_numpy(float)
        for k, c in (("x", "x"), ("t_x", "t_x"), ("T", "T"), ("zbar", "zbar"))
    }
    synthetic_models = [key for key in ("bgnbd", "gamma") if key in only]
    synthetic: dict[str, np.ndarray] = {}
    if synthetic_models:
        start = time.perf_counter()
        synthetic = simulate_bgnbd(args.n)
        print(f"simulated {args.n:,} BG/NBD customers in {time.perf_counter() - start:.1f} s")
    python = ensure_anchor()
    version = subprocess.run(
        [
            python,
            "-c",
            "import lifetimes, numpy, scipy, pandas, autograd;"
            "print(lifetimes.__version__, numpy.__version__, scipy.__version__,"
            " pandas.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"anchor: lifetimes, numpy, scipy, pandas = {version.stdout.strip()}")
    cdnow_models = [key for key in ("bgnbd", "pareto", "gamma") if key in only]
    runs = [("CDNOW (2,357)", cdnow, 7, cdnow_models, True)] if cdnow_models else []
    if synthetic_models:
        runs.append((f"synthetic ({args.n:,})", synthetic, 3, synthetic_models, not args.quick))
    header = (
        f"{'data':<22}{'model':<12}{'fit ours':>10}{'fit lt':>10}{'ratio':>8}"
        f"{'pred ours':>11}{'pred lt':>10}{'LL ours':>16}{'LL lt':>16}{'LL diff':>10}"
        f"{'cpu ours':>10}{'cpu lt':>10}{'cpu ratio':>10}"
    )
    rows = [header, "-" * len(header)]
    for label, data, repeat, which, with_anchor in runs:
        mine = ours(data, repeat, which)
        theirs = (
            anchor(python, data, 1 if data is synthetic else repeat, which) if with_anchor else {}
        )
        for key in which:
            ll_ours = log_likelihood(key, mine[key]["params"], data)
            line = f"{label:<22}{key:<12}{mine[key]['fit'] * 1e3:>8.1f}ms"
            if key in theirs:
                ll_lt = log_likelihood(key, theirs[key]["params"], data)
                line += (
                    f"{theirs[key]['fit'] * 1e3:>8.0f}ms"
                    f"{theirs[key]['fit'] / mine[key]['fit']:>7.1f}x"
                    f"{mine[key]['predict'] * 1e3:>9.1f}ms{theirs[key]['predict'] * 1e3:>8.1f}ms"
                    f"{ll_ours:>16.4f}{ll_lt:>16.4f}{ll_ours - ll_lt:>10.2e}"
                    f"{mine[key]['fit_cpu'] * 1e3:>8.1f}ms{theirs[key]['fit_cpu'] * 1e3:>8.0f}ms"
                    f"{theirs[key]['fit_cpu'] / mine[key]['fit_cpu']:>9.1f}x"
                )
            else:
                line += (
                    f"{'-':>10}{'-':>8}{mine[key]['predict'] * 1e3:>9.1f}ms{'-':>10}"
                    f"{ll_ours:>16.4f}{'-':>16}{'-':>10}"
                    f"{mine[key]['fit_cpu'] * 1e3:>8.1f}ms{'-':>10}{'-':>10}"
                )
            rows.append(line)
    print("\n".join(rows))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

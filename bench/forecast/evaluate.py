"""Forecast accuracy and speed, scored the same way for costwatch and the baselines.

accuracy: reads every <series>/{train,test,ours}.csv that `forecast_accuracy` wrote, runs
naive, seasonal naive (m = 7) and AutoETS (season_length = 7) from statsforecast on the same
train.csv, and prints one Markdown table:

  MASE   mean |error| over the held-out days / in-sample MAE of seasonal naive (m = 7): the
         mean |y[d] - y[d - 7 days]| over the training days d observed a week apart (on a
         series with gaps, "7 rows back" would compare different weekdays)
  sMAPE  mean of 200 |y - f| / (|y| + |f|), in percent
  cov80  share of held-out days inside the 80 % interval
  total  error of the held-out period's total, (sum f - sum y) / |sum y|, in percent

Prophet (default settings, 80 % interval) runs on the same train.csv, gaps and all: it is the
yearly-seasonality baseline the page-view series come from.

rolling: the same scoring on the earlier 28-day windows in each <series>/rolling.csv (forecast
from the history up to each window's origin only, all before the held-out month), for
costwatch, seasonal naive and Prophet: mean MASE (each window scaled by its own history),
mean 80 % coverage, and the share of windows whose coverage lies in 0.75-0.90. One window's
coverage is noisy (a holiday or a level move shifts all 28 days at once); these show calibration.

statsforecast needs a regular series: missing training days are filled by linear interpolation
(held-out days that are missing are simply not scored, for every method alike).

speed: times AutoETS (n_jobs=1, one core, like costwatch's benchmark) on the sample of the
speed benchmark's series that `forecast_speed` wrote, and prints series per second next to
costwatch's figure from the same run.
"""

import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, Naive, SeasonalNaive

logging.getLogger("cmdstanpy").disabled = True
from prophet import Prophet  # noqa: E402  (after silencing its solver's log)

HOLDOUT = 28


def load(path):
    df = pd.read_csv(path, parse_dates=["ds"])
    return df.sort_values("ds").reset_index(drop=True)


def regular(train):
    full = pd.date_range(train.ds.min(), train.ds.max(), freq="D")
    s = train.set_index("ds").y.reindex(full).interpolate(limit_direction="both")
    return pd.DataFrame({"unique_id": "s", "ds": full, "y": s.values})


def seasonal_naive_scale(train):
    y = train.set_index("ds").y
    week_ago = y.reindex(y.index - pd.Timedelta(days=7)).values
    return np.nanmean(np.abs(y.values - week_ago))


def metrics(train, test, mean, lo, hi):
    scale = seasonal_naive_scale(train)
    a = test.y.values
    err = np.abs(a - mean)
    return {
        "MASE": err.mean() / scale,
        "sMAPE": np.mean(200 * err / (np.abs(a) + np.abs(mean))),
        "cov80": np.mean((a >= lo) & (a <= hi)),
        "total": 100 * (mean.sum() - a.sum()) / abs(a.sum()),
    }


def baselines(train, horizon):
    sf = StatsForecast(
        models=[Naive(), SeasonalNaive(season_length=7), AutoETS(season_length=7)],
        freq="D",
        n_jobs=1,
    )
    fc = sf.forecast(df=regular(train), h=horizon, level=[80])
    return fc.set_index("ds")


def prophet(train, dates):
    fc = Prophet(interval_width=0.8).fit(train).predict(pd.DataFrame({"ds": dates}))
    return fc.yhat.values, fc.yhat_lower.values, fc.yhat_upper.values


def accuracy(root):
    rows = []
    for d in sorted(p for p in Path(root).iterdir() if (p / "ours.csv").exists()):
        train, test, ours = load(d / "train.csv"), load(d / "test.csv"), load(d / "ours.csv")
        fc = baselines(train, len(ours))
        ours = ours.set_index("ds").loc[test.ds]
        fc = fc.loc[test.ds]
        results = {"costwatch": metrics(train, test, ours["mean"].values, ours.lo80.values, ours.hi80.values)}
        for name, col in [("naive", "Naive"), ("seasonal naive", "SeasonalNaive"), ("AutoETS", "AutoETS")]:
            results[name] = metrics(
                train, test, fc[col].values, fc[f"{col}-lo-80"].values, fc[f"{col}-hi-80"].values
            )
        results["Prophet"] = metrics(train, test, *prophet(train, test.ds))
        rows.append((d.name, results))
    print("| series | method | MASE | sMAPE % | 80 % coverage | 28-day total error % |")
    print("|---|---|---|---|---|---|")
    summary = {}
    for name, results in rows:
        best = min(r["MASE"] for m, r in results.items() if m != "costwatch")
        for method, r in results.items():
            mark = " **(≤ best baseline)**" if method == "costwatch" and r["MASE"] <= best else ""
            print(
                f"| {name} | {method} | {r['MASE']:.3f}{mark} | {r['sMAPE']:.2f} | "
                f"{r['cov80']:.2f} | {r['total']:+.2f} |"
            )
        summary[name] = results
    return summary


def seasonal_naive_from(history, dates):
    """Last observed value on the same weekday at or before the origin, for each date."""
    last = history.ds.max()
    y = history.set_index("ds").y
    out = []
    for d in dates:
        back = d - pd.Timedelta(days=7 * int(np.ceil((d - last).days / 7)))
        while back not in y.index and back >= y.index.min():
            back -= pd.Timedelta(days=7)
        out.append(y.get(back, np.nan))
    return np.array(out)


def rolling(root):
    print()
    print("| series | windows | method | mean MASE | mean 80 % coverage | windows covering 0.75-0.90 |")
    print("|---|---|---|---|---|---|")
    for d in sorted(p for p in Path(root).iterdir() if (p / "rolling.csv").exists()):
        train = load(d / "train.csv")
        windows = pd.read_csv(d / "rolling.csv", parse_dates=["origin", "ds"])
        scores = {"costwatch": [], "seasonal naive": [], "Prophet": []}
        for origin, w in windows.groupby("origin"):
            history = train[train.ds <= origin]
            test = train[train.ds.isin(w.ds)].reset_index(drop=True)
            w = w.set_index("ds").loc[test.ds]
            sn = seasonal_naive_from(history, test.ds)
            for name, (mean, lo, hi) in [
                ("costwatch", (w["mean"].values, w.lo80.values, w.hi80.values)),
                ("seasonal naive", (sn, np.full(len(sn), np.nan), np.full(len(sn), np.nan))),
                ("Prophet", prophet(history, test.ds)),
            ]:
                scores[name].append(metrics(history, test, mean, lo, hi))
        for name, rs in scores.items():
            mase = np.mean([r["MASE"] for r in rs])
            cov = np.array([r["cov80"] for r in rs])
            cov_text = "-" if name == "seasonal naive" else f"{cov.mean():.3f}"
            share = "-" if name == "seasonal naive" else f"{np.mean((cov >= 0.75) & (cov <= 0.90)):.2f}"
            print(f"| {d.name} | {len(rs)} | {name} | {mase:.3f} | {cov_text} | {share} |")


def speed(sample_csv, ours_json):
    df = pd.read_csv(sample_csv, parse_dates=["ds"])
    ours = json.loads(Path(ours_json).read_text())
    n = df.unique_id.nunique()
    sf = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=1)
    # Warm-up on one series: numba compiles on first use, which is not forecasting time.
    sf.forecast(df=df[df.unique_id == df.unique_id.iloc[0]], h=ours["horizon"], level=[80])
    t0 = time.perf_counter()
    sf.forecast(df=df, h=ours["horizon"], level=[80])
    secs = time.perf_counter() - t0
    theirs = n / secs
    print()
    print("| forecaster | series | days each | horizon | seconds | series / s |")
    print("|---|---|---|---|---|---|")
    print(
        f"| costwatch (one core) | {ours['series']:,} | {ours['days']} | {ours['horizon']} | "
        f"{ours['seconds']:.1f} | {ours['series_per_second']:,.0f} |"
    )
    print(f"| statsforecast AutoETS 2.1.1 (n_jobs=1) | {n:,} (sample) | {ours['days']} | {ours['horizon']} | {secs:.1f} | {theirs:,.1f} |")
    print()
    print(f"costwatch / AutoETS: {ours['series_per_second'] / theirs:.1f}x (goal: at least 20x)")


if __name__ == "__main__":
    root = Path(sys.argv[1])
    accuracy(root)
    rolling(root)
    if (root / "speed" / "sample.csv").exists():
        speed(root / "speed" / "sample.csv", root / "speed" / "ours.json")

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
  Winkler  mean interval score of the 80 % interval: its width, plus 2 / 0.2 times the distance
         by which the actual falls outside it (lower is better; Gneiting & Raftery 2007)

Prophet (default settings, 80 % interval) runs on the same train.csv, gaps and all: it is the
yearly-seasonality baseline the page-view series come from.

rolling: the same scoring on the earlier 28-day windows in each <series>/rolling.csv (forecast
from the history up to each window's origin only, all before the held-out month), for
costwatch, seasonal naive, AutoETS and Prophet: mean MASE, mean Winkler score (each window scaled by its own history),
mean 80 % coverage, and the share of windows whose coverage lies in 0.75-0.90. One window's
coverage is noisy (a holiday or a level move shifts all 28 days at once); these show calibration.

statsforecast needs a regular series: missing training days are filled by linear interpolation
(held-out days that are missing are simply not scored, for every method alike).

month end: every month_end/<series>/month_end.csv that `forecast_accuracy` wrote (the month-end
forecast from every day of every complete month, costwatch's from the days the pipeline reads,
and a naive random walk's; month_end_all_history/ has costwatch's from everything before each
origin, scored the same way without AutoETS): 80 %
coverage of the month's true total, mean width of the interval relative to that total, and the
largest upper/point ratio; AutoETS (point: the sum of its daily forecasts; interval: the sum of
its daily 80 % bounds, as if the days' errors moved together, since statsforecast gives no
interval for a sum), fitted on the last two years before each origin, on the origins on days
1, 8, 15 and 22 only, with costwatch and naive on the same origins beside it.

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


def winkler(a, lo, hi, alpha=0.2):
    return np.mean((hi - lo) + (2 / alpha) * (np.maximum(lo - a, 0) + np.maximum(a - hi, 0)))


def metrics(train, test, mean, lo, hi):
    scale = seasonal_naive_scale(train)
    a = test.y.values
    err = np.abs(a - mean)
    return {
        "MASE": err.mean() / scale,
        "sMAPE": np.mean(200 * err / (np.abs(a) + np.abs(mean))),
        "cov80": np.mean((a >= lo) & (a <= hi)),
        "total": 100 * (mean.sum() - a.sum()) / abs(a.sum()),
        "winkler": winkler(a, lo, hi),
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
    print("| series | method | MASE | sMAPE % | 80 % coverage | Winkler | 28-day total error % |")
    print("|---|---|---|---|---|---|---|")
    summary = {}
    for name, results in rows:
        best = min(r["MASE"] for m, r in results.items() if m != "costwatch")
        for method, r in results.items():
            mark = " **(≤ best baseline)**" if method == "costwatch" and r["MASE"] <= best else ""
            print(
                f"| {name} | {method} | {r['MASE']:.3f}{mark} | {r['sMAPE']:.2f} | "
                f"{r['cov80']:.2f} | {r['winkler']:.4g} | {r['total']:+.2f} |"
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
    print("| series | windows | method | mean MASE | mean 80 % coverage | mean Winkler | windows covering 0.75-0.90 |")
    print("|---|---|---|---|---|---|---|")
    for d in sorted(p for p in Path(root).iterdir() if (p / "rolling.csv").exists()):
        train = load(d / "train.csv")
        windows = pd.read_csv(d / "rolling.csv", parse_dates=["origin", "ds"])
        scores = {"costwatch": [], "seasonal naive": [], "AutoETS": [], "Prophet": []}
        for origin, w in windows.groupby("origin"):
            history = train[train.ds <= origin]
            test = train[train.ds.isin(w.ds)].reset_index(drop=True)
            w = w.set_index("ds").loc[test.ds]
            sn = seasonal_naive_from(history, test.ds)
            ets = autoets(history, test.ds)
            for name, (mean, lo, hi) in [
                ("costwatch", (w["mean"].values, w.lo80.values, w.hi80.values)),
                ("seasonal naive", (sn, np.full(len(sn), np.nan), np.full(len(sn), np.nan))),
                ("AutoETS", ets),
                ("Prophet", prophet(history, test.ds)),
            ]:
                scores[name].append(metrics(history, test, mean, lo, hi))
        for name, rs in scores.items():
            mase = np.mean([r["MASE"] for r in rs])
            cov = np.array([r["cov80"] for r in rs])
            cov_text = "-" if name == "seasonal naive" else f"{cov.mean():.3f}"
            share = "-" if name == "seasonal naive" else f"{np.mean((cov >= 0.75) & (cov <= 0.90)):.2f}"
            wink = "-" if name == "seasonal naive" else f"{np.mean([r['winkler'] for r in rs]):.4g}"
            print(f"| {d.name} | {len(rs)} | {name} | {mase:.3f} | {cov_text} | {wink} | {share} |")


def autoets(history, dates):
    """AutoETS from the history up to an origin, read on `dates` (mean, lo80, hi80)."""
    h = int((dates.max() - history.ds.max()).days)
    fc = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=1)
    fc = fc.forecast(df=regular(history), h=h, level=[80]).set_index("ds").loc[list(dates)]
    return fc.AutoETS.values, fc["AutoETS-lo-80"].values, fc["AutoETS-hi-80"].values


def month_end(root, reading="month_end", with_ets=True):
    base = Path(root) / reading
    if not base.exists():
        return
    print()
    print(f"{reading}:")
    print("| series | origins | method | 80 % coverage | mean width / truth | largest upper / point | mean abs error / truth |")
    print("|---|---|---|---|---|---|---|")
    pooled = {}
    for d in sorted(p for p in base.iterdir() if (p / "month_end.csv").exists()):
        rows = pd.read_csv(d / "month_end.csv", parse_dates=["origin", "month"])
        series = load(d / "series.csv")
        sub = rows[rows.origin.dt.day.isin([1, 8, 15, 22])].reset_index(drop=True)
        ets = []
        for _, r in sub.iterrows() if with_ets else []:
            # AutoETS is a local model: the last two years are all it needs (and keep this
            # section to minutes on the 8-year page-view series).
            history = series[(series.ds <= r.origin) & (series.ds > r.origin - pd.Timedelta(days=730))]
            last = r.month + pd.offsets.MonthEnd(0)
            dates = pd.date_range(r.origin + pd.Timedelta(days=1), last, freq="D")
            if len(history) < 14:
                ets.append((np.nan, np.nan, np.nan))
                continue
            mean, lo, hi = autoets(history, dates)
            ets.append((r.to_date + mean.sum(), r.to_date + lo.sum(), r.to_date + hi.sum()))
        if with_ets:
            sub["ets"], sub["ets_lo80"], sub["ets_hi80"] = zip(*ets) if ets else ([], [], [])
        for label, frame, methods in [
            ("every day", rows, ["ours", "naive"]),
            ("days 1/8/15/22", sub.dropna(), ["ours", "naive", "ets"]),
        ][: 2 if with_ets else 1]:
            for m in methods:
                t, p, lo, hi = frame.truth, frame[m], frame[f"{m}_lo80"], frame[f"{m}_hi80"]
                inside = (lo <= t) & (t <= hi)
                width = (hi - lo) / t.abs()
                ratio = (hi / p).replace([np.inf, -np.inf], np.nan).max()
                err = ((p - t).abs() / t.abs()).mean()
                name = {"ours": "costwatch", "naive": "naive", "ets": "AutoETS"}[m]
                print(f"| {d.name} ({label}) | {len(frame)} | {name} | {inside.mean():.3f} | "
                      f"{width.mean():.3f} | {ratio:.2f} | {err:.3f} |")
                pooled.setdefault((label, name), []).append((inside.values, width.values))
    for (label, name), parts in pooled.items():
        inside = np.concatenate([p[0] for p in parts])
        width = np.concatenate([p[1] for p in parts])
        print(f"| all ({label}) | {len(inside)} | {name} | {inside.mean():.3f} | {width.mean():.3f} | - | - |")


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
    month_end(root)
    month_end(root, "month_end_all_history", with_ets=False)
    rolling(root)
    if (root / "speed" / "sample.csv").exists():
        speed(root / "speed" / "sample.csv", root / "speed" / "ours.json")

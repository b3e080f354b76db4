//! Peak memory of a process, for the benchmarks (cold start, scale, CUR import).

/// The peak resident set so far (`VmHWM`) of a process (`/proc/<process>/status`: a pid, or
/// `self`), in KiB; `None` off Linux.
pub(crate) fn peak_rss_kib(process: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

//! Size adaptation to vendor limits: when text or a list does not fit, it is shortened with a
//! visible note of what was left out and, when there is one, a link to the full details — never
//! cut silently. Limits are in characters (Unicode scalar values), as Slack and Discord count.

/// `text` if it has at most `max` characters; otherwise its start, cut at a word boundary where
/// one is near, followed by `… (N more characters: <link>)` (or without the link), all within
/// `max`.
pub fn fit_text(text: &str, max: usize, link: Option<&str>) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    // The note's length depends on how much is cut; size it for the worst case (all of it).
    let note = |omitted: usize| match link {
        Some(url) => format!("… ({omitted} more characters: {url})"),
        None => format!("… ({omitted} more characters not shown)"),
    };
    let room = max.saturating_sub(note(total).chars().count());
    let mut keep: usize = text.char_indices().nth(room).map_or(text.len(), |(i, _)| i);
    // Prefer a cut at whitespace in the last fifth of what is kept.
    if let Some(space) = text[..keep].rfind(char::is_whitespace)
        && text[..space].chars().count() * 5 >= room * 4
    {
        keep = space;
    }
    let kept = text[..keep].trim_end();
    let omitted = total - kept.chars().count();
    let fitted = format!("{kept}{}", note(omitted));
    if fitted.chars().count() <= max {
        fitted
    } else {
        // Not even the note fits (a tiny limit): say so in as little as possible.
        "…".chars().chain(text.chars()).take(max).collect()
    }
}

/// The first items that fit in `max`, and how many were left out; callers add a visible line
/// ("and 7 more") for the rest.
pub fn fit_items<T>(items: &[T], max: usize) -> (&[T], usize) {
    let shown = items.len().min(max);
    (&items[..shown], items.len() - shown)
}

/// "and N more" in a vendor-neutral form, or nothing for 0.
pub fn more_line(hidden: usize, what: &str, link: Option<&str>) -> Option<String> {
    (hidden > 0).then(|| match link {
        Some(url) => format!("… and {hidden} more {what}: {url}"),
        None => format!("… and {hidden} more {what}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_shortened_visibly_within_the_limit() {
        let text = "word ".repeat(1000);
        let fitted = fit_text(&text, 3000, Some("https://costs.example.com/a/1"));
        assert!(fitted.chars().count() <= 3000, "{}", fitted.chars().count());
        assert!(fitted.contains("more characters: https://costs.example.com/a/1"));
        let omitted: usize = fitted
            .rsplit("… (")
            .next()
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        let kept = fitted.split("… (").next().unwrap().chars().count();
        assert_eq!(kept + omitted, text.chars().count());
        assert_eq!(fit_text("short", 10, None), "short");
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        let text = "€".repeat(500);
        let fitted = fit_text(&text, 100, None);
        assert!(fitted.chars().count() <= 100);
        assert!(fitted.ends_with("more characters not shown)"));
    }

    #[test]
    fn lists_report_what_they_leave_out() {
        let items: Vec<u32> = (0..12).collect();
        let (shown, hidden) = fit_items(&items, 10);
        assert_eq!((shown.len(), hidden), (10, 2));
        assert_eq!(
            more_line(hidden, "anomalies", None).unwrap(),
            "… and 2 more anomalies"
        );
        assert_eq!(more_line(0, "x", None), None);
    }
}

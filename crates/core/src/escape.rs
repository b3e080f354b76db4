//! Escaping of every user-controlled string (tag values, account and resource names, titles)
//! for each vendor's markup, so that a tag value of `<!channel>`, `@everyone`, `**bold**`,
//! `<script>` or `"}]}` is shown as the text it is and never pings, formats, links or breaks the
//! payload. JSON structure itself is safe by construction (bodies are built as `serde_json`
//! values, never by string concatenation); these functions handle the markup inside strings.
//!
//! The zero-width space (U+200B) breaks a sequence without changing what a reader sees; it is
//! used where a markup has no escape character (Slack) and after `@` so that `@everyone` and
//! `@here` can never become mentions, whatever the vendor's mention settings.

const ZWSP: &str = "\u{200B}";

/// What a markup does with one character.
enum Esc {
    Keep,
    /// Written instead of the character (an entity).
    Replace(&'static str),
    /// Written before it (a backslash, or a zero-width space where there is no escape).
    Before(&'static str),
    /// Written after it (a zero-width space that breaks `<!` or `@here`).
    After(&'static str),
}

/// `s` with control characters removed (they can reorder or hide text; newlines and tabs stay)
/// and every other character treated as `rule` says.
fn escape(s: &str, rule: impl Fn(char) -> Esc) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let visible = s
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'));
    for c in visible {
        match rule(c) {
            Esc::Keep => out.push(c),
            Esc::Replace(with) => out.push_str(with),
            Esc::Before(mark) => {
                out.push_str(mark);
                out.push(c);
            }
            Esc::After(mark) => {
                out.push(c);
                out.push_str(mark);
            }
        }
    }
    out
}

/// Text without markup: control characters removed, mentions defused. For Slack `plain_text`
/// objects and any field the vendor shows verbatim.
pub fn plain(s: &str) -> String {
    escape(s, |c| match c {
        '@' => Esc::After(ZWSP),
        _ => Esc::Keep,
    })
}

/// Slack `plain_text` objects (headers, context): Slack does not parse them, but the same
/// sequences are broken anyway — a zero-width space after `<` and `@` and before formatting
/// characters — so a value stays inert wherever a layout moves it.
pub fn slack_plain(s: &str) -> String {
    escape(s, |c| match c {
        '<' | '@' => Esc::After(ZWSP),
        '*' | '_' | '~' | '`' => Esc::Before(ZWSP),
        _ => Esc::Keep,
    })
}

/// Slack `mrkdwn`: `&`, `<`, `>` as the entities Slack documents (this alone defuses
/// `<!channel>`, `<@U123>` and `<http://x|y>`), formatting characters (`* _ ~ ` and a leading `>`)
/// preceded by a zero-width space so they cannot pair up into bold, italics, strike or code.
pub fn slack_mrkdwn(s: &str) -> String {
    escape(s, |c| match c {
        '&' => Esc::Replace("&amp;"),
        '<' => Esc::Replace("&lt;"),
        '>' => Esc::Replace("&gt;"),
        '*' | '_' | '~' | '`' => Esc::Before(ZWSP),
        '@' => Esc::After(ZWSP),
        _ => Esc::Keep,
    })
}

/// Discord (and CommonMark-like) Markdown: every markup character backslash-escaped, `@`
/// followed by a zero-width space. Dispatchers also send `allowed_mentions: {"parse": []}`.
pub fn discord_markdown(s: &str) -> String {
    escape(s, |c| match c {
        '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '-' | '[' | ']' | '(' | ')'
        | ':' | '!' => Esc::Before("\\"),
        '@' => Esc::After(ZWSP),
        _ => Esc::Keep,
    })
}

/// Adaptive Card `TextBlock` text (Teams renders a Markdown subset in it): markup characters
/// backslash-escaped, mentions defused. Card JSON injection is impossible by construction.
pub fn card_text(s: &str) -> String {
    escape(s, |c| match c {
        '\\' | '*' | '_' | '~' | '`' | '[' | ']' | '(' | ')' | '#' | '>' | '<' | '!' | '-'
        | '+' => Esc::Before("\\"),
        '@' => Esc::After(ZWSP),
        _ => Esc::Keep,
    })
}

/// Hostile values every integration's tests render (tag values, account names, titles).
pub const HOSTILE: [&str; 10] = [
    "<!channel>",
    "<!here|here>",
    "@everyone",
    "@here",
    "<@U024BE7LH>",
    "**bold** _it_ ~strike~ `code` [click](https://evil.example)",
    "<script>alert(1)</script>",
    "\"}]},{\"type\":\"TextBlock\",\"text\":\"injected\"}",
    "<https://evil.example|totally safe>",
    "line\u{202E}reversed\u{0007}bell",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_mentions_links_and_formatting_are_inert() {
        assert_eq!(slack_mrkdwn("<!channel>"), "&lt;!channel&gt;");
        assert_eq!(slack_mrkdwn("a & b"), "a &amp; b");
        assert_eq!(slack_mrkdwn("*bold*"), "\u{200B}*bold\u{200B}*");
        assert!(!slack_mrkdwn("<https://evil.example|x>").contains('<'));
        for h in HOSTILE {
            let e = slack_mrkdwn(h);
            assert!(!e.contains('<') && !e.contains('>'), "{e}");
            assert!(!e.contains("@everyone") && !e.contains("@here"), "{e}");
            assert!(!e.contains('\u{202E}') && !e.contains('\u{0007}'), "{e}");
        }
    }

    #[test]
    fn discord_and_card_text_escape_markdown_and_mentions() {
        assert_eq!(discord_markdown("**x**"), "\\*\\*x\\*\\*");
        assert_eq!(discord_markdown("@everyone"), "@\u{200B}everyone");
        assert_eq!(card_text("[a](b)"), "\\[a\\]\\(b\\)");
        for h in HOSTILE {
            for e in [discord_markdown(h), card_text(h), plain(h)] {
                assert!(!e.contains("@everyone") && !e.contains("@here"), "{e}");
            }
            assert!(!discord_markdown(h).contains("**"));
        }
        // Nothing is lost: removing the escapes gives the visible text back.
        let round = discord_markdown("a_b").replace('\\', "");
        assert_eq!(round, "a_b");
    }
}

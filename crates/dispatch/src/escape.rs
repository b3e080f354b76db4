//! Escaping of every user-controlled string (tag values, account and resource names, titles)
//! for each vendor's markup, so that a tag value of `<!channel>`, `@everyone`, `**bold**`,
//! `<script>` or `"}]}` is shown as the text it is and never pings, formats, links or breaks the
//! payload. JSON structure itself is safe by construction (bodies are built as `serde_json`
//! values, never by string concatenation); these functions handle the markup inside strings.
//!
//! The zero-width space (U+200B) breaks a sequence without changing what a reader sees; it is
//! used where a markup has no escape character (Slack) and after `@` so that `@everyone` and
//! `@here` can never become mentions, whatever the vendor's mention settings.

const ZWSP: char = '\u{200B}';

/// Drops control characters (they can reorder or hide text), keeping newlines and tabs.
fn strip_controls(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

/// Text without markup: control characters removed, mentions defused. For Slack `plain_text`
/// objects and any field the vendor shows verbatim.
pub fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in strip_controls(s) {
        out.push(c);
        if c == '@' {
            out.push(ZWSP);
        }
    }
    out
}

/// Slack `plain_text` objects (headers, context): Slack does not parse them, but the same
/// sequences are broken anyway — a zero-width space after `<` and `@` and before formatting
/// characters — so a value stays inert wherever a layout moves it.
pub fn slack_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in strip_controls(s) {
        match c {
            '<' | '@' => {
                out.push(c);
                out.push(ZWSP);
            }
            '*' | '_' | '~' | '`' => {
                out.push(ZWSP);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Slack `mrkdwn`: `&`, `<`, `>` as the entities Slack documents (this alone defuses
/// `<!channel>`, `<@U123>` and `<http://x|y>`), formatting characters (`* _ ~ ` and a leading `>`)
/// preceded by a zero-width space so they cannot pair up into bold, italics, strike or code.
pub fn slack_mrkdwn(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in strip_controls(s) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '*' | '_' | '~' | '`' => {
                out.push(ZWSP);
                out.push(c);
            }
            '@' => {
                out.push('@');
                out.push(ZWSP);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Discord (and CommonMark-like) Markdown: every markup character backslash-escaped, `@`
/// followed by a zero-width space. Dispatchers also send `allowed_mentions: {"parse": []}`.
pub fn discord_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in strip_controls(s) {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '-' | '[' | ']' | '(' | ')'
            | ':' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '@' => {
                out.push('@');
                out.push(ZWSP);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Adaptive Card `TextBlock` text (Teams renders a Markdown subset in it): markup characters
/// backslash-escaped, mentions defused. Card JSON injection is impossible by construction.
pub fn card_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in strip_controls(s) {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '[' | ']' | '(' | ')' | '#' | '>' | '<' | '!' | '-'
            | '+' => {
                out.push('\\');
                out.push(c);
            }
            '@' => {
                out.push('@');
                out.push(ZWSP);
            }
            _ => out.push(c),
        }
    }
    out
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

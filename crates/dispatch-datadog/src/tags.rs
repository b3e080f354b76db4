//! Datadog's tag rules, applied to every value a user controls (account names, service names,
//! scope keys, budget names): lowercase; letters, digits, `_`, `-`, `:`, `.` and `/` only (any
//! other character becomes `_`, runs of `_` collapse into one); a tag starts with a letter, does
//! not end with `:` and has at most 200 characters. The same rules the Datadog Agent applies, so
//! a tag reads the same whether it came from us or from the Agent, and a value such as
//! `<!channel>` or `**bold**` becomes an inert `_channel` / `_bold_`.

/// The longest tag Datadog keeps (key, colon and value).
pub const MAX_TAG: usize = 200;

fn allowed(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '/')
}

/// `s` lowercased with every disallowed character (control and formatting characters included)
/// as `_`, runs of `_` collapsed.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = if allowed(c) { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    out
}

/// The end of a tag: at most [`MAX_TAG`] characters, no trailing `_` or `:`.
fn finish(tag: String) -> Option<String> {
    let cut: String = tag.chars().take(MAX_TAG).collect();
    let trimmed = cut.trim_end_matches(['_', ':']);
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A whole tag (`env:prod`) as Datadog would store it: leading characters up to the first letter
/// dropped. `None` when nothing is left.
pub fn normalize(tag: &str) -> Option<String> {
    let cleaned = clean(tag);
    let start = cleaned.find(char::is_alphabetic)?;
    finish(cleaned[start..].to_owned())
}

/// `key:value` with `value` cleaned (it may start with a digit: the tag starts with `key`);
/// `None` when the value has nothing left to say.
pub fn tag(key: &str, value: &str) -> Option<String> {
    let value = clean(value);
    let value = value.trim_matches('_');
    if value.is_empty() {
        return None;
    }
    finish(format!("{key}:{value}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use costwatch_dispatch::escape::HOSTILE;

    /// What Datadog accepts as a stored tag.
    pub fn is_valid(tag: &str) -> bool {
        tag.chars().count() <= MAX_TAG
            && tag.chars().next().is_some_and(char::is_alphabetic)
            && !tag.ends_with(':')
            && tag.chars().all(allowed)
            && tag.chars().all(|c| c.to_lowercase().eq(std::iter::once(c)))
    }

    #[test]
    fn values_follow_datadogs_rules() {
        assert_eq!(
            tag("service", "Amazon SageMaker").as_deref(),
            Some("service:amazon_sagemaker")
        );
        assert_eq!(
            tag("account", "444455556666").as_deref(),
            Some("account:444455556666")
        );
        assert_eq!(
            tag("scope", "account=444455556666|service=Amazon EC2").as_deref(),
            Some("scope:account_444455556666_service_amazon_ec2")
        );
        assert_eq!(tag("x", "Zürich/Ärger").as_deref(), Some("x:zürich/ärger"));
        assert_eq!(tag("x", "  "), None);
        assert_eq!(normalize("123:Env:Prod:").as_deref(), Some("env:prod"));
        assert_eq!(normalize("env:prod").as_deref(), Some("env:prod"));
        assert_eq!(normalize("42"), None);
        let long = tag("account_name", &"a".repeat(500)).unwrap();
        assert_eq!(long.chars().count(), MAX_TAG);
    }

    #[test]
    fn hostile_values_become_inert_valid_tags() {
        for h in HOSTILE {
            let t = tag("account_name", h).unwrap();
            assert!(is_valid(&t), "{t}");
            assert!(
                !t.contains('@') && !t.contains('<') && !t.contains('['),
                "{t}"
            );
            assert!(!t.contains('\u{202E}') && !t.contains('\u{7}'), "{t}");
            if let Some(n) = normalize(h) {
                assert!(is_valid(&n), "{n}");
            }
        }
        assert_eq!(tag("a", "<!channel>").as_deref(), Some("a:channel"));
        assert_eq!(tag("a", "@everyone").as_deref(), Some("a:everyone"));
    }
}

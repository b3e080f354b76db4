//! The README and docs/ stay true to the repository: every crate under crates/ has a row in
//! docs/architecture.md's crate table (and no row names a crate that is gone); every integration
//! (the `[integrations.X]` tables of examples/contract.toml, the crates/dispatch-X Lambda crates
//! and the CLI registry) has docs/integrations/X.md and a row in the README's features table
//! (and no "not built" row still names it);
//! every parameter of template.yaml and of the nested templates is in docs/configuration.md;
//! every relative link (and its #anchor) in README.md and docs/ points at something that exists;
//! and the README stays a map.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The README's promise: a map, not the manual.
const README_MAX_LINES: usize = 250;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The markdown with fenced code blocks blanked (line count kept), so a `# comment` in a shell
/// or TOML block is neither a heading nor a table row, and a link in an example is not checked.
fn without_fences(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<&str> = None;
    for line in md.lines() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(open), Some(m)) if open == m && trimmed.trim_end() == m => fence = None,
            (None, None) => out.push_str(line),
            _ => {}
        }
        out.push('\n');
    }
    out
}

/// The text with inline code spans removed (they may run across a line break), so `[x](y)`
/// written as code is not taken for a link.
fn without_code_spans(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&c| c == '`').count();
        // The closing run: the same number of backticks, not part of a longer run.
        let mut j = i + run;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let len = chars[j..].iter().take_while(|&&c| c == '`').count();
                if len == run {
                    close = Some(j + len);
                    break;
                }
                j += len;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                out.push_str("CODE");
                i = end;
            }
            None => {
                out.extend(&chars[i..i + run]);
                i += run;
            }
        }
    }
    out
}

/// The cells of every table row outside code blocks (header rows included, separator rows not).
fn table_rows(md: &str) -> Vec<Vec<String>> {
    without_fences(md)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .replace("\\|", "\u{0}")
                .split('|')
                .map(|c| c.replace('\u{0}', "|").trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|cells| {
            !cells
                .iter()
                .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
        })
        .collect()
}

/// The part of `md` under the heading `heading` (e.g. "## Features"), up to the next heading of
/// the same or a higher level.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let level = heading.chars().take_while(|&c| c == '#').count();
    let start = md
        .lines()
        .scan(0, |offset, line| {
            let at = *offset;
            *offset += line.len() + 1;
            Some((at, line))
        })
        .find(|(_, line)| line.trim_end() == heading)
        .map(|(at, line)| at + line.len() + 1)
        .unwrap_or_else(|| panic!("no heading `{heading}`"));
    let rest = &md[start.min(md.len())..];
    let mut offset = 0;
    let mut in_fence = false;
    for line in rest.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !in_fence && hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            return &rest[..offset];
        }
        offset += line.len() + 1;
    }
    rest
}

fn crate_dirs() -> BTreeSet<String> {
    fs::read_dir(root().join("crates"))
        .expect("crates/")
        .map(|e| e.expect("crates/ entry").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_crate_has_a_row_in_the_architecture_crate_table() {
    let doc = read("docs/architecture.md");
    let rows: BTreeSet<String> = table_rows(section(&doc, "## Crates"))
        .into_iter()
        .filter_map(|cells| {
            let first = cells.first()?.trim_matches('`').to_owned();
            first.strip_prefix("crates/").map(str::to_owned)
        })
        .collect();
    let crates = crate_dirs();
    assert!(crates.len() > 5, "found only {crates:?} under crates/");
    let missing: Vec<_> = crates.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "crates without a row (`crates/<name>` in the first cell) in docs/architecture.md's \
         \"## Crates\" table: {missing:?}"
    );
    let stale: Vec<_> = rows.difference(&crates).collect();
    assert!(
        stale.is_empty(),
        "docs/architecture.md's crate table names crates that do not exist: {stale:?}"
    );
}

/// Every integration, by each of the three places that name one.
fn integrations() -> BTreeMap<String, Vec<&'static str>> {
    let mut found: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();

    let contract: toml::Table = read("examples/contract.toml")
        .parse()
        .expect("contract.toml");
    let tables = contract
        .get("integrations")
        .and_then(toml::Value::as_table)
        .expect("examples/contract.toml has [integrations.*] tables");
    for name in tables.keys() {
        found
            .entry(name.clone())
            .or_default()
            .push("examples/contract.toml");
    }

    // An integration crate is a dispatcher Lambda: crates/dispatch-<name> with a src/main.rs
    // (crates/dispatch-kit, the conformance suite, has none).
    for dir in crate_dirs() {
        if let Some(name) = dir.strip_prefix("dispatch-")
            && root()
                .join("crates")
                .join(&dir)
                .join("src/main.rs")
                .is_file()
        {
            found.entry(name.to_owned()).or_default().push("crates/");
        }
    }

    let registry = read("crates/cli/src/integrations.rs");
    for line in registry.lines() {
        if let Some(rest) = line.trim().strip_prefix("entry::<costwatch_dispatch_") {
            let name = rest
                .split("::")
                .next()
                .unwrap_or_default()
                .replace('_', "-");
            found
                .entry(name)
                .or_default()
                .push("crates/cli/src/integrations.rs");
        }
    }
    found
}

#[test]
fn every_integration_has_a_docs_page_and_a_features_row() {
    let found = integrations();
    for source in [
        "examples/contract.toml",
        "crates/",
        "crates/cli/src/integrations.rs",
    ] {
        assert!(
            found.values().any(|s| s.contains(&source)),
            "found no integration in {source}: has its format changed? ({found:?})"
        );
    }
    let readme = read("README.md");
    let features = table_rows(section(&readme, "## Features"));
    let mut problems = Vec::new();
    for (name, sources) in &found {
        let page = format!("docs/integrations/{name}.md");
        if !root().join(&page).is_file() {
            problems.push(format!("{name} (named in {sources:?}) has no {page}"));
        }
        if !features
            .iter()
            .any(|cells| cells.iter().any(|c| c.contains(&page)))
        {
            problems.push(format!(
                "{name} has no row in the README's features table linking {page}"
            ));
        }
        // Built now: no row may still list it among what is not built.
        for cells in &features {
            let status = cells.get(1).map(String::as_str).unwrap_or_default();
            if status.starts_with("not built")
                && cells[0].to_lowercase().contains(&name.to_lowercase())
            {
                problems.push(format!(
                    "{name} exists, but the README's features table still lists it as not built: {:?}",
                    cells[0]
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_features_row_says_whether_it_is_built() {
    let readme = read("README.md");
    let rows = table_rows(section(&readme, "## Features"));
    assert!(
        rows.len() > 10,
        "the features table has {} rows",
        rows.len()
    );
    for cells in &rows[1..] {
        let status = cells.get(1).map(String::as_str).unwrap_or_default();
        assert!(
            status.starts_with("built") || status.starts_with("not built"),
            "features row {:?}: the status is \"built …\" or \"not built …\", not {status:?}",
            cells[0]
        );
    }
}

/// The keys of a CloudFormation template's top-level `Parameters:` block.
fn template_parameters(yaml: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in yaml.lines() {
        if !line.starts_with(' ') && !line.starts_with('#') && !line.trim().is_empty() {
            inside = line.trim_end() == "Parameters:";
            continue;
        }
        if inside
            && let Some(key) = line.strip_prefix("  ")
            && !key.starts_with(' ')
            && !key.starts_with('#')
            && let Some(name) = key.trim_end().strip_suffix(':')
        {
            names.push(name.to_owned());
        }
    }
    names
}

#[test]
fn every_template_parameter_is_in_the_configuration_reference() {
    let doc = read("docs/configuration.md");
    let documented: BTreeSet<String> = table_rows(&doc)
        .iter()
        .filter_map(|cells| cells.first())
        .flat_map(|cell| {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut templates = vec!["template.yaml".to_owned()];
    let nested = fs::read_dir(root().join("templates")).expect("templates/");
    let mut nested: Vec<String> = nested
        .map(|e| {
            e.expect("templates/ entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .map(|n| format!("templates/{n}"))
        .collect();
    nested.sort();
    templates.extend(nested);
    let mut missing = Vec::new();
    for template in &templates {
        let names = template_parameters(&read(template));
        assert!(!names.is_empty(), "found no Parameters in {template}");
        for name in names {
            if !documented.contains(&name) {
                missing.push(format!("{template}: {name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "template parameters without a row (`Name` in the first cell) in docs/configuration.md:\n{}",
        missing.join("\n")
    );
}

fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("docs/ entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut files = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut files);
    files
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; a repeated
/// heading gets `-1`, `-2`, ….
fn anchors(md: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for line in without_fences(md).lines() {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let slug: String = line[hashes..]
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

/// The targets of inline links and images (`[text](target)`) and of reference definitions
/// (`[name]: target`), outside code.
fn link_targets(md: &str) -> Vec<String> {
    let text = without_code_spans(&without_fences(md));
    let mut targets = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        if let Some(end) = after.find(')') {
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            targets.push(target.trim_matches(|c| c == '<' || c == '>').to_owned());
        }
        rest = after;
    }
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with('[')
            && let Some(close) = line.find("]:")
            && let Some(target) = line[close + 2..].split_whitespace().next()
        {
            targets.push(target.to_owned());
        }
    }
    targets
}

#[test]
fn every_relative_link_points_at_something_that_exists() {
    let files = markdown_files();
    assert!(files.len() > 5, "found only {files:?}");
    let mut broken = Vec::new();
    for file in &files {
        let md = fs::read_to_string(file).expect("markdown file");
        let shown = file
            .strip_prefix(root())
            .unwrap_or(file)
            .display()
            .to_string();
        for target in link_targets(&md) {
            if target.is_empty()
                || target.contains("://")
                || target.starts_with("mailto:")
                || target.starts_with('…')
            {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().expect("a folder").join(path)
            };
            if !resolved.exists() {
                broken.push(format!("{shown}: ({target}) points at nothing"));
                continue;
            }
            if let Some(anchor) = anchor
                && resolved.extension().is_some_and(|e| e == "md")
            {
                let target_md = fs::read_to_string(&resolved).expect("linked markdown");
                if !anchors(&target_md).contains(anchor) {
                    broken.push(format!("{shown}: ({target}) has no heading #{anchor}"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The rule names of the Makefile (`name:` at the start of a line, not `name :=`).
fn make_targets(makefile: &str) -> BTreeSet<String> {
    makefile
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let is_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            (is_name && !rest.starts_with('=')).then(|| name.to_owned())
        })
        .collect()
}

/// The targets named as `make <target>` in code: inline (`` `make x` ``) and at the start of a
/// line in a fenced block.
fn make_commands(md: &str) -> Vec<String> {
    let target = |after: &str| -> Option<String> {
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    let inline = md.split("`make ").skip(1).filter_map(target);
    // A line of a fenced block is blank in `without_fences` (which keeps the line count).
    let outside = without_fences(md);
    let fenced = md
        .lines()
        .zip(outside.lines())
        .filter(|(line, outside)| outside.is_empty() && !line.is_empty())
        .filter_map(|(line, _)| line.trim_start().strip_prefix("make "))
        .filter_map(target);
    inline.chain(fenced).collect()
}

#[test]
fn every_make_target_the_docs_name_exists() {
    let targets = make_targets(&read("Makefile"));
    let mut missing = Vec::new();
    for file in markdown_files() {
        let md = fs::read_to_string(&file).expect("markdown file");
        for name in make_commands(&md) {
            if !targets.contains(&name) {
                let shown = file
                    .strip_prefix(root())
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                missing.push(format!("{shown}: make {name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "targets the docs name but the Makefile does not have:\n{}",
        missing.join("\n")
    );
    assert_eq!(
        make_commands("`make demo X=y`\n```sh\nmake smoke   # x\n```\nmake sure\n`make`"),
        ["demo", "smoke"]
    );
    assert_eq!(
        make_targets("A := 1\ndemo:\n\tcargo\nx-y: demo\n.PHONY: demo\n"),
        BTreeSet::from(["demo".into(), "x-y".into()])
    );
}

#[test]
fn the_readme_is_a_map() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines; keep it a map of at most {README_MAX_LINES} and move \
         details into docs/"
    );
}

#[test]
fn the_helpers_see_what_they_should() {
    // The parsers above decide what the other tests check: make sure they are not blind.
    assert_eq!(
        template_parameters(
            "Parameters:\n  A:\n    Type: String\n  # note\n  B:\n    Default: x\nResources:\n  C:\n"
        ),
        ["A", "B"]
    );
    assert_eq!(
        link_targets(
            "[a](x.md) `[b](code.md)` ``c `[d](e.md)` f``\n```\n[g](fenced.md)\n```\n[h]: ref.md#top\n"
        ),
        ["x.md", "ref.md#top"]
    );
    let headings = anchors("# A: b (`c`)\n## Same\n## Same\n```\n# not\n```\n");
    assert_eq!(
        headings,
        BTreeSet::from(["a-b-c".into(), "same".into(), "same-1".into()])
    );
    let md = "## Crates\n| crate | what |\n|---|---|\n| `crates/x` | y \\| z |\n## Next\n| q |\n";
    assert_eq!(
        table_rows(section(md, "## Crates")),
        [vec!["crate", "what"], vec!["`crates/x`", "y | z"]]
    );
}

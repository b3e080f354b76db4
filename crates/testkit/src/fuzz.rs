//! Fuzzing on the stable toolchain (issue 17): proptest feeds every parser of outside input
//! arbitrary bytes and structure-aware mutations of a valid sample, and a counting allocator
//! checks that one input never makes a parser allocate out of proportion to it.
//!
//! A fuzz test binary (`tests/fuzz.rs` of the crate that owns the parsers) declares the
//! allocator once with [`counting_allocator!`](crate::counting_allocator), takes its config from
//! [`config`] and wraps each parse in [`bounded`]:
//!
//! ```ignore
//! costwatch_testkit::counting_allocator!();
//! proptest! {
//!     #![proptest_config(fuzz::config(64))]
//!     #[test]
//!     fn fuzz_thing(input in fuzz::input(SAMPLE.as_bytes())) {
//!         let parsed = fuzz::bounded(input.len(), || thing::parse(&input))?;
//!         ...
//!     }
//! }
//! ```
//!
//! `PROPTEST_CASES` sets the number of cases (`make fuzz` runs thousands); a test's own count is
//! the short run of `cargo nextest run`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, contextualize_config};
use serde_json::Value;

pub const MIB: usize = 1 << 20;

/// The most heap one input of `len` bytes may make a parser hold at once: 128 bytes per input
/// byte plus 16 MiB. The factor covers a parsed form larger than its text and a growing `Vec`'s
/// doubling: the toml crate holds the whole document as a tree before deserializing it, about
/// 130 bytes for each 2-byte nested array `[]` (65 per byte, seen by the fuzzer); a serde_json
/// `Value` is 32 bytes for a 2-byte `0,`; a CSV record keeps each field's end offset. The
/// constant covers buffers that do not depend on the input (64 KiB read buffers, arrow's
/// 8192-row batches, the time-zone database). Beyond it is memory the input did not pay for: a
/// length field or a date range believed rather than checked (a 30-byte series file spanning two
/// millennia took 25 MB).
pub fn memory_bound(len: usize) -> usize {
    len.saturating_mul(128).saturating_add(16 * MIB)
}

/// The proptest config of a fuzz test: `cases` unless `PROPTEST_CASES` says otherwise, and no
/// `proptest-regressions` files in the crates (a finding becomes a named regression test).
pub fn config(cases: u32) -> Config {
    // `contextualize_config` applies the PROPTEST_* variables over the given values (as the
    // `proptest!` macro itself does since proptest 1.2): the environment wins over `cases`.
    contextualize_config(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// A global allocator that counts the live heap bytes of each thread and their peak. Declare it
/// with [`counting_allocator!`](crate::counting_allocator) in a test binary; the tests of one
/// binary run on parallel threads, and each one measures only its own thread.
pub struct CountingAllocator;

thread_local! {
    // Signed: a block freed on another thread than the one that allocated it counts there.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn grew(bytes: usize) {
    // `try_with`: an allocation during the thread's teardown is simply not counted.
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add_unsigned(bytes);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn shrank(bytes: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub_unsigned(bytes)));
}

// The one `unsafe` in the tree (testkit's lints deny it elsewhere): a global allocator cannot
// be written without it. It only forwards to the system allocator and counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller's obligations are the system allocator's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, which got it from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`; `new_size` is the caller's obligation.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            grew(new_size);
            shrank(layout.size());
        }
        new
    }
}

/// Declares [`CountingAllocator`] as the test binary's global allocator.
#[macro_export]
macro_rules! counting_allocator {
    () => {
        #[global_allocator]
        static COUNTING_ALLOCATOR: $crate::fuzz::CountingAllocator =
            $crate::fuzz::CountingAllocator;
    };
}

/// Runs `f` and returns its result with the most heap it held at once on this thread, in bytes
/// above what the thread held when it started. Panics when the binary has not declared
/// [`counting_allocator!`](crate::counting_allocator), rather than measure nothing.
pub fn peak_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    drop(std::hint::black_box(Box::new(0u64)));
    assert!(
        ALLOCATIONS.with(Cell::get) > before,
        "no counting allocator: declare `costwatch_testkit::counting_allocator!();` in the test binary"
    );
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let result = f();
    let peak = PEAK.with(Cell::get);
    (result, usize::try_from(peak - start).unwrap_or(0))
}

/// Runs `f` (one parse of an input of `input_len` bytes) and fails the case when its peak heap
/// is over [`memory_bound`].
///
/// A panic inside is reported by the fuzz binary's panic hook as its message and place only:
/// the default hook's backtrace (with `RUST_BACKTRACE` set, as nextest runs do) reads the
/// binary's debug info, 50 MB the first time, which would count against the parse that panicked
/// (seen with a Parquet decoder panic the reader contains: 64 KB without the backtrace). Proptest
/// prints the minimal failing input; its regression test shows the backtrace.
pub fn bounded<R>(input_len: usize, f: impl FnOnce() -> R) -> Result<R, TestCaseError> {
    static BRIEF_PANICS: std::sync::Once = std::sync::Once::new();
    BRIEF_PANICS.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("{info}"))));
    let (result, peak) = peak_allocation(f);
    let bound = memory_bound(input_len);
    if peak > bound {
        return Err(TestCaseError::fail(format!(
            "peak heap {peak} bytes for {input_len} input bytes: over the bound {bound} \
             (128 × input + 16 MiB)"
        )));
    }
    Ok(result)
}

/// The largest input a mutation builds: large enough that the per-byte part of the bound
/// matters, small enough for thousands of cases in a debug build.
pub const MAX_INPUT: usize = 2 * MIB;

/// Values parsers trip over: numbers at and past every type's edge, dates at the ends of the
/// calendar and past them, separators, quotes, nulls, escapes, multi-byte text.
pub const TOKENS: &[&str] = &[
    "",
    "0",
    "-0",
    "-1",
    "0.1",
    "1e308",
    "-1e309",
    "1e-400",
    "1E+2147483647",
    "1e20",
    "NaN",
    "-inf",
    "Infinity",
    "255",
    "65536",
    "2147483647",
    "-2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "79228162514264337593543950335",
    "79228162514264337593543950336",
    "0.00000000000000000000000000001",
    "340282366920938463463374607431768211456",
    "0000-01-01",
    "9999-12-31",
    "-999-01-01",
    "+262143-12-31",
    "-262144-01-01",
    "2024-02-30",
    "2024-13-01",
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999Z",
    "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59+23:59",
    "2024-09-18 22:00:00 UTC",
    "24:00:00",
    "23:59:60",
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "null",
    "NULL",
    "\\N",
    "true",
    "\"",
    "\"\"",
    "'",
    "\\",
    "\\u0000",
    "\\ud800",
    ",",
    ";",
    "\t",
    "\n",
    "\r\n",
    "\u{1}",
    "\u{0}",
    "\u{feff}",
    "é",
    "\u{10ffff}",
    "𝄞",
    "$",
    "=",
    "[",
    "]",
    "{",
    "}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":",
    "Europe/Berlin",
    "Etc/GMT+14",
    "https://",
    "http://169.254.169.254/",
    "*.",
];

/// One change to a byte string. Positions are [`Index`]es, a fraction of the current length, so
/// a program of mutations applies to any sample and shrinks towards its start.
#[derive(Debug, Clone)]
pub enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    Insert(Index, Index),
    Remove(Index, u16),
    Truncate(Index),
    /// Repeats the `len` bytes at the position `times` times: large inputs (many rows, a huge
    /// cell, deep nesting) out of a small sample.
    Repeat(Index, u16, u16),
    /// Replaces a field (the bytes between two separators of CSV, TOML or a header) by a token.
    Field(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::SetByte(at, b)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(at, t)| Mutation::Insert(at, t)),
        1 => (any::<Index>(), 1u16..64).prop_map(|(at, n)| Mutation::Remove(at, n)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), 1u16..256, 1u16..4096)
            .prop_map(|(at, len, times)| Mutation::Repeat(at, len, times)),
        4 => (any::<Index>(), any::<Index>()).prop_map(|(f, t)| Mutation::Field(f, t)),
    ]
}

const SEPARATORS: &[u8] = b",;\t\n\r\x01|=:";

impl Mutation {
    pub fn apply(&self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        let at = |i: &Index, extra: usize| i.index(len + extra);
        match self {
            Self::FlipBit(i, bit) if !bytes.is_empty() => {
                let p = at(i, 0);
                bytes[p] ^= 1 << bit;
            }
            Self::SetByte(i, b) if !bytes.is_empty() => {
                let p = at(i, 0);
                bytes[p] = *b;
            }
            Self::Insert(i, t) => {
                let p = at(i, 1);
                let token = TOKENS[t.index(TOKENS.len())].as_bytes();
                bytes.splice(p..p, token.iter().copied());
            }
            Self::Remove(i, n) if !bytes.is_empty() => {
                let p = at(i, 0);
                let end = (p + usize::from(*n)).min(bytes.len());
                bytes.drain(p..end);
            }
            Self::Truncate(i) => {
                let p = at(i, 1);
                bytes.truncate(p);
            }
            Self::Repeat(i, piece_len, times) if !bytes.is_empty() => {
                let p = at(i, 0);
                let end = (p + usize::from(*piece_len)).min(bytes.len());
                let piece = bytes[p..end].to_vec();
                let room = MAX_INPUT.saturating_sub(bytes.len()) / piece.len().max(1);
                let copies = usize::from(*times).min(room);
                let repeated = piece.repeat(copies);
                bytes.splice(end..end, repeated);
            }
            Self::Field(f, t) => {
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(
                        bytes
                            .iter()
                            .enumerate()
                            .filter(|(_, b)| SEPARATORS.contains(b))
                            .map(|(i, _)| i + 1),
                    )
                    .collect();
                let start = starts[f.index(starts.len())];
                let end = bytes[start..]
                    .iter()
                    .position(|b| SEPARATORS.contains(b))
                    .map_or(bytes.len(), |n| start + n);
                let token = TOKENS[t.index(TOKENS.len())].as_bytes();
                bytes.splice(start..end, token.iter().copied());
            }
            _ => {}
        }
        bytes.truncate(MAX_INPUT);
    }
}

/// A fuzz input: bytes that print as a byte string (`b"ds,y\n0000-01-01,1"`), so a failing case
/// reads as the file it stands for and can be pasted into a regression test.
#[derive(Clone, PartialEq, Eq)]
pub struct Input(pub Vec<u8>);

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b\"{}\" ({} bytes)", self.0.escape_ascii(), self.0.len())
    }
}

impl std::ops::Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// A valid `sample` with up to eight byte-level mutations: gets past the first syntax check.
pub fn mutated(sample: &[u8]) -> impl Strategy<Value = Input> + use<> {
    let sample = sample.to_vec();
    proptest::collection::vec(mutation(), 1..8).prop_map(move |program| {
        let mut bytes = sample.clone();
        for m in &program {
            m.apply(&mut bytes);
        }
        Input(bytes)
    })
}

/// Anything at all: arbitrary bytes, arbitrary text, or a mutated `sample` (most cases, since
/// random bytes rarely get past a parser's first check).
pub fn input(sample: &[u8]) -> impl Strategy<Value = Input> + use<> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512).prop_map(Input),
        1 => any::<String>().prop_map(|s| Input(s.into_bytes())),
        6 => mutated(sample),
    ]
}

/// As [`input`], as text (invalid UTF-8 replaced), for parsers that take a `&str`.
pub fn text_input(sample: &str) -> impl Strategy<Value = String> + use<> {
    input(sample.as_bytes()).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// One change to a JSON document's tree. Nodes are numbered in pre-order; an [`Index`] picks
/// one whatever the document's size.
#[derive(Debug, Clone)]
pub enum JsonMutation {
    /// Replaces the node by one of [`json_values`] or a raw token of [`TOKENS`] (numbers past
    /// f64, `NaN`, broken text), whichever the second index picks.
    Replace(Index, Index),
    /// Wraps the node in `depth` arrays.
    Nest(Index, u16),
    /// Repeats an array's first element, or a string's text, `times` times.
    Grow(Index, u16),
    /// Removes the node from its object or array.
    Remove(Index),
    /// Renames an object's key to a token (an unknown field, an empty name, a near miss).
    Rename(Index, Index),
}

fn json_mutation() -> impl Strategy<Value = JsonMutation> {
    prop_oneof![
        5 => (any::<Index>(), any::<Index>()).prop_map(|(n, v)| JsonMutation::Replace(n, v)),
        1 => (any::<Index>(), 1u16..200).prop_map(|(n, d)| JsonMutation::Nest(n, d)),
        1 => (any::<Index>(), 1u16..5000).prop_map(|(n, t)| JsonMutation::Grow(n, t)),
        2 => any::<Index>().prop_map(JsonMutation::Remove),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(n, t)| JsonMutation::Rename(n, t)),
    ]
}

/// Values of every JSON type at their edges.
pub fn json_values() -> Vec<Value> {
    use serde_json::json;
    vec![
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(f64::MAX),
        json!(-f64::MIN_POSITIVE),
        json!(0.5),
        json!(""),
        json!("x".repeat(70_000)),
        json!({}),
        json!([]),
        json!([null]),
        json!({"": null}),
    ]
}

/// Raw text stands in a tree as a string between these two marks (private-use characters, which
/// serde_json writes unescaped), swapped for the bare text after serializing.
const RAW: char = '\u{f8fe}';
const RAW_END: char = '\u{f8ff}';

/// The deepest a mutated tree gets: twice serde_json's and toml's recursion limits (128), so the
/// parsers' own limits are exercised, while the harness's recursive walks, clones and
/// serializers stay well within a test thread's 2 MiB stack (a thousand levels overflowed it).
const MAX_DEPTH: usize = 256;

fn depth_of(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(depth_of).max().unwrap_or(0),
        Value::Object(o) => o.values().map(depth_of).max().unwrap_or(0),
        _ => 0,
    }
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// Runs `f` on the node at pre-order position `n` (0 is the root).
fn edit(doc: &mut Value, n: usize, f: &mut dyn FnMut(&mut Value)) {
    fn walk(v: &mut Value, n: &mut usize, f: &mut dyn FnMut(&mut Value)) -> bool {
        if *n == 0 {
            f(v);
            return true;
        }
        *n -= 1;
        match v {
            Value::Array(items) => items.iter_mut().any(|child| walk(child, n, f)),
            Value::Object(map) => map.values_mut().any(|child| walk(child, n, f)),
            _ => false,
        }
    }
    let mut n = n;
    walk(doc, &mut n, f);
}

impl JsonMutation {
    pub fn apply(&self, doc: &mut Value) {
        let nodes = count(doc);
        match self {
            Self::Replace(node, with) => {
                let values = json_values();
                let choice = with.index(values.len() + TOKENS.len());
                let new = values.get(choice).cloned().unwrap_or_else(|| {
                    Value::String(format!("{RAW}{}{RAW_END}", TOKENS[choice - values.len()]))
                });
                edit(doc, node.index(nodes), &mut |v| *v = new.clone());
            }
            Self::Nest(node, depth) => {
                let room = MAX_DEPTH.saturating_sub(depth_of(doc));
                let depth = usize::from(*depth).min(room);
                edit(doc, node.index(nodes), &mut |v| {
                    for _ in 0..depth {
                        *v = Value::Array(vec![v.take()]);
                    }
                })
            }
            Self::Grow(node, times) => edit(doc, node.index(nodes), &mut |v| match v {
                Value::Array(items) if !items.is_empty() => {
                    let first = items[0].clone();
                    let room = MAX_INPUT / first.to_string().len().max(1);
                    let copies = usize::from(*times).min(room);
                    items.extend(std::iter::repeat_n(first, copies));
                }
                Value::String(s) if !s.is_empty() => {
                    let copies = usize::from(*times).min(MAX_INPUT / s.len());
                    *s = s.repeat(copies.max(1));
                }
                _ => {}
            }),
            Self::Remove(node) => remove(doc, node.index(nodes)),
            Self::Rename(node, token) => {
                let name = TOKENS[token.index(TOKENS.len())].to_owned();
                edit(doc, node.index(nodes), &mut |v| {
                    if let Value::Object(map) = v
                        && let Some(key) = map.keys().next().cloned()
                        && let Some(value) = map.remove(&key)
                    {
                        map.insert(name.clone(), value);
                    }
                });
            }
        }
    }
}

/// Removes the node at pre-order position `n` from its parent (the root is emptied instead).
fn remove(doc: &mut Value, n: usize) {
    fn walk(v: &mut Value, n: &mut usize) -> bool {
        match v {
            Value::Array(items) => {
                for i in 0..items.len() {
                    if *n == 0 {
                        items.remove(i);
                        return true;
                    }
                    *n -= 1;
                    if walk(&mut items[i], n) {
                        return true;
                    }
                }
                false
            }
            Value::Object(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                for key in keys {
                    if *n == 0 {
                        map.remove(&key);
                        return true;
                    }
                    *n -= 1;
                    if let Some(child) = map.get_mut(&key)
                        && walk(child, n)
                    {
                        return true;
                    }
                }
                false
            }
            _ => false,
        }
    }
    if n == 0 {
        *doc = Value::Null;
        return;
    }
    let mut n = n - 1;
    walk(doc, &mut n);
}

/// The document with the marked raw tokens put in bare.
fn to_text(doc: &Value) -> String {
    let text = doc.to_string();
    if !text.contains(RAW) {
        return text;
    }
    let (open, close) = (format!("\"{RAW}"), format!("{RAW_END}\""));
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split(open.as_str());
    out.push_str(parts.next().unwrap_or_default());
    for part in parts {
        match part.split_once(close.as_str()) {
            Some((raw, rest)) => {
                // The token went through JSON escaping: undo it for the bare text.
                let bare: String =
                    serde_json::from_str(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_owned());
                out.push_str(&bare);
                out.push_str(rest);
            }
            None => out.push_str(part),
        }
    }
    out
}

/// A valid JSON `sample` with up to six changes to its tree (and, now and then, a byte-level
/// one on top), as text.
pub fn mutated_json(sample: &Value) -> impl Strategy<Value = String> + use<> {
    let sample = sample.clone();
    (
        proptest::collection::vec(json_mutation(), 1..6),
        proptest::collection::vec(mutation(), 0..2),
    )
        .prop_map(move |(tree, bytes)| {
            let mut doc = sample.clone();
            for m in &tree {
                m.apply(&mut doc);
            }
            let mut text = to_text(&doc).into_bytes();
            for m in &bytes {
                m.apply(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
}

/// Anything at all for a JSON parser: arbitrary bytes and text, byte-level mutations of the
/// sample, and (most cases) tree-level ones.
pub fn json_input(sample: &Value) -> impl Strategy<Value = String> + use<> {
    let text = sample.to_string();
    prop_oneof![
        1 => text_input(&text),
        5 => mutated_json(sample),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    crate::counting_allocator!();

    #[test]
    fn the_peak_is_this_threads_and_counts_what_was_freed_before_the_end() {
        let (len, peak) = peak_allocation(|| {
            let big = vec![1u8; 3 * MIB];
            drop(big);
            vec![1u8; MIB].len()
        });
        assert_eq!(len, MIB);
        assert!((3 * MIB..4 * MIB).contains(&peak), "{peak}");
        // Another thread's allocations while this one measures are not this one's.
        let (_, peak) = peak_allocation(|| {
            std::thread::spawn(|| vec![1u8; 64 * MIB].len())
                .join()
                .unwrap()
        });
        assert!(peak < MIB, "{peak}");
    }

    #[test]
    fn raw_tokens_go_in_bare() {
        let doc = json!({"a": format!("{RAW}1e400{RAW_END}"), "b": [format!("{RAW}\"{RAW_END}")]});
        assert_eq!(to_text(&doc), r#"{"a":1e400,"b":["]}"#);
    }

    #[test]
    fn nodes_are_numbered_in_pre_order() {
        let mut doc = json!({"a": [1, 2], "b": 3});
        assert_eq!(count(&doc), 5);
        edit(&mut doc, 3, &mut |v| *v = json!("x"));
        assert_eq!(doc, json!({"a": [1, "x"], "b": 3}));
        remove(&mut doc, 1);
        assert_eq!(doc, json!({"b": 3}));
    }
}

//! Random and truncated input never panics: the checker returns findings
//! for anything, and a panic (exit 101 in the binary) is always a bug.

use crate::common;

use common::*;
use infrac::backend::{self, Options, Target};
use proptest::prelude::*;

fn corpus() -> Vec<String> {
    let mut texts = Vec::new();
    if let Some(shared) = shared() {
        let spec = read(&shared.join("spec/LANGUAGE.md"));
        texts.extend(inf_blocks(&spec).into_iter().map(|(_, _, b)| b));
    }
    for entry in std::fs::read_dir(root().join("examples"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let main = entry.path().join("main.inf");
        if main.is_file() {
            texts.push(read(&main));
        }
    }
    texts.push(
        "service a {\n  image = \"x:1\"\n  port 80 public\n  route \"/\" -> a:80\n}\n".into(),
    );
    texts
}

/// Where a text is cut: most at the places the parser changes state (after
/// a bracket, brace, quote, `=`, `,`, `:`, `>` or line break, and mid-way
/// through a word), at most [`STRUCTURAL_CUTS`] of them, evenly strided,
/// plus [`RANDOM_CUTS`] positions from a generator seeded by the text, so
/// runs are repeatable. Every prefix of every text cost a check of each
/// length, quadratic in the corpus (77 s in a debug build); this costs at
/// most 2 + 128 + 64 checks per text, linear in the corpus.
fn cuts(text: &str) -> Vec<usize> {
    const STRUCTURAL_CUTS: usize = 128;
    const RANDOM_CUTS: usize = 64;
    let bytes = text.as_bytes();
    let structural: Vec<usize> = (1..bytes.len())
        .filter(|&i| {
            b"{}[]()\"=,:>\n".contains(&bytes[i - 1])
                || (bytes[i - 1].is_ascii_alphabetic()
                    && bytes[i].is_ascii_alphabetic()
                    && i % 3 == 0)
        })
        .collect();
    let stride = structural.len().div_ceil(STRUCTURAL_CUTS).max(1);
    let mut cuts: Vec<usize> = structural.into_iter().step_by(stride).collect();
    cuts.extend([0, text.len()]);
    // xorshift64, seeded by the text's length and first bytes.
    let mut state = bytes
        .iter()
        .take(64)
        .fold(text.len() as u64 ^ 0x9e37_79b9_7f4a_7c15, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
        | 1;
    for _ in 0..RANDOM_CUTS {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        cuts.push((state % (text.len() as u64 + 1)) as usize);
    }
    // A cut inside a character moves to the character's start.
    for cut in &mut cuts {
        while !text.is_char_boundary(*cut) {
            *cut -= 1;
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[test]
fn sampled_prefixes_of_every_example_are_handled() {
    let mut checks = 0;
    for text in corpus() {
        let cuts = cuts(&text);
        assert!(cuts.len() <= 2 + 128 + 64, "{} cuts", cuts.len());
        for cut in cuts {
            let _ = check_text("prefix.inf", &text[..cut]);
            checks += 1;
        }
    }
    assert!(checks > 100, "only {checks} prefixes checked");
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_crash() {
    for depth in [100usize, 10_000, 200_000] {
        let text = format!("let x = {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let (checked, _) = check_text("deep.inf", &text);
        let _ = checked.diagnostics;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = check_text("random.inf", &text);
    }

    #[test]
    fn arbitrary_tokens_never_panic(tokens in proptest::collection::vec(prop::sample::select(vec![
        "service", "network", "node", "port", "route", "allow", "let", "use", "std/redis", "x", "db",
        "{", "}", "[", "]", "(", ")", "=", ",", ":", "->", "\n", "\"s\"", "80", "public", "local",
        "internal", "restricted", "readonly", "true", "image", "networks", "depends", "env", "\"\\q\"",
        "99999999999999999999999", "/*", "*/", "//",
    ]), 0..60)) {
        let _ = check_text("tokens.inf", &tokens.join(" "));
    }
}

/// An input the fuzzers (`fuzz/`, book: internals/fuzzing.md) once crashed
/// or slowed the compiler with is now a clean finding: a diagnostic of
/// `code` whose every span lies inside the text on character boundaries,
/// and a report that renders with its line, column and snippet.
fn assert_clean(text: &str, code: &str) -> String {
    let (checked, sources) = check_text("fuzz.inf", text);
    assert!(
        checked.diagnostics.iter().any(|d| d.code.code() == code),
        "expected {code}, got {:?}",
        checked.diagnostics
    );
    for d in &checked.diagnostics {
        for label in std::iter::once(&d.primary).chain(&d.secondary) {
            let span = label.span;
            let file = &sources.get(span.file).text;
            assert!(
                span.start <= span.end
                    && file.is_char_boundary(span.start as usize)
                    && file.is_char_boundary(span.end as usize),
                "{}: span {span:?} is not a slice of its text",
                d.code.code()
            );
        }
    }
    let report = render_plain(&checked, &sources);
    assert!(report.contains(code), "{report}");
    report
}

#[test]
fn fuzz_syntax_error_at_a_multibyte_character_spans_the_whole_character() {
    // `parse` and `check` targets: the span of "found `߄`" ended after the
    // character's first byte.
    let report = assert_clean("service a {\n  health =\u{7c4}\u{7d7}\n}\n", "E0001");
    assert!(report.contains("found `\u{7c4}`"), "{report}");
    // And where a statement was expected, at a two-byte Arabic letter.
    assert_clean(
        "service db {\n  image = \"postgres:16.4\"\n\u{644}a\n}\n",
        "E0001",
    );
}

#[test]
fn fuzz_image_with_an_equals_sign_builds_for_every_target() {
    // `check` target: a tag-pinned image's reference is quoted in a
    // checkov skip annotation (`checkov.io/skipN: CHECK=reason`), where a
    // debug assertion refused an `=` that user text can contain.
    let text = "service sniffer {\n  image = \"ghcr.io/a = [b:0.3.1\"\n  cap_add = [\"NET_RAW\"]\n  health = { cmd = [\"sniffer\", \"--status\"] }\n  resources = { cpu = \"0.25\", memory = \"128Mi\" }\n}\n";
    let (checked, _) = check_text("fuzz.inf", text);
    let model = checked.model.expect("the program checks");
    let options = Options {
        project: "fuzz".into(),
        source: "fuzz.inf".into(),
    };
    for &target in Target::ALL {
        let (artifacts, _) = backend::emit(&model, target, &options);
        for line in artifacts.iter().flat_map(|a| a.contents.lines()) {
            if line.contains("checkov.io/skip") {
                assert_eq!(line.matches('=').count(), 1, "{line}");
            }
        }
    }
}

#[test]
fn fuzz_unclosed_nested_comments_fail_at_once() {
    // `print_roundtrip` target: every unclosed `/*` inside a block comment
    // was also readable as text, and pest tried both readings, 2^n for n
    // openers: twenty took seconds, these forty would never finish.
    let text = format!(
        "{}*/\nservice a {{\n  image = \"x:1\"\n}}\n",
        "/* a ".repeat(40)
    );
    let report = assert_clean(&text, "E0001");
    assert!(report.contains("this comment is never closed"), "{report}");
    // `/* a /* b */` is unclosed: comments nest, as the book says and as
    // the formatter's comment scanner has always read them.
    let report = assert_clean("/* a /* b */\nservice a {\n  image = \"x:1\"\n}\n", "E0001");
    assert!(report.contains("needs its own `*/`"), "{report}");
}

#[test]
fn fuzz_many_findings_render_with_their_own_lines() {
    // Found by hand beside the fuzzers (a large pathological program):
    // the human report read every snippet by scanning the file from its
    // first byte, quadratic in the number of findings (5,000 unknown
    // names: 8 s). Each snippet is now read from its own line, and must
    // still say which line that is.
    let services = 2_000;
    let text: String = (0..services)
        .map(|i| format!("service s{i} {{\n  image = \"a:1\"\n  networks = [net{i}x]\n}}\n"))
        .collect();
    let (checked, sources) = check_text("many.inf", &text);
    let unknown = checked
        .diagnostics
        .iter()
        .filter(|d| d.code.code() == "E1001")
        .count();
    assert_eq!(unknown, services, "one unknown name per service");
    let report = render_plain(&checked, &sources);
    assert_eq!(report.matches("E1001(unknown-name)").count(), services);
    // The last service's `networks` line is line 4 * 2000 - 1.
    let last = services * 4 - 1;
    assert!(
        report.contains(&format!("many.inf:{last}:"))
            && report.contains(&format!("{last} │   networks = [net1999x]")),
        "{}",
        &report[report.len().saturating_sub(600)..]
    );
}

//! Text to [`crate::ast`]: the pest grammar (`grammar.pest`), the
//! translation of pest's errors into diagnostics that name what was expected
//! in words, and [`lower`], which turns pest pairs into the owned AST. pest
//! types never leave this module.

pub mod comments;
mod errors;
mod lower;
pub mod print;

pub(crate) use errors::compose_habit;
pub use print::format;

use pest::Parser;

use crate::ast;
use crate::diagnostics::{Code, Diagnostic};
use crate::span::{FileId, Span};

/// How deeply `[`, `{` and `(` may nest. Real programs use four or five
/// levels; the limit exists so that pathological input is a finding, not a
/// stack overflow in the recursive-descent parser or in the checker.
pub const MAX_DEPTH: usize = 64;

/// pest's generated parser and its `Rule` enum, in a private module so
/// neither is part of the library's API: everything outside `syntax`
/// sees the owned [`ast`], never pest's pairs or rules.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "compiler/src/syntax/grammar.pest"]
    pub(super) struct InfParser;
}

use grammar::{InfParser, Rule};

/// Parses one file. On a syntax error the returned file is empty and the
/// diagnostics hold the error; on success they hold what lowering found
/// (invalid escapes, numbers out of range).
pub fn parse(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    if let Some(too_deep) = nesting(file, text) {
        return (empty(file, text), vec![too_deep]);
    }
    if text.len() >= BY_ITEM_FROM {
        if let Some(parsed) = parse_by_item(file, text) {
            return parsed;
        }
    }
    // A syntax error (or, defensively, anything the chunks did not take):
    // the whole file again, so the error is pest's for the `file` rule,
    // exactly as it always was.
    match InfParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let root = pairs
                .next()
                .expect("the `file` rule always yields one pair");
            lower::file(file, root)
        }
        Err(error) => (
            empty(file, text),
            vec![errors::syntax_error(file, text, error)],
        ),
    }
}

/// From this size on, a file is parsed item by item. Below it memory is no
/// concern, and a syntax error costs one parse, not two.
const BY_ITEM_FROM: usize = 256 * 1024;

/// Parses a file item by item with the `chunk` rule; `None` at the first
/// chunk that does not parse.
///
/// Why: pest keeps two tokens of about 20 bytes for every rule it
/// matches until the parse ends, about 26 bytes per byte of a typical
/// program, so a whole 30 MB file cost most of a gigabyte before the AST
/// existed. One item at a time, only one item's tokens are alive.
fn parse_by_item(file: FileId, text: &str) -> Option<(ast::File, Vec<Diagnostic>)> {
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &text[pos..];
        let chunk = InfParser::parse(Rule::chunk, rest).ok()?.next()?;
        let consumed = chunk.as_span().end();
        let Some(item) = chunk.into_inner().find(|p| p.as_rule() != Rule::EOI) else {
            // Only line breaks, spaces and comments were left.
            break;
        };
        let (item, mut found) = lower::item(file, pos, item);
        items.push(item);
        diagnostics.append(&mut found);
        pos += consumed;
    }
    let file = ast::File {
        items,
        span: Span::new(file, 0, text.len()),
    };
    Some((file, diagnostics))
}

fn empty(file: FileId, text: &str) -> ast::File {
    ast::File {
        items: Vec::new(),
        span: Span::new(file, 0, text.len()),
    }
}

/// The `too-deep` pre-scan: finds the first bracket that opens nesting level
/// `MAX_DEPTH + 1`, before pest (which recurses once per level) sees the
/// text. Brackets inside strings and comments do not count; the scan follows
/// the grammar's lexical rules for both (strings end at `"` or at the end of
/// the line, block comments nest). It only counts: a closing bracket too many
/// is left for the grammar to report.
fn nesting(file: FileId, text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    // Where each open bracket stands, innermost last.
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n') {
                    // An escape takes the next character with it, unless that
                    // is the end of the line.
                    i += if bytes[i] == b'\\' && bytes.get(i + 1) != Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut comments = 0usize;
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"/*") {
                        comments += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        comments -= 1;
                        i += 2;
                        if comments == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'[' | b'{' | b'(' => {
                open.push(i);
                if open.len() > MAX_DEPTH {
                    let bracket = bytes[i] as char;
                    return Some(
                        Diagnostic::new(
                            Code::TooDeep,
                            Span::new(file, i, i + 1),
                            format!("brackets are nested more than {MAX_DEPTH} deep"),
                        )
                        .label(format!("this `{bracket}` opens level {}", open.len()))
                        .secondary(Span::new(file, open[0], open[0] + 1), "the outermost bracket")
                        .help("no infrastructure needs this depth: flatten the value, or give inner parts a name with `let` and refer to it"),
                    );
                }
            }
            b']' | b'}' | b')' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_deep(text: &str) -> Option<std::ops::Range<usize>> {
        nesting(FileId(0), text).map(|d| d.primary.span.range())
    }

    #[test]
    fn the_limit_is_inclusive() {
        let at_limit = format!("let x = {}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(too_deep(&at_limit), None);
        let over = format!(
            "let x = {}{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        let first = "let x = ".len();
        assert_eq!(
            too_deep(&over),
            Some(first + MAX_DEPTH..first + MAX_DEPTH + 1)
        );
    }

    #[test]
    fn brackets_of_every_kind_count_together() {
        let mixed = "{[(".repeat(22); // 66 levels
        assert!(too_deep(&format!("let x = {mixed}")).is_some());
    }

    #[test]
    fn strings_and_comments_do_not_count() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(too_deep(&format!("let x = \"{deep}\"")), None);
        assert_eq!(too_deep(&format!("let x = \"\\\"{deep}\"")), None);
        assert_eq!(too_deep(&format!("// {deep}\nlet x = 1")), None);
        assert_eq!(
            too_deep(&format!("/* /* {deep} */ {deep} */ let x = 1")),
            None
        );
        // A string ends at the end of its line, as in the grammar.
        assert!(too_deep(&format!("let x = \"open\n{deep}")).is_some());
    }

    /// The whole file with the `file` rule, as `parse` did before chunks.
    fn parse_whole(text: &str) -> Option<(ast::File, Vec<Diagnostic>)> {
        let mut pairs = InfParser::parse(Rule::file, text).ok()?;
        Some(lower::file(FileId(0), pairs.next()?))
    }

    fn assert_chunks_agree(text: &str) {
        let by_item = parse_by_item(FileId(0), text);
        let whole = parse_whole(text);
        assert_eq!(by_item.is_some(), whole.is_some(), "{text:?}");
        if let (Some((a, da)), Some((b, db))) = (by_item, whole) {
            assert_eq!(a, b, "{text:?}");
            assert_eq!(format!("{da:?}"), format!("{db:?}"), "{text:?}");
        }
    }

    #[test]
    fn item_by_item_parses_as_the_whole_file_does() {
        for text in [
            "",
            "\n\n",
            "// only a comment",
            "service a { image = \"x\" }",
            "service a { image = \"x\" } // trailing\n\n  \n",
            "  /* lead */ \n\nlet x = 1\r\nlet y = \"\\q\"\n",
            "let x = 1 let y = 2",
            "let x = 1\nlet y = \"unterminated\n",
            "service a {\n  port 80 public\n}\nservice b {}\n}",
            "let x = 1\n\n\nnetwork n {} // c\n/* c */ volume v {}",
        ] {
            assert_chunks_agree(text);
        }
        assert_chunks_agree(&crate::workload::program(40));
        for text in crate::loader::example_programs() {
            assert_chunks_agree(&text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn item_by_item_agrees_on_arbitrary_token_soup(tokens in proptest::collection::vec(
            proptest::sample::select(vec![
                "service", "network", "let", "use", "std/redis", "x", "=", "1", "\"s\"", "{", "}",
                "[", "]", ",", "\n", "\r\n", " ", "// c\n", "/* c */", "port", "80", "public",
                "\"\\q\"", "->", "(", ")",
            ]), 0..40)) {
            assert_chunks_agree(&tokens.concat());
        }
    }

    #[test]
    fn parse_reports_too_deep_instead_of_recursing() {
        let text = format!("let x = {}", "[".repeat(100_000));
        let (file, diagnostics) = parse(FileId(0), &text);
        assert!(file.items.is_empty());
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, Code::TooDeep);
    }
}

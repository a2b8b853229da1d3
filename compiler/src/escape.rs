//! Double-quoted text as infrac writes it in every format: YAML scalars,
//! `.inf` string literals and quoted paths in generated comments share the
//! backslash escapes of `"`, `\`, line feed, carriage return and tab; each
//! writer says how it writes every other character (which it must escape,
//! and how).

/// Appends `s` to `out` in double quotes: the shared escapes, and `other`
/// for every other character.
pub(crate) fn quote_into(out: &mut String, s: &str, other: impl Fn(&mut String, char)) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => other(out, c),
        }
    }
    out.push('"');
}

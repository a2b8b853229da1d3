//! Dotenv files (`env_file:`): `KEY=VALUE` lines to positioned nodes, so a
//! finding about a variable names its line in the file. Part of
//! [`super`], the resolution of the files a compose file names.

use super::scalar;
use crate::import::yaml::{Kind, Node};
use crate::span::{FileId, Span};

/// The variables of a dotenv file: `KEY=VALUE`, `export KEY=VALUE`,
/// quoted values, `#` comments; each with the span of its key and value.
pub(super) fn dotenv(id: FileId, text: &str) -> Vec<(Node, Node)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (body, skip) = match trimmed.strip_prefix("export ") {
            Some(rest) => (rest.trim_start(), trimmed.len() - rest.trim_start().len()),
            None => (trimmed, 0),
        };
        let key_start = line_start + indent + skip;
        let (key, value, value_at) = match body.split_once('=') {
            Some((k, v)) => (k.trim_end(), Some(v), key_start + k.len() + 1),
            None => (body.trim_end(), None, key_start + body.len()),
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        {
            continue;
        }
        let key_node = scalar(key, Span::new(id, key_start, key_start + key.len()));
        let value_node = match value {
            None => Node {
                kind: Kind::Scalar {
                    text: String::new(),
                    plain: true,
                },
                span: key_node.span,
            },
            Some(v) => {
                let lead = v.len() - v.trim_start().len();
                let v = v.trim_start();
                let (text, len) = unquote(v);
                let start = value_at + lead;
                Node {
                    kind: Kind::Scalar { text, plain: false },
                    span: Span::new(id, start, start + len),
                }
            }
        };
        out.push((key_node, value_node));
    }
    out
}

/// A dotenv value's text and how many bytes of the line it took.
fn unquote(v: &str) -> (String, usize) {
    for q in ['"', '\''] {
        if let Some(rest) = v.strip_prefix(q) {
            if let Some(end) = rest.find(q) {
                let inner = &rest[..end];
                let text = if q == '"' {
                    inner.replace("\\n", "\n").replace("\\\"", "\"")
                } else {
                    inner.to_string()
                };
                return (text, end + 2);
            }
        }
    }
    let cut = v.find(" #").unwrap_or(v.len());
    let text = v[..cut].trim_end();
    (text.to_string(), text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines() {
        let text = "# comment\nA=1\nexport B = \"two words\"\nC='x#y'\nD=v # note\nE\n\n";
        let vars = dotenv(FileId(3), text);
        let got: Vec<(&str, &str)> = vars
            .iter()
            .map(|(k, v)| {
                (
                    k.scalar().unwrap_or_default(),
                    match &v.kind {
                        Kind::Scalar { text, .. } => text.as_str(),
                        _ => "",
                    },
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("A", "1"),
                ("B", "two words"),
                ("C", "x#y"),
                ("D", "v"),
                ("E", "")
            ]
        );
        let (_, b) = &vars[1];
        assert_eq!(&text[b.span.range()], "\"two words\"");
    }
}

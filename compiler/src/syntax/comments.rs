//! The comments of a source text, which the grammar skips (`COMMENT` is a
//! silent pest rule) and the formatter must keep. A small scanner finds
//! them outside strings, with their byte spans; [`super::print`] re-attaches
//! them to the syntax tree by position.

/// One `// line` or `/* block */` comment as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The comment's text, delimiters included; a line comment without its
    /// trailing whitespace.
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Every comment of `text`, in order. Text the grammar would reject (an
/// unterminated string or block comment) is scanned to its end without
/// panicking; the parser reports it.
pub fn scan(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = skip_string(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                let body = text[i..end].trim_end();
                comments.push(Comment {
                    text: body.to_string(),
                    start: i,
                    end: i + body.len(),
                });
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = skip_block(bytes, i);
                comments.push(Comment {
                    text: text[i..end].to_string(),
                    start: i,
                    end,
                });
                i = end;
            }
            _ => i += 1,
        }
    }
    comments
}

/// Where the block comment that is still open at the end of `text` was
/// opened (the outermost one, when several nest), if one is: what an
/// "expected `*/`" syntax error should point at.
pub fn unclosed_block(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    scan(text)
        .into_iter()
        .find(|c| c.text.starts_with("/*") && block_end(bytes, c.start).is_none())
        .map(|c| c.start)
}

/// The offset just past the string that opens at `start`. Strings cannot
/// span lines, so an unterminated one ends at the line's end.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if bytes.get(i + 1).is_some_and(|b| *b != b'\n') => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The offset just past the block comment that opens at `start` (the end
/// of the text when it is never closed); block comments nest, as in the
/// grammar.
fn skip_block(bytes: &[u8], start: usize) -> usize {
    block_end(bytes, start).unwrap_or(bytes.len())
}

/// The offset just past the block comment that opens at `start`, or `None`
/// when the text ends first.
fn block_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        scan(src).into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn finds_comments_outside_strings() {
        assert_eq!(
            texts("a = \"// not\" // yes  \nb = \"\\\"/*\" /* x /* y */ z */"),
            vec!["// yes", "/* x /* y */ z */"]
        );
    }

    #[test]
    fn unterminated_text_does_not_panic() {
        assert_eq!(texts("a = \"open\n// c"), vec!["// c"]);
        assert_eq!(texts("/* open"), vec!["/* open"]);
        assert_eq!(texts("// crlf\r\nx"), vec!["// crlf"]);
    }
}

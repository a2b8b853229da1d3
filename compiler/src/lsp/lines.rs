//! Byte offsets ⇄ LSP positions. The protocol counts columns in UTF-16
//! code units (its default encoding, the only one every client speaks);
//! the compiler's spans are UTF-8 byte offsets.

use lsp_types::{Position, Range};

use crate::span::Span;

/// Where each line of one text starts.
#[derive(Debug, Clone)]
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { starts }
    }

    /// The position of byte `offset` of `text` (clamped to the text, and
    /// to the start of the character it falls in).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let character = text[start..offset].encode_utf16().count();
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of `position` in `text`: a column past the end of
    /// its line is the line's end, a line past the end the text's end.
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(text.len(), |&next| next - 1);
        let mut units = 0u32;
        for (i, c) in text[start..end].char_indices() {
            if units >= position.character {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        end
    }

    pub fn range(&self, text: &str, span: Span) -> Range {
        Range::new(
            self.position(text, span.start as usize),
            self.position(text, span.end as usize),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_utf16_units() {
        let text = "a\n\"é😀\" = x\n";
        let lines = Lines::new(text);
        let x = text.find('x').unwrap();
        // `"`, é (1 unit), 😀 (2 units), `"`, ` = `.
        assert_eq!(lines.position(text, x), Position::new(1, 8));
        assert_eq!(lines.offset(text, Position::new(1, 8)), x);
        assert_eq!(lines.offset(text, Position::new(1, 99)), text.len() - 1);
        assert_eq!(lines.offset(text, Position::new(9, 0)), text.len());
    }
}

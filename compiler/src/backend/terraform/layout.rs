//! Writes hcl-rs trees in `terraform fmt`'s canonical layout, so the files
//! the Terraform target generates pass `terraform fmt -check` unchanged.
//!
//! hcl-rs builds and escapes the structures, and formats every single-line
//! expression; what it does not do is what `terraform fmt` adds on top: the
//! `=` of consecutive one-line attributes aligned in one column, objects
//! one key per line with their own column, and comments (hcl-rs trees have
//! none, and checkov reads its skips from comments inside the resource).
//! The alignment follows hclwrite's rule: a chain of lines that each hold a
//! whole `key = value` is aligned; a line that opens a bracket (`tags = {`),
//! a comment line, a closing brace or a nested block ends the chain.

use hcl::format::{Format, Formatter};
use hcl::{Block, BlockLabel, Expression, ObjectKey, Structure};

/// A top-level block and the comment lines written first inside it (where
/// checkov looks for `checkov:skip=` on that resource).
pub(crate) struct Item {
    pub comments: Vec<String>,
    pub block: Block,
}

impl Item {
    pub fn new(block: Block) -> Item {
        Item {
            comments: Vec::new(),
            block,
        }
    }
}

/// A whole `.tf` file: `#` header lines, then the blocks, one blank line
/// between them.
pub(crate) fn file(header: &[String], items: &[Item]) -> String {
    let mut w = Writer::new();
    for line in header {
        w.comment(0, line);
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !header.is_empty() {
            w.out.push('\n');
        }
        w.block(0, &item.block, &item.comments);
    }
    w.out
}

struct Writer {
    out: String,
    /// Formats single-line expressions; arrays stay on one line.
    expr: Formatter<'static, Vec<u8>>,
}

impl Writer {
    fn new() -> Writer {
        Writer {
            out: String::new(),
            expr: Formatter::builder().compact_arrays(true).build_vec(),
        }
    }

    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str("  ");
        }
    }

    fn comment(&mut self, level: usize, text: &str) {
        self.indent(level);
        if text.is_empty() {
            self.out.push('#');
        } else {
            self.out.push_str("# ");
            self.out.push_str(text);
        }
        self.out.push('\n');
    }

    fn block(&mut self, level: usize, block: &Block, comments: &[String]) {
        self.indent(level);
        self.out.push_str(block.identifier());
        for label in block.labels() {
            self.out.push(' ');
            match label {
                BlockLabel::Identifier(id) => self.out.push_str(id.as_str()),
                BlockLabel::String(s) => {
                    let quoted = self.single_line(&Expression::String(s.clone()));
                    self.out.push_str(&quoted);
                }
            }
        }
        self.out.push_str(" {\n");
        for c in comments {
            self.comment(level + 1, c);
        }
        self.body(level + 1, block.body().iter());
        self.indent(level);
        self.out.push_str("}\n");
    }

    /// A block's body: runs of attributes, each nested block after a
    /// blank line (the layout `terraform fmt` keeps and the docs use).
    fn body<'b>(&mut self, level: usize, structures: impl Iterator<Item = &'b Structure>) {
        let mut run: Vec<(String, &Expression)> = Vec::new();
        let mut wrote_any = false;
        for structure in structures {
            match structure {
                Structure::Attribute(a) => run.push((a.key().to_string(), a.expr())),
                Structure::Block(b) => {
                    self.attributes(level, &run);
                    if wrote_any || !run.is_empty() {
                        self.out.push('\n');
                    }
                    run.clear();
                    self.block(level, b, &[]);
                }
            }
            wrote_any = true;
        }
        self.attributes(level, &run);
    }

    /// `key = value` lines; consecutive one-line ones share a column.
    fn attributes(&mut self, level: usize, attrs: &[(String, &Expression)]) {
        let mut i = 0;
        while i < attrs.len() {
            if let Expression::Object(object) = attrs[i].1 {
                if !object.is_empty() {
                    self.object(level, &attrs[i].0, object);
                    i += 1;
                    continue;
                }
            }
            let start = i;
            while i < attrs.len() && !is_multiline(attrs[i].1) {
                i += 1;
            }
            let width = attrs[start..i]
                .iter()
                .map(|(k, _)| k.len())
                .max()
                .unwrap_or(0);
            for (key, expr) in &attrs[start..i] {
                self.indent(level);
                self.out.push_str(key);
                for _ in key.len()..width {
                    self.out.push(' ');
                }
                self.out.push_str(" = ");
                let value = self.single_line(expr);
                self.out.push_str(&value);
                self.out.push('\n');
            }
        }
    }

    /// `key = {` then one aligned `KEY = value` per line, then `}`.
    fn object(
        &mut self,
        level: usize,
        key: &str,
        object: &hcl::expr::Object<ObjectKey, Expression>,
    ) {
        self.indent(level);
        self.out.push_str(key);
        self.out.push_str(" = {\n");
        let entries: Vec<(String, &Expression)> = object
            .iter()
            .map(|(k, v)| (self.object_key(k), v))
            .collect();
        self.attributes(level + 1, &entries);
        self.indent(level);
        self.out.push_str("}\n");
    }

    fn object_key(&mut self, key: &ObjectKey) -> String {
        match key {
            ObjectKey::Identifier(id) => id.as_str().to_string(),
            ObjectKey::Expression(e) => self.single_line(e),
            // `ObjectKey` is `#[non_exhaustive]`; every key the backend
            // builds is one of the two above.
            _ => unreachable!("the terraform backend builds identifier or string keys only"),
        }
    }

    fn single_line(&mut self, expr: &Expression) -> String {
        expr.format_string(&mut self.expr)
            .expect("formatting an in-memory expression into a Vec cannot fail")
    }
}

fn is_multiline(expr: &Expression) -> bool {
    matches!(expr, Expression::Object(o) if !o.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::expr::{Traversal, Variable};

    #[test]
    fn aligns_runs_and_breaks_them_at_objects_and_blocks() {
        let mut tags = hcl::expr::Object::new();
        tags.insert(
            ObjectKey::from(hcl::Identifier::unchecked("Name")),
            "a".into(),
        );
        tags.insert(
            ObjectKey::from(hcl::Identifier::unchecked("Project")),
            "b".into(),
        );
        let block = Block::builder("resource")
            .add_label("aws_security_group")
            .add_label("node_main")
            .add_attribute(("name", "x"))
            .add_attribute(("description", "say \"hi\" ${x}"))
            .add_attribute((
                "vpc_id",
                Expression::from(
                    Traversal::builder(Variable::unchecked("var"))
                        .attr("vpc_id")
                        .build(),
                ),
            ))
            .add_attribute(("tags", Expression::Object(tags)))
            .add_attribute(("ports", Expression::Array(vec![1.into(), 2.into()])))
            .add_block(
                Block::builder("lifecycle")
                    .add_attribute(("a", true))
                    .build(),
            )
            .build();
        let item = Item {
            comments: vec!["checkov:skip=CKV_X:why".into()],
            block,
        };
        let text = file(&["header".to_string()], &[item]);
        assert_eq!(
            text,
            "# header\n\nresource \"aws_security_group\" \"node_main\" {\n  # checkov:skip=CKV_X:why\n  name        = \"x\"\n  description = \"say \\\"hi\\\" $${x}\"\n  vpc_id      = var.vpc_id\n  tags = {\n    Name    = \"a\"\n    Project = \"b\"\n  }\n  ports = [1, 2]\n\n  lifecycle {\n    a = true\n  }\n}\n"
        );
    }
}

//! The drawing as Graphviz DOT. Every user string is written inside a
//! quoted ID through [`Text`], which escapes it so it stays one string
//! and reads back as the same characters.

use std::fmt::{self, Write};

use super::{colour, Boxed, Drawing, Item};
use crate::diagnostics::Diagnostic;
use crate::ir::Model;

/// Text for the inside of a DOT quoted string used as a label (an
/// `escString`): `"` and `\` are backslash-escaped; a line break becomes
/// `\n`; `&` and the other control characters become HTML entities, which
/// Graphviz decodes in every label, so a user's `&amp;` stays literal.
struct Text<'a>(&'a str);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '&' => f.write_str("&amp;")?,
                c if c.is_control() => write!(f, "&#{};", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Graphviz DOT.
pub fn dot(model: &Model, diagnostics: &[Diagnostic]) -> String {
    let drawing = Drawing::of(model, diagnostics);
    let mut out = String::from(
        "digraph infrac {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n",
    );
    for item in &drawing.items {
        write_item(&mut out, item).expect("writing to a String cannot fail");
    }
    out.push_str("}\n");
    out
}

fn write_item(out: &mut String, item: &Item) -> fmt::Result {
    match item {
        Item::Internet => {
            writeln!(
                out,
                "  internet [shape=doublecircle, label=\"internet\", color=\"#d73a49\"];"
            )
        }
        Item::Network { id, name, internal } => writeln!(
            out,
            "  {id} [shape=ellipse, style=dashed, label=\"network {}{}\"];",
            Text(name),
            if *internal { " (internal)" } else { "" }
        ),
        Item::Service(s) => write_service(out, s),
        Item::Range { id, key } => writeln!(
            out,
            "  {id} [shape=doublecircle, label=\"{}\", color=\"#e36209\"];",
            Text(key)
        ),
        Item::Attached { service, network } => writeln!(
            out,
            "  {service} -> {network} [style=dotted, arrowhead=none, color=gray];"
        ),
        Item::Depends { from, to } => writeln!(out, "  {from} -> {to} [label=\"depends\"];"),
        Item::Route {
            from,
            to,
            matcher,
            port,
            restriction,
            reach,
        } => {
            write!(out, "  {from} -> {to} [label=\"{} → :{port}", Text(matcher))?;
            if let Some(r) = restriction {
                write!(out, " restricted({})", Text(r))?;
            }
            writeln!(
                out,
                "\", penwidth=2, color=\"{}\"];",
                colour(reach.as_ref())
            )
        }
        Item::Published {
            from,
            to,
            host,
            public,
        } => writeln!(
            out,
            "  {from} -> {to} [label=\":{host}\", color=\"{}\"];",
            if *public { "#d73a49" } else { "#e36209" }
        ),
    }
}

/// A service's box, filled by its reach, outlined black when marked.
fn write_service(out: &mut String, s: &Boxed) -> fmt::Result {
    let Boxed { id, class, .. } = s;
    let fill = s.colour();
    let bad = s.marked();
    write!(
        out,
        "  {id} [shape=box, style=\"rounded,filled\", fillcolor=\"{fill}\", fontcolor=white, penwidth={}, color=\"{}\", label=\"{}\\n{class} · {}",
        if bad { 4 } else { 1 },
        if bad { "#000000" } else { fill },
        Text(s.name),
        Text(&s.reach_text()),
    )?;
    if bad {
        write!(out, "\\n⚠ {}", s.codes.join(" "))?;
    }
    writeln!(out, "\"];")
}

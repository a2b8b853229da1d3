//! The stdlib's `catalogue.inf` read without the parser. Every compilation
//! needs the catalogue, and parsing its 39 KB with pest was half of the
//! instructions of `check` of 50 services (the book's performance page,
//! "The parser's share"). The file keeps one entry per line in a fixed
//! form; [`scan`] reads that form, once per process, into a [`Table`] that
//! the checker turns into catalogue entries with their real spans, so a
//! finding that points into the catalogue points where it always did.
//!
//! The scan reads only that form: a comment after an entry, an escape in a
//! string, a list of images, two entries on a line, anything else, and it
//! gives up; the checker then parses the catalogue as any other module (the
//! general path, which also reports what is wrong with it). The test
//! `the_scan_reads_what_the_parser_reads` keeps the scan succeeding on the
//! embedded catalogue and agreeing with the parse, entry by entry.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::ir::Class;

/// The stdlib catalogue as rows, in the order the checker builds entries.
#[derive(Debug)]
pub(crate) struct Table {
    /// Per class block: its `images`, then its `remote_admin` images.
    pub(crate) entries: Vec<Row>,
    /// The well-known ports of each class, in file order (a later one wins).
    pub(crate) ports: Vec<(u16, Class, &'static str)>,
    /// `entries` by the last component of their repository path: an entry
    /// can only match an image whose path ends the same way, so a lookup
    /// tries those few instead of all.
    pub(crate) by_last: HashMap<String, Vec<u32>>,
}

impl Table {
    /// The entries that can match an image at repository path `path`, in
    /// table order.
    pub(crate) fn candidates(&self, path: &str) -> &[u32] {
        let last = path.rsplit('/').next().unwrap_or(path);
        self.by_last.get(last).map_or(&[], Vec::as_slice)
    }
}

/// One image entry: `"REPOSITORY" = { ports = [..], source = "URL" }`.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) image: &'static str,
    /// `image`'s repository path (most are the image as written).
    pub(crate) path: Cow<'static, str>,
    pub(crate) class: Class,
    pub(crate) remote_admin: bool,
    pub(crate) ports: Vec<u16>,
    pub(crate) source: Option<&'static str>,
    /// The key's bytes in the file, quotes included (the parser's span).
    pub(crate) key: (usize, usize),
}

/// The embedded catalogue's table, scanned on first use; `None` when the
/// file is not in the scanned form (or absent).
pub(crate) fn stdlib() -> Option<&'static Table> {
    static TABLE: OnceLock<Option<Table>> = OnceLock::new();
    TABLE
        .get_or_init(|| crate::stdlib::module(crate::stdlib::CATALOGUE).and_then(scan))
        .as_ref()
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Images,
    RemoteAdmin,
    Ports,
}

/// Reads the catalogue's form; `None` at the first line outside it.
pub(crate) fn scan(text: &'static str) -> Option<Table> {
    let mut table = Table {
        entries: Vec::new(),
        ports: Vec::new(),
        by_last: HashMap::new(),
    };
    // The class block being read, its sections seen, and its rows so far.
    let mut class: Option<Class> = None;
    let mut seen: Vec<Section> = Vec::new();
    let mut section: Option<Section> = None;
    let (mut images, mut remote) = (Vec::new(), Vec::new());
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let base = start;
        start += line.len();
        let mut c = Cursor {
            text,
            pos: base,
            end: base + line.trim_end_matches(['\n', '\r']).len(),
        };
        c.blank();
        if c.done() || c.rest().starts_with("//") {
            continue;
        }
        match (class, section) {
            (None, _) => {
                c.word("class")?;
                class = Some(Class::parse(c.ident()?)?);
                c.punct(b'{')?;
                seen.clear();
            }
            (Some(_), None) if c.rest().starts_with('}') => {
                c.punct(b'}')?;
                table.entries.append(&mut images);
                table.entries.append(&mut remote);
                class = None;
            }
            (Some(_), None) => {
                let s = match c.ident()? {
                    "images" => Section::Images,
                    "remote_admin" => Section::RemoteAdmin,
                    "ports" => Section::Ports,
                    _ => return None,
                };
                if seen.contains(&s) {
                    return None;
                }
                seen.push(s);
                c.punct(b'=')?;
                c.punct(b'{')?;
                section = Some(s);
            }
            (Some(_), Some(_)) if c.rest().starts_with('}') => {
                c.punct(b'}')?;
                section = None;
            }
            (Some(k), Some(Section::Ports)) => {
                let port = c.number()?;
                c.punct(b'=')?;
                let what = c.string()?.0;
                table.ports.push((u16::try_from(port).ok()?, k, what));
            }
            (Some(k), Some(s)) => {
                let row = entry(&mut c, k, s == Section::RemoteAdmin)?;
                match s {
                    Section::RemoteAdmin => remote.push(row),
                    _ => images.push(row),
                }
            }
        }
        if !c.done() {
            return None;
        }
    }
    if class.is_some() {
        return None;
    }
    for (i, row) in table.entries.iter().enumerate() {
        let last = row.path.rsplit('/').next().unwrap_or(&row.path);
        table
            .by_last
            .entry(last.to_string())
            .or_default()
            .push(i as u32);
    }
    Some(table)
}

/// `"REPOSITORY" = { ports = [N, ..], source = "URL" }` (either field may
/// be left out, in either order).
fn entry(c: &mut Cursor, class: Class, remote_admin: bool) -> Option<Row> {
    let (image, key) = c.string()?;
    c.punct(b'=')?;
    c.punct(b'{')?;
    let (mut ports, mut source) = (None, None);
    loop {
        match c.ident()? {
            "ports" if ports.is_none() => {
                c.punct(b'=')?;
                ports = Some(port_list(c)?);
            }
            "source" if source.is_none() => {
                c.punct(b'=')?;
                source = Some(c.string()?.0);
            }
            _ => return None,
        }
        if c.punct(b',').is_none() {
            break;
        }
    }
    c.punct(b'}')?;
    Some(Row {
        image,
        path: repository_path(image),
        class,
        remote_admin,
        ports: ports.unwrap_or_default(),
        source,
        key,
    })
}

/// [`super::repository_path`], without its allocations when the entry is
/// already one (no registry, `library/`, tag or digest): most are.
fn repository_path(image: &'static str) -> Cow<'static, str> {
    let plain = !image.contains(['@', ':'])
        && image.split_once('/').map_or(true, |(first, _)| {
            !first.contains('.') && !matches!(first, "localhost" | "library")
        });
    match plain {
        true => Cow::Borrowed(image),
        false => Cow::Owned(super::repository_path(image)),
    }
}

/// `[N, ..]` of ports 1 to 65535 (what the checker accepts); `[]` too.
fn port_list(c: &mut Cursor) -> Option<Vec<u16>> {
    c.punct(b'[')?;
    let mut ports = Vec::new();
    if c.punct(b']').is_some() {
        return Some(ports);
    }
    loop {
        let n = u16::try_from(c.number()?).ok().filter(|n| *n != 0)?;
        ports.push(n);
        if c.punct(b',').is_none() {
            break;
        }
    }
    c.punct(b']')?;
    Some(ports)
}

/// A position in one line of the catalogue (`pos..end`, offsets in the
/// whole text).
struct Cursor {
    text: &'static str,
    pos: usize,
    end: usize,
}

impl Cursor {
    fn rest(&self) -> &'static str {
        &self.text[self.pos..self.end]
    }

    fn done(&self) -> bool {
        self.pos == self.end
    }

    /// Skips spaces and tabs (the grammar's whitespace).
    fn blank(&mut self) {
        let bytes = self.text.as_bytes();
        while self.pos < self.end && matches!(bytes[self.pos], b' ' | b'\t') {
            self.pos += 1;
        }
    }

    fn punct(&mut self, p: u8) -> Option<()> {
        (self.rest().as_bytes().first() == Some(&p)).then(|| {
            self.pos += 1;
            self.blank();
        })
    }

    /// A run of letters, digits, `_` and `-` that starts with a letter.
    fn ident(&mut self) -> Option<&'static str> {
        let rest = self.rest();
        if !rest.as_bytes().first()?.is_ascii_alphabetic() {
            return None;
        }
        let len = rest
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            .unwrap_or(rest.len());
        self.pos += len;
        self.blank();
        Some(&rest[..len])
    }

    /// A keyword, whole.
    fn word(&mut self, word: &str) -> Option<()> {
        (self.ident()? == word).then_some(())
    }

    fn number(&mut self) -> Option<u64> {
        let rest = self.rest();
        let len = rest
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len());
        let n = rest[..len].parse().ok()?;
        self.pos += len;
        self.blank();
        Some(n)
    }

    /// A string without escapes: its text and its span, quotes included.
    fn string(&mut self) -> Option<(&'static str, (usize, usize))> {
        let rest = self.rest().strip_prefix('"')?;
        let len = rest.bytes().position(|b| b == b'"' || b == b'\\')?;
        if rest.as_bytes()[len] != b'"' {
            return None;
        }
        let start = self.pos;
        self.pos += len + 2;
        let text = &rest[..len];
        let key = (start, self.pos);
        self.blank();
        Some((text, key))
    }
}

#[cfg(test)]
mod tests {
    use super::scan;

    #[test]
    fn the_embedded_catalogue_is_in_the_scanned_form() {
        let table = super::stdlib().expect("catalogue.inf is in the form `scan` reads");
        assert!(table.entries.len() >= 300);
        assert!(!table.ports.is_empty());
    }

    #[test]
    fn repository_paths_as_the_checker_computes_them() {
        for image in [
            "redis",
            "bitnami/redis",
            "library/redis",
            "localhost/x",
            "quay.io/prometheus/prometheus",
            "redis:7",
            "a/b@sha256:ab",
        ] {
            assert_eq!(
                super::repository_path(image),
                crate::check::repository_path(image),
                "{image}"
            );
        }
    }

    #[test]
    fn anything_outside_the_form_gives_up() {
        let ok = "class data {\n  images = {\n    \"redis\" = { ports = [6379], source = \"https://x\" }\n  }\n  ports = {\n    6379 = \"Redis\"\n  }\n}\n";
        let table = scan(ok).expect("the form");
        assert_eq!(table.entries.len(), 1);
        assert_eq!(table.entries[0].key, (30, 37));
        assert_eq!(&ok[30..37], "\"redis\"");
        for text in [
            // A comment after an entry, an escape, a list of images, two
            // entries on a line, an unknown field, an unclosed class, a
            // port 0, a class that is none, a section twice.
            ok.replace("}\n  }", "} // c\n  }"),
            ok.replace("redis\"", "re\\u{64}is\""),
            "class data {\n  images = [\"redis\"]\n}\n".to_string(),
            ok.replace(
                "source = \"https://x\" }",
                "source = \"https://x\" } \"b\" = {}",
            ),
            ok.replace("source =", "sauce ="),
            ok.trim_end().trim_end_matches('}').to_string(),
            ok.replace("[6379]", "[0]"),
            ok.replace("class data", "class big"),
            ok.replace("  ports = {\n    6379", "  images = {\n    6379"),
        ] {
            if text != ok {
                assert!(
                    scan(Box::leak(text.clone().into_boxed_str())).is_none(),
                    "{text}"
                );
            }
        }
    }
}

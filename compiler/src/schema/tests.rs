//! The book's reference tables list exactly the attribute table's keys, in
//! its order, with the targets that honour each.

use super::*;

const SERVICE_PAGE: &str = include_str!("../../../book/src/reference/service.md");
const NODES_PAGE: &str = include_str!("../../../book/src/reference/nodes.md");
const RESOURCES_PAGE: &str = include_str!("../../../book/src/reference/resources.md");

/// The tables of a page whose last column is `targets`, in page order:
/// each row's keys (the backticked words of its first cell) and targets.
fn tables(page: &str) -> Vec<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<(String, Vec<String>)>> = None;
    for line in page.lines() {
        let cells: Vec<&str> = line
            .trim()
            .strip_prefix('|')
            .and_then(|l| l.strip_suffix('|'))
            .map(|l| l.split(" | ").map(str::trim).collect())
            .unwrap_or_default();
        match (&mut current, cells.as_slice()) {
            (None, [.., last]) if *last == "targets" => current = Some(Vec::new()),
            (Some(_), [first, ..]) if first.starts_with("---") => {}
            (Some(rows), [first, .., last]) => {
                let key = first.trim_matches('`').to_string();
                let targets = match *last {
                    "—" => Vec::new(),
                    list => list.split(", ").map(str::to_string).collect(),
                };
                rows.push((key, targets));
            }
            (Some(_), _) => out.extend(current.take()),
            (None, _) => {}
        }
    }
    out.extend(current);
    out
}

fn expected(table: &[Attr]) -> Vec<(String, Vec<String>)> {
    table
        .iter()
        .map(|a| {
            let targets = a.targets.iter().map(|t| t.name().to_string()).collect();
            (a.key.to_string(), targets)
        })
        .collect()
}

#[test]
fn the_book_lists_every_key_with_its_targets() {
    for (page, name, tables_of_page) in [
        (
            SERVICE_PAGE,
            "service.md",
            &[SERVICE, USER, DATA, HEALTH, RESOURCES, PLACEMENT, TLS][..],
        ),
        (NODES_PAGE, "nodes.md", &[NODE, PROVIDER][..]),
        (
            RESOURCES_PAGE,
            "resources.md",
            &[NETWORK, VOLUME, SECRET][..],
        ),
    ] {
        let found = tables(page);
        assert_eq!(found.len(), tables_of_page.len(), "{name}: tables");
        for (found, table) in found.iter().zip(tables_of_page) {
            assert_eq!(found, &expected(table), "{name}: a table differs");
        }
    }
}

#[test]
fn keys_are_unique_and_documented() {
    for table in [
        SERVICE, USER, DATA, HEALTH, RESOURCES, PLACEMENT, TLS, NODE, NETWORK, VOLUME, SECRET,
        PROVIDER,
    ] {
        for (i, a) in table.iter().enumerate() {
            assert!(!a.doc.is_empty(), "`{}` has no doc line", a.key);
            assert!(
                table[..i].iter().all(|b| b.key != a.key),
                "`{}` twice",
                a.key
            );
        }
    }
    assert_eq!(SERVICE_KEYS.len(), SERVICE.len());
    assert_eq!(
        find(SERVICE, "health").map(|a| a.ty),
        Some(ValueType::Map(HEALTH))
    );
}

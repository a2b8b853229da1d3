//! The TextMate grammar (`editors/infrac.tmLanguage.json`) run over every
//! example and stdlib module: each regex compiles (fancy-regex reads the
//! Oniguruma subset the grammar uses), tokenising makes progress on every
//! line and ends with no comment or string left open, and the words that
//! matter get their scopes.
//!
//! The engine is the smallest that follows TextMate's rules for this
//! grammar: at each position the earliest match among the context's
//! patterns (and the open rule's `end`) wins, first listed on a tie.

use std::collections::HashMap;

use fancy_regex::Regex;
use serde_json::Value;

struct Rule {
    regex: Option<Regex>,
    name: Option<String>,
    captures: HashMap<usize, String>,
    /// For a begin/end rule: its end and its own patterns.
    end: Option<Regex>,
    inner: Vec<Value>,
}

struct Grammar {
    repository: serde_json::Map<String, Value>,
}

impl Grammar {
    /// The rules of `patterns`, includes expanded.
    fn rules(&self, patterns: &[Value]) -> Vec<Rule> {
        let mut out = Vec::new();
        for p in patterns {
            if let Some(include) = p["include"].as_str() {
                let key = include.trim_start_matches('#');
                let target = &self.repository[key];
                match target["patterns"].as_array() {
                    Some(list) if target.get("begin").is_none() => out.extend(self.rules(list)),
                    _ => out.extend(self.rules(std::slice::from_ref(target))),
                }
                continue;
            }
            let compile = |s: &str| Regex::new(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            let captures = p["captures"]
                .as_object()
                .map(|c| {
                    c.iter()
                        .map(|(k, v)| (k.parse().unwrap(), v["name"].as_str().unwrap().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Rule {
                regex: p["match"].as_str().or(p["begin"].as_str()).map(compile),
                name: p["name"].as_str().map(str::to_string),
                captures,
                end: p["end"].as_str().map(compile),
                inner: p["patterns"].as_array().cloned().unwrap_or_default(),
            });
        }
        out
    }
}

/// Tokenises `text`; returns each scoped piece as (scope, text) and the
/// number of begin/end rules still open at the end.
fn tokenise(grammar: &Grammar, top: &[Value], text: &str) -> (Vec<(String, String)>, usize) {
    let top_rules = grammar.rules(top);
    // The open begin/end rules: (scope, end, inner rules).
    let mut stack: Vec<(Option<String>, Regex, Vec<Rule>)> = Vec::new();
    let mut tokens = Vec::new();
    // Line by line, without the newline: TextMate's `$` is the end of the line.
    for line in text.lines() {
        let mut pos = 0;
        while pos < line.len() {
            let rules = stack.last().map_or(&top_rules, |(_, _, r)| r);
            let mut best: Option<(usize, usize, Option<&Rule>)> = None;
            if let Some((_, end, _)) = stack.last() {
                if let Some(m) = end.find_from_pos(line, pos).unwrap() {
                    best = Some((m.start(), m.end(), None));
                }
            }
            for rule in rules {
                let Some(re) = &rule.regex else { continue };
                if let Some(m) = re.find_from_pos(line, pos).unwrap() {
                    if best.map_or(true, |(s, _, _)| m.start() < s) {
                        best = Some((m.start(), m.end(), Some(rule)));
                    }
                }
            }
            let Some((start, end, rule)) = best else {
                break;
            };
            let scope = stack.iter().rev().find_map(|(s, _, _)| s.clone());
            match rule {
                None => {
                    let (name, _, _) = stack.pop().unwrap();
                    tokens.push((name.unwrap_or_default(), line[start..end].to_string()));
                }
                Some(rule) => {
                    let caps = rule
                        .regex
                        .as_ref()
                        .unwrap()
                        .captures_from_pos(line, pos)
                        .unwrap()
                        .unwrap();
                    for (i, name) in &rule.captures {
                        if let Some(c) = caps.get(*i) {
                            tokens.push((name.clone(), c.as_str().to_string()));
                        }
                    }
                    if let Some(name) = rule.name.clone().or(scope) {
                        tokens.push((name, line[start..end].to_string()));
                    }
                    if let Some(end_re) = &rule.end {
                        stack.push((
                            rule.name.clone(),
                            end_re.clone(),
                            grammar.rules(&rule.inner),
                        ));
                    }
                }
            }
            // An empty match must not stall the line.
            pos = if end > pos {
                end
            } else {
                pos + line[pos..].chars().next().map_or(1, char::len_utf8)
            };
        }
    }
    (tokens, stack.len())
}

fn files() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut out = Vec::new();
    for dir in ["examples", "stdlib"] {
        for entry in walk(&std::path::Path::new(root).join(dir)) {
            if entry.extension().is_some_and(|e| e == "inf") {
                out.push((
                    entry.display().to_string(),
                    std::fs::read_to_string(&entry).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_grammar_tokenises_every_example() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/editors/infrac.tmLanguage.json"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(json["scopeName"], "source.infrac");
    let grammar = Grammar {
        repository: json["repository"].as_object().unwrap().clone(),
    };
    let top = json["patterns"].as_array().unwrap();
    let files = files();
    assert!(files.len() > 10);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (name, text) in &files {
        let (tokens, open) = tokenise(&grammar, top, text);
        assert_eq!(open, 0, "{name}: a comment or string is left open");
        for (scope, piece) in &tokens {
            *seen.entry(scope.clone()).or_default() += 1;
            if scope.starts_with("support.constant.exposure") {
                assert!(
                    ["local", "internal", "public"].contains(&piece.as_str()),
                    "{name}: {piece}"
                );
            }
        }
        // Every line comment outside a string is a comment token.
        for line in text.lines().filter(|l| l.trim_start().starts_with("//")) {
            let comment = line.trim_start();
            assert!(
                tokens
                    .iter()
                    .any(|(s, p)| s.starts_with("comment") && p == comment),
                "{name}: {line}"
            );
        }
    }
    for scope in [
        "storage.type.infrac",
        "entity.name.type.infrac",
        "keyword.other.port.infrac",
        "support.constant.exposure.infrac",
        "string.quoted.double.infrac",
        "variable.other.property.infrac",
        "comment.line.double-slash.infrac",
        "entity.other.inherited-class.infrac",
        "keyword.control.import.infrac",
    ] {
        assert!(seen.contains_key(scope), "no {scope} anywhere");
    }
}

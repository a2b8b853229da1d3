//! Compose's variable interpolation in values: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR:+alt}`,
//! and `$$` for a literal `$`.
//!
//! Two passes, as the import sees two environments. [`substitute`] runs
//! over the whole tree before anything is typed, with the project's
//! variables (compose's `.env` beside the file, or `--env-file`): a
//! variable that has a value there is replaced, so `read_only: ${RO}` is a
//! boolean by the time the importer reads it. The shell's environment is
//! not read: an import gives the same program wherever it runs. What is
//! left — variables without a value — is read by [`interpolate`] field by
//! field: a variable with a default takes its default, one without stays
//! as written (`${VAR}`); the caller decides whether that can become
//! `env("VAR")`, and reports it at its YAML line.

use std::collections::HashMap;

use super::yaml::{Kind, Node};

/// The project's variables: name → value (an empty value is set).
pub(crate) type Vars = HashMap<String, String>;

/// `s` with every variable that `vars` decides replaced by its value
/// (`$` in a value doubled, so the field pass reads it literally), the
/// others left as written for [`interpolate`]; `None` when nothing
/// changed. `Err` says why compose would refuse the text.
pub(crate) fn substitute(s: &str, vars: &Vars) -> Result<Option<String>, String> {
    if !s.contains('$') {
        return Ok(None);
    }
    let mut out = String::with_capacity(s.len());
    expand(s, vars, Mode::Keep, &mut out)?;
    Ok((out != s).then_some(out))
}

/// `s` interpolated as compose interpolates a `.env` value: a variable
/// without a value is empty.
pub(crate) fn resolve_fully(s: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(s.len());
    match expand(s, vars, Mode::Final, &mut out) {
        Ok(()) => out,
        Err(_) => s.to_string(),
    }
}

/// Every scalar value of `node` (not its keys: compose interpolates
/// values only) with [`substitute`] applied. A value compose could not
/// interpolate is left for the field pass, which reports it.
pub(crate) fn substitute_tree(node: &mut Node, vars: &Vars) {
    match &mut node.kind {
        Kind::Scalar { text, .. } => {
            if let Ok(Some(new)) = substitute(text, vars) {
                *text = new;
            }
        }
        Kind::Seq(items) => items.iter_mut().for_each(|i| substitute_tree(i, vars)),
        Kind::Map(entries) => entries
            .iter_mut()
            .for_each(|(_, v)| substitute_tree(v, vars)),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Replace what `vars` decides, keep the rest as written.
    Keep,
    /// Replace everything (unset is empty), `$$` is `$`.
    Final,
}

/// The longest text one interpolation may give. Each `.env` value is
/// interpolated with those before it, so `B=${A}${A}`, `C=${B}${B}`, ...
/// doubles per line: 40 lines asked for a terabyte (the fuzzing page's
/// adversarial run). Real values are a few kilobytes.
const MAX_EXPANDED: usize = 256 << 10;

fn expand(s: &str, vars: &Vars, mode: Mode, out: &mut String) -> Result<(), String> {
    let too_long = || format!("the interpolated value is longer than {MAX_EXPANDED} bytes");
    let value = |v: &str, out: &mut String| {
        if out.len().saturating_add(v.len()) > MAX_EXPANDED {
            return Err(too_long());
        }
        match mode {
            Mode::Keep => out.push_str(&v.replace('$', "$$")),
            Mode::Final => out.push_str(v),
        }
        Ok(())
    };
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        if out.len() > MAX_EXPANDED {
            return Err(too_long());
        }
        if c != '$' {
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        match s[i + 1..].chars().next() {
            Some('$') => {
                out.push_str(if mode == Mode::Keep { "$$" } else { "$" });
                i += 2;
            }
            Some('{') => {
                let close = matching_brace(s, i + 1)
                    .ok_or_else(|| format!("`{}` has no closing `}}`", &s[i..]))?;
                let inner = &s[i + 2..close];
                let (name, op, arg) = split_braced(inner)?;
                let set = vars.get(name).map(String::as_str);
                let nonempty = set.filter(|v| !v.is_empty());
                match (op, set) {
                    ("", Some(v)) | ("-" | "?", Some(v)) => value(v, out)?,
                    (":-" | ":?", Some(_)) if nonempty.is_some() => {
                        value(set.unwrap_or_default(), out)?
                    }
                    (":-", Some(_)) => expand(arg, vars, mode, out)?,
                    (":+", Some(_)) if nonempty.is_none() => {}
                    (":+" | "+", Some(_)) => expand(arg, vars, mode, out)?,
                    (_, None) | (":?", Some(_)) if mode == Mode::Keep => {
                        // Left for the field pass, with what is known of
                        // its default expanded.
                        out.push_str("${");
                        out.push_str(name);
                        out.push_str(op);
                        if matches!(op, ":-" | "-" | ":+" | "+") {
                            expand(arg, vars, mode, out)?;
                        } else {
                            out.push_str(arg);
                        }
                        out.push('}');
                    }
                    (":-" | "-", _) => expand(arg, vars, mode, out)?,
                    _ => {}
                }
                i = close + 1;
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let rest = &s[i + 1..];
                let len = rest
                    .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                    .unwrap_or(rest.len());
                let name = &rest[..len];
                match vars.get(name) {
                    Some(v) => value(v, out)?,
                    None if mode == Mode::Keep => out.push_str(&s[i..=i + len]),
                    None => {}
                }
                i += 1 + len;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok(())
}

/// `NAME`, the operator (`:-`, `-`, `:?`, `?`, `:+`, `+` or none) and its
/// argument of the inside of a `${...}`.
fn split_braced(inner: &str) -> Result<(&str, &'static str, &str), String> {
    let name_end = inner
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("`${{{inner}}}` is not a variable"));
    }
    let rest = &inner[name_end..];
    if rest.is_empty() {
        return Ok((name, "", ""));
    }
    let op = [":-", "-", ":?", "?", ":+", "+"]
        .into_iter()
        .find(|op| rest.starts_with(op))
        .ok_or_else(|| format!("`${{{inner}}}` is not a valid substitution"))?;
    Ok((name, op, &rest[op.len()..]))
}

/// A value after interpolation, and what was substituted in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Interpolated {
    pub text: String,
    /// The value was exactly one variable without a default (`${VAR}`,
    /// `$VAR`, `${VAR:?msg}`): its name.
    pub whole_var: Option<String>,
    /// The value was exactly one variable with a default
    /// (`${VAR:-default}`): its name.
    pub whole_default: Option<String>,
    /// Variables that took their default: (name, default).
    pub defaulted: Vec<(String, String)>,
    /// Variables left as written, having no default.
    pub unresolved: Vec<String>,
}

/// Interpolates `s`; an `Err` says why compose would refuse it.
pub(crate) fn interpolate(s: &str) -> Result<Interpolated, String> {
    let mut out = Interpolated::default();
    let mut pieces = 0;
    let mut only_var: Option<String> = None;
    let mut chars = s.char_indices().peekable();
    let mut literal = false;
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.text.push(c);
            literal = true;
            continue;
        }
        match chars.peek().map(|(_, c)| *c) {
            Some('$') => {
                chars.next();
                out.text.push('$');
                literal = true;
            }
            Some('{') => {
                let close = matching_brace(s, i + 1)
                    .ok_or_else(|| format!("`{}` has no closing `}}`", &s[i..]))?;
                let inner = &s[i + 2..close];
                while chars.peek().is_some_and(|(j, _)| *j <= close) {
                    chars.next();
                }
                pieces += 1;
                if let Some(whole) = braced(inner, &mut out)? {
                    only_var = Some(whole);
                }
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let mut name = String::new();
                while let Some((_, c)) = chars.peek().copied() {
                    if c == '_' || c.is_ascii_alphanumeric() {
                        name.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.text.push_str(&format!("${{{name}}}"));
                out.unresolved.push(name.clone());
                pieces += 1;
                only_var = Some(name);
            }
            // A `$` before anything else is kept as it is.
            _ => {
                out.text.push('$');
                literal = true;
            }
        }
    }
    if pieces == 1 && !literal {
        match only_var {
            Some(v) => out.whole_var = Some(v),
            None => out.whole_default = out.defaulted.first().map(|(v, _)| v.clone()),
        }
    }
    Ok(out)
}

/// The offset of the `}` that closes the `{` at `open`, nesting counted.
fn matching_brace(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// One `${...}`: appends its value and returns the variable's name when it
/// stays unresolved (no default).
fn braced(inner: &str, out: &mut Interpolated) -> Result<Option<String>, String> {
    let (name, op, arg) = split_braced(inner)?;
    match op {
        ":-" | "-" => {
            let default = interpolate(arg)?;
            out.text.push_str(&default.text);
            out.defaulted.push((name.to_string(), default.text));
            out.unresolved.extend(default.unresolved);
            return Ok(None);
        }
        ":+" | "+" => {
            // Set: the alternative; unset: nothing. An import cannot tell.
            out.defaulted.push((name.to_string(), String::new()));
            return Ok(None);
        }
        // None, or `:?`/`?`: the variable stays, unresolved.
        _ => {}
    }
    out.text.push_str(&format!("${{{name}}}"));
    out.unresolved.push(name.to_string());
    Ok(Some(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let i = interpolate("${TAG:-7.4}").unwrap();
        assert_eq!(i.text, "7.4");
        assert_eq!(i.defaulted, vec![("TAG".into(), "7.4".into())]);
        assert_eq!(i.whole_var, None);
        assert_eq!(i.whole_default.as_deref(), Some("TAG"));

        let i = interpolate("${DB_PASSWORD}").unwrap();
        assert_eq!(i.text, "${DB_PASSWORD}");
        assert_eq!(i.whole_var.as_deref(), Some("DB_PASSWORD"));

        let i = interpolate("$HOST").unwrap();
        assert_eq!(i.whole_var.as_deref(), Some("HOST"));

        let i = interpolate("http://${HOST}:80").unwrap();
        assert_eq!(i.whole_var, None);
        assert_eq!(i.unresolved, vec!["HOST".to_string()]);

        let i = interpolate("echo $$HOME ${A:-${B:-x}}").unwrap();
        assert_eq!(i.text, "echo $HOME x");

        let i = interpolate("${X:?set X}").unwrap();
        assert_eq!(i.whole_var.as_deref(), Some("X"));
        assert_eq!(interpolate("plain").unwrap().text, "plain");
        assert!(interpolate("${open").is_err());
        assert!(interpolate("${}").is_err());
    }

    #[test]
    fn the_project_variables_decide_what_they_can() {
        let vars: Vars = [("SET", "v$1"), ("EMPTY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let sub = |s: &str| substitute(s, &vars).unwrap().unwrap_or(s.to_string());
        // After the tree pass, the field pass gives compose's value.
        let both = |s: &str| interpolate(&sub(s)).unwrap().text;
        for (form, compose) in [
            ("${SET}", "v$1"),
            ("$SET/x", "v$1/x"),
            ("${SET:-d}", "v$1"),
            ("${EMPTY:-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${UNSET-d}", "d"),
            ("${UNSET:-${SET}}", "v$1"),
            ("${SET:?no}", "v$1"),
            ("${EMPTY?no}", ""),
            ("${SET:+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${EMPTY+alt}", "alt"),
            ("$$SET", "$SET"),
        ] {
            assert_eq!(both(form), compose, "{form}");
        }
        // What the variables do not decide is left for the field pass.
        assert_eq!(sub("${UNSET}"), "${UNSET}");
        assert_eq!(sub("$UNSET"), "$UNSET");
        assert_eq!(sub("${UNSET:?set it}"), "${UNSET:?set it}");
        assert_eq!(sub("${EMPTY:?set it}"), "${EMPTY:?set it}");
        assert_eq!(sub("${UNSET:-a${SET}}"), "${UNSET:-av$$1}");
        assert_eq!(substitute("no variable", &vars), Ok(None));
        assert_eq!(
            resolve_fully("${SET}-${UNSET}-${UNSET:-d}", &vars),
            "v$1--d"
        );
    }
}

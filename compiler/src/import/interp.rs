//! Compose's variable interpolation in values: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR:+alt}`,
//! and `$$` for a literal `$`.
//!
//! An import has no environment to read, so a variable with a default
//! takes its default, and one without stays as written (`${VAR}`); the
//! caller decides whether that can become `env("VAR")`.

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
    let name_end = inner
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("`${{{inner}}}` is not a variable"));
    }
    let rest = &inner[name_end..];
    let op = [":-", "-", ":?", "?", ":+", "+"]
        .into_iter()
        .find(|op| rest.starts_with(op));
    match op {
        None if rest.is_empty() => {}
        Some(":-" | "-") => {
            let arg = &rest[if rest.starts_with(':') { 2 } else { 1 }..];
            let default = interpolate(arg)?;
            out.text.push_str(&default.text);
            out.defaulted.push((name.to_string(), default.text));
            out.unresolved.extend(default.unresolved);
            return Ok(None);
        }
        Some(":?" | "?") => {}
        Some(":+" | "+") => {
            // Set: the alternative; unset: nothing. An import cannot tell.
            out.defaulted.push((name.to_string(), String::new()));
            return Ok(None);
        }
        _ => return Err(format!("`${{{inner}}}` is not a valid substitution")),
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
}

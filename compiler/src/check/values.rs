//! Reading typed values out of generic AST values: "expected a string for
//! `image`, found a list" lives here, once, for every attribute of every
//! item. `let` names are substituted where a literal is expected.

use ipnet::IpNet;

use super::Ctx;
use crate::ast::{Value, ValueKind};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{QuantityError, Ranges};

/// What a typed quantity is called in messages, and how one is written.
pub(super) struct QuantityKind<T> {
    /// `a duration`, `an amount of memory`.
    pub(super) noun: &'static str,
    /// The label of a malformed one: `expected a size such as "512Mi" or "1Gi"`.
    pub(super) expected: &'static str,
    /// One written well, for the help of an absurd one: `"512Mi"`.
    pub(super) example: &'static str,
    pub(super) parse: fn(&str) -> Result<T, QuantityError>,
}

/// How deep `let a = b` chains may go before we call it a cycle.
const LET_DEPTH: usize = 32;

impl Ctx<'_> {
    /// Follows `let` names to the value they stand for.
    pub(super) fn deref<'v>(&self, mut value: &'v Value) -> &'v Value
    where
        Self: 'v,
    {
        for _ in 0..LET_DEPTH {
            match &value.kind {
                ValueKind::Name(n) => match self.lets.get(n.as_str()) {
                    Some(v) => value = v,
                    None => return value,
                },
                _ => return value,
            }
        }
        value
    }

    pub(super) fn type_error(&mut self, value: &Value, what: &str, expected: &str) {
        let found = value.kind.describe();
        let mut d = Diagnostic::new(
            Code::InvalidValue,
            value.span,
            format!("expected {expected} for {what}, found {found}"),
        )
        .label(format!("expected {expected}"));
        if let ValueKind::Name(n) = &value.kind {
            if expected.contains("string") {
                d = d.help(format!(
                    "write it in quotes: \"{n}\", or declare `let {n} = ...`"
                ));
            }
        }
        self.diagnostics.push(d);
    }

    pub(super) fn string(&mut self, value: &Value, what: &str) -> Option<String> {
        let v = self.deref(value);
        match &v.kind {
            ValueKind::Str(s) => Some(s.clone()),
            _ => {
                self.type_error(value, what, "a string");
                None
            }
        }
    }

    /// A string, or a number or boolean written bare (`cpu = 0.5`).
    pub(super) fn scalar(&mut self, value: &Value, what: &str) -> Option<String> {
        let v = self.deref(value);
        match &v.kind {
            ValueKind::Str(s) | ValueKind::Decimal(s) => Some(s.clone()),
            ValueKind::Int(i) => Some(i.to_string()),
            ValueKind::Bool(b) => Some(b.to_string()),
            _ => {
                self.type_error(value, what, "a string or a number");
                None
            }
        }
    }

    /// A typed quantity (a duration, memory, CPUs) from `text`, the value
    /// read as a string or scalar: malformed is `invalid-value`, absurd
    /// (`"99999999999999999999Gi"`) is `value-out-of-range`.
    pub(super) fn quantity<T>(
        &mut self,
        value: &Value,
        what: &str,
        text: String,
        kind: &QuantityKind<T>,
    ) -> Option<T> {
        match (kind.parse)(&text) {
            Ok(q) => Some(q),
            Err(QuantityError::Malformed) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        value.span,
                        format!("`{text}` is not {}", kind.noun),
                    )
                    .label(kind.expected),
                );
                None
            }
            Err(QuantityError::OutOfRange { bound }) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::ValueOutOfRange,
                        value.span,
                        format!("`{text}` is out of range for {what}"),
                    )
                    .label(format!("must be {bound}"))
                    .help(format!(
                        "{what} takes {} of {bound}, such as {}",
                        kind.noun, kind.example
                    )),
                );
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, value: &Value, what: &str) -> Option<bool> {
        match &self.deref(value).kind {
            ValueKind::Bool(b) => Some(*b),
            _ => {
                self.type_error(value, what, "`true` or `false`");
                None
            }
        }
    }

    pub(super) fn integer(&mut self, value: &Value, what: &str, max: u64) -> Option<u64> {
        match &self.deref(value).kind {
            ValueKind::Int(i) if *i <= max => Some(*i),
            ValueKind::Int(i) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        value.span,
                        format!("{i} is out of range for {what}"),
                    )
                    .label(format!("at most {max}")),
                );
                None
            }
            _ => {
                self.type_error(value, what, "a whole number");
                None
            }
        }
    }

    pub(super) fn port_number(&mut self, value: &Value, what: &str) -> Option<u16> {
        let n = self.integer(value, what, 65535)?;
        if n == 0 {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    value.span,
                    format!("0 is not a port for {what}"),
                )
                .label("ports run from 1 to 65535"),
            );
            return None;
        }
        Some(n as u16)
    }

    /// One of a fixed set of bare words (`class = data`).
    pub(super) fn word<'w>(
        &mut self,
        value: &Value,
        what: &str,
        allowed: &[&'w str],
    ) -> Option<&'w str> {
        let v = self.deref(value);
        let found = match &v.kind {
            ValueKind::Name(n) | ValueKind::Str(n) => n.as_str(),
            _ => {
                let expected = format!("one of {}", quote_list(allowed));
                self.type_error(value, what, &expected);
                return None;
            }
        };
        if let Some(w) = allowed.iter().find(|a| **a == found) {
            return Some(w);
        }
        let mut d = Diagnostic::new(
            Code::InvalidValue,
            value.span,
            format!("`{found}` is not a valid value for {what}"),
        )
        .label(format!("expected one of {}", quote_list(allowed)));
        if let Some(s) = super::names::closest(found, allowed.iter().copied()) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        self.diagnostics.push(d);
        None
    }

    /// A list literal (or a `let` name standing for one).
    pub(super) fn list<'v>(&mut self, value: &'v Value, what: &str) -> Option<&'v [Value]>
    where
        Self: 'v,
    {
        match &self.deref(value).kind {
            ValueKind::List(items) => Some(items),
            _ => {
                self.type_error(value, what, "a list");
                None
            }
        }
    }

    pub(super) fn strings(&mut self, value: &Value, what: &str) -> Option<Vec<String>> {
        let items = self.list(value, what)?;
        Some(items.iter().filter_map(|i| self.string(i, what)).collect())
    }

    /// `command = "sh -c x"` (split on spaces) or `command = ["sh", "-c", "x"]`.
    pub(super) fn command(&mut self, value: &Value, what: &str) -> Option<Vec<String>> {
        match &self.deref(value).kind {
            ValueKind::Str(s) => Some(s.split_whitespace().map(str::to_string).collect()),
            ValueKind::List(_) => self.strings(value, what),
            _ => {
                self.type_error(value, what, "a string or a list of strings");
                None
            }
        }
    }

    /// `{ key = "value" }` with scalar values, in source order.
    pub(super) fn string_map(
        &mut self,
        value: &Value,
        what: &str,
    ) -> Option<Vec<(String, String)>> {
        let v = self.deref(value);
        let ValueKind::Map(entries) = &v.kind else {
            self.type_error(value, what, "a map `{ key = value }`");
            return None;
        };
        Some(
            entries
                .iter()
                .filter_map(|e| Some((e.key.node.clone(), self.scalar(&e.value, what)?)))
                .collect(),
        )
    }

    /// A restriction's address list: `["203.0.113.7/32"]` or a `let` name.
    /// A bare address is taken as a single host (`/32` or `/128`). The
    /// list is canonical from here on (sorted, merged: [`Ranges`]).
    pub(super) fn cidrs(&mut self, value: &Value, what: &str) -> Option<Ranges> {
        let items = self.list(value, what)?;
        let mut nets = Vec::new();
        for item in items {
            let Some(text) = self.string(item, what) else {
                continue;
            };
            match parse_cidr(&text) {
                Some(net) => nets.push(net),
                None => self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidCidr,
                        item.span,
                        format!("`{text}` is not an address range"),
                    )
                    .label("expected an address or a CIDR")
                    .help("write an IPv4 or IPv6 range such as \"203.0.113.0/24\", or one address such as \"203.0.113.7\""),
                ),
            }
        }
        Some(Ranges::new(nets))
    }
}

pub(super) fn parse_cidr(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        // `10.0.0.1/8` means the network; keep it as the network it names.
        return Some(net.trunc());
    }
    text.parse::<std::net::IpAddr>().ok().map(IpNet::from)
}

pub(super) fn quote_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

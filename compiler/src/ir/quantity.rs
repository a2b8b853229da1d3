//! Typed quantities of the IR: a [`Duration`], an amount of memory
//! ([`Bytes`]) and a CPU limit ([`MilliCpu`]). Each is parsed once, in the
//! checker, from the program's text (one parser per type, also used by the
//! importer to tell a value it can carry over), and renders itself in each
//! target's spelling, so no backend parses a value again.
//!
//! Each keeps the number and unit it was written with: compose and swarm
//! write a value as the program did (`1m30s`, `cpus: "0.5"`), so that the
//! generated file reads like the source; Kubernetes gets its own quantity
//! syntax (`500m`, `512Mi`, whole seconds).

use std::fmt;

/// Why a text is not a quantity of some type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityError {
    /// Not the shape of one at all (`"ten"`, `"5x"`, `"0"` CPUs).
    Malformed,
    /// Well formed, but beyond what any deployment means; `bound` says
    /// which bound in words (`at most 1024Ti`), for the message.
    OutOfRange { bound: &'static str },
}

/// A non-negative decimal number as written: `digits / 10^scale`, so
/// `1.50` is (150, 2) and renders as `1.50` again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    digits: u128,
    scale: u32,
}

/// Fractions finer than this many digits are out of range for every type.
const MAX_SCALE: u32 = 18;

impl Decimal {
    /// `12`, `0.5`, `.5`, `2.`: digits with at most one point. `None` when
    /// malformed; `Err(OutOfRange)` is for numbers too long to hold.
    fn parse(s: &str) -> Result<Decimal, QuantityError> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
            return Err(QuantityError::Malformed);
        }
        let mut digits: u128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            digits = digits
                .checked_mul(10)
                .and_then(|d| d.checked_add(u128::from(b - b'0')))
                .ok_or(QuantityError::OutOfRange { bound: "" })?;
        }
        let scale = frac.len() as u32;
        if scale > MAX_SCALE {
            return Err(QuantityError::OutOfRange { bound: "" });
        }
        Ok(Decimal { digits, scale })
    }

    fn is_zero(self) -> bool {
        self.digits == 0
    }

    /// `self × factor`, rounded down, when it fits.
    fn times_floor(self, factor: u128) -> Option<u128> {
        Some(self.digits.checked_mul(factor)? / 10u128.pow(self.scale))
    }

    /// `self × factor`, rounded half up, when it fits.
    fn times_round(self, factor: u128) -> Option<u128> {
        let unit = 10u128.pow(self.scale);
        Some((self.digits.checked_mul(factor)? + unit / 2) / unit)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = 10u128.pow(self.scale);
        write!(f, "{}", self.digits / unit)?;
        if self.scale > 0 {
            write!(
                f,
                ".{:0width$}",
                self.digits % unit,
                width = self.scale as usize
            )?;
        }
        Ok(())
    }
}

/// The units of a duration, longest spelling first so `ms` is not read as `m`.
const TIME_UNITS: &[(&str, u64)] = &[
    ("ms", 1_000),
    ("us", 1),
    ("h", 3_600_000_000),
    ("m", 60_000_000),
    ("s", 1_000_000),
];

/// A span of time: `10s`, `1m30s`, `500ms`, `2h` (digits and a unit,
/// repeated). At most a day: no probe interval, timeout or grace period
/// means more.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Duration {
    micros: u64,
    /// The parts as written, for the targets that take the same syntax.
    parts: Vec<(u64, &'static str)>,
}

impl Duration {
    /// The longest duration a program may write.
    pub const MAX_MICROS: u64 = 24 * 3_600_000_000;

    pub fn parse(s: &str) -> Result<Duration, QuantityError> {
        const RANGE: QuantityError = QuantityError::OutOfRange {
            bound: "at most 24h",
        };
        let mut rest = s;
        let mut parts = Vec::new();
        let mut micros: u64 = 0;
        let mut overflow = false;
        if rest.is_empty() {
            return Err(QuantityError::Malformed);
        }
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 {
                return Err(QuantityError::Malformed);
            }
            let number = &rest[..digits];
            rest = &rest[digits..];
            let Some((unit, factor)) = TIME_UNITS.iter().find(|(u, _)| rest.starts_with(u)) else {
                return Err(QuantityError::Malformed);
            };
            rest = &rest[unit.len()..];
            match number.parse::<u64>().ok().and_then(|n| {
                let total = micros.checked_add(n.checked_mul(*factor)?)?;
                Some((n, total))
            }) {
                Some((n, total)) => {
                    micros = total;
                    parts.push((n, *unit));
                }
                // Keep reading: a malformed tail says more than the size.
                None => overflow = true,
            }
        }
        if overflow || micros > Self::MAX_MICROS {
            return Err(RANGE);
        }
        Ok(Duration { micros, parts })
    }

    pub fn as_micros(&self) -> u64 {
        self.micros
    }

    /// Whole seconds, rounded up and at least 1: Kubernetes' probe and
    /// grace-period fields count seconds and reject 0.
    pub fn k8s_seconds(&self) -> u32 {
        let seconds = self.micros.div_ceil(1_000_000).max(1);
        u32::try_from(seconds).expect("a duration is at most a day")
    }
}

/// Compose and swarm read Go's duration syntax: the value as written.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, unit) in &self.parts {
            write!(f, "{n}{unit}")?;
        }
        Ok(())
    }
}

/// The memory units the language accepts, with the bytes of each.
const BYTE_UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("b", 1),
    ("B", 1),
    ("k", 1000),
    ("K", 1000),
    ("kb", 1000),
    ("KB", 1000),
    ("Ki", 1 << 10),
    ("m", 1_000_000),
    ("M", 1_000_000),
    ("mb", 1_000_000),
    ("MB", 1_000_000),
    ("Mi", 1 << 20),
    ("g", 1_000_000_000),
    ("G", 1_000_000_000),
    ("gb", 1_000_000_000),
    ("GB", 1_000_000_000),
    ("Gi", 1 << 30),
    ("T", 1_000_000_000_000),
    ("TB", 1_000_000_000_000),
    ("Ti", 1 << 40),
];

/// An amount of memory: `512Mi`, `1G`, `1.5Gi`, `1024` (bytes). From one
/// byte to one pebibyte: more is no machine's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bytes {
    bytes: u64,
    amount: Decimal,
    unit: &'static str,
}

impl Bytes {
    /// The largest amount a program may write: 1024Ti (one pebibyte).
    pub const MAX: u64 = 1 << 50;

    pub fn parse(s: &str) -> Result<Bytes, QuantityError> {
        const RANGE: QuantityError = QuantityError::OutOfRange {
            bound: "at most 1024Ti",
        };
        let digits_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, unit) = s.split_at(digits_end);
        let Some((unit, factor)) = BYTE_UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(QuantityError::Malformed);
        };
        let amount = Decimal::parse(number).map_err(|e| match e {
            QuantityError::Malformed => e,
            QuantityError::OutOfRange { .. } => RANGE,
        })?;
        if amount.is_zero() {
            return Err(QuantityError::Malformed);
        }
        let bytes = match amount.times_floor(u128::from(*factor)) {
            Some(0) => {
                return Err(QuantityError::OutOfRange {
                    bound: "at least 1 byte",
                })
            }
            Some(b) if b <= u128::from(Self::MAX) => b,
            _ => return Err(RANGE),
        };
        Ok(Bytes {
            bytes: bytes as u64,
            amount,
            unit,
        })
    }

    /// `n` mebibytes (a backend's default).
    pub fn mebibytes(n: u64) -> Bytes {
        Bytes {
            bytes: n << 20,
            amount: Decimal {
                digits: u128::from(n),
                scale: 0,
            },
            unit: "Mi",
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Docker's spelling: a whole number of a binary unit keeps it with
    /// Docker's letter (`512Mi` → `512M`, which Docker reads as binary);
    /// anything else becomes a byte count, so no unit is misread.
    pub fn docker(&self) -> String {
        let letter = match self.unit {
            "Ki" => "K",
            "Mi" => "M",
            "Gi" => "G",
            "Ti" => "T",
            _ => return self.bytes.to_string(),
        };
        if self.amount.scale == 0 {
            format!("{}{letter}", self.amount)
        } else {
            self.bytes.to_string()
        }
    }

    /// A Kubernetes quantity: binary and upper-case decimal suffixes stay as
    /// written; anything else (`512MB`, `1g`) becomes bytes, since
    /// Kubernetes reads `m` as milli.
    pub fn k8s(&self) -> String {
        let kept = matches!(self.unit, "Ki" | "Mi" | "Gi" | "Ti" | "k" | "M" | "G" | "T")
            || (self.unit.is_empty() && self.amount.scale == 0);
        if kept {
            format!("{}{}", self.amount, self.unit)
        } else {
            self.bytes.to_string()
        }
    }
}

/// A CPU limit or request, as compose writes it (`"0.5"` CPUs), held in
/// thousandths of a CPU. More than zero; at most 1024 CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MilliCpu {
    millis: u64,
    amount: Decimal,
}

impl MilliCpu {
    /// The most CPUs a program may ask for.
    pub const MAX_CPUS: u64 = 1024;

    pub fn parse(s: &str) -> Result<MilliCpu, QuantityError> {
        const RANGE: QuantityError = QuantityError::OutOfRange {
            bound: "at most 1024",
        };
        let amount = Decimal::parse(s).map_err(|e| match e {
            QuantityError::Malformed => e,
            QuantityError::OutOfRange { .. } => RANGE,
        })?;
        if amount.is_zero() {
            return Err(QuantityError::Malformed);
        }
        let millis = amount
            .times_round(1000)
            .filter(|m| *m <= u128::from(Self::MAX_CPUS * 1000))
            .ok_or(RANGE)?;
        // Less than a millicore still asks for some CPU: the least there is.
        Ok(MilliCpu {
            millis: (millis as u64).max(1),
            amount,
        })
    }

    /// `millis` thousandths of a CPU (a backend's default).
    pub fn from_millis(millis: u64) -> MilliCpu {
        MilliCpu {
            millis,
            amount: Decimal {
                digits: u128::from(millis),
                scale: 3,
            },
        }
    }

    pub fn millis(&self) -> u64 {
        self.millis
    }

    /// Kubernetes' spelling: `500m`, or whole CPUs as `2`.
    pub fn k8s(&self) -> String {
        if self.millis % 1000 == 0 {
            (self.millis / 1000).to_string()
        } else {
            format!("{}m", self.millis)
        }
    }
}

/// Compose's `cpus`: the number as written.
impl fmt::Display for MilliCpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.amount.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = |s: &str| Duration::parse(s).unwrap();
        assert_eq!(d("1m30s").to_string(), "1m30s");
        assert_eq!(d("60s").to_string(), "60s");
        assert_eq!(d("10s").k8s_seconds(), 10);
        assert_eq!(d("1m30s").k8s_seconds(), 90);
        assert_eq!(d("500ms").k8s_seconds(), 1);
        assert_eq!(d("0s").k8s_seconds(), 1);
        assert_eq!(d("1h500us").as_micros(), 3_600_000_500);
        assert_eq!(d("24h").k8s_seconds(), 86_400);
        assert_eq!(Duration::parse(""), Err(QuantityError::Malformed));
        assert_eq!(Duration::parse("10"), Err(QuantityError::Malformed));
        assert_eq!(Duration::parse("1.5s"), Err(QuantityError::Malformed));
        assert_eq!(Duration::parse("s"), Err(QuantityError::Malformed));
        assert!(matches!(
            Duration::parse("24h1s"),
            Err(QuantityError::OutOfRange { .. })
        ));
        assert!(matches!(
            Duration::parse("99999999999999999999s"),
            Err(QuantityError::OutOfRange { .. })
        ));
        assert_eq!(
            Duration::parse("99999999999999999999sx"),
            Err(QuantityError::Malformed)
        );
    }

    #[test]
    fn memory() {
        let b = |s: &str| Bytes::parse(s).unwrap();
        assert_eq!(b("512Mi").bytes(), 512 << 20);
        assert_eq!(b("512Mi").k8s(), "512Mi");
        assert_eq!(b("512Mi").docker(), "512M");
        assert_eq!(b("1G").k8s(), "1G");
        assert_eq!(b("1G").docker(), "1000000000");
        assert_eq!(b("1g").k8s(), "1000000000");
        assert_eq!(b("512MB").k8s(), "512000000");
        assert_eq!(b("1.5Gi").k8s(), "1.5Gi");
        assert_eq!(b("1.5Gi").docker(), "1610612736");
        assert_eq!(b("1024").k8s(), "1024");
        assert_eq!(b("1024").docker(), "1024");
        assert_eq!(b("1.50Gi").k8s(), "1.50Gi");
        assert_eq!(Bytes::mebibytes(128).k8s(), "128Mi");
        for bad in ["", "Mi", "0", "0Gi", "1.2.3Mi", "5x", "-1Gi", "1e3"] {
            assert_eq!(Bytes::parse(bad), Err(QuantityError::Malformed), "{bad}");
        }
        for absurd in ["99999999999999999999Gi", "2Pi0", "1025Ti", "0.1"] {
            assert!(Bytes::parse(absurd).is_err(), "{absurd} is not refused");
        }
        assert!(matches!(
            Bytes::parse("99999999999999999999Gi"),
            Err(QuantityError::OutOfRange {
                bound: "at most 1024Ti"
            })
        ));
        assert_eq!(b("1024Ti").bytes(), Bytes::MAX);
    }

    #[test]
    fn cpus() {
        let c = |s: &str| MilliCpu::parse(s).unwrap();
        assert_eq!(c("0.5").k8s(), "500m");
        assert_eq!(c("2").k8s(), "2");
        assert_eq!(c("0.25").k8s(), "250m");
        assert_eq!(c("1.5").k8s(), "1500m");
        assert_eq!(c("1.0").to_string(), "1.0");
        assert_eq!(c("0.0001").millis(), 1);
        assert_eq!(c("0.0015").millis(), 2);
        assert_eq!(MilliCpu::from_millis(500).k8s(), "500m");
        for bad in ["0", "0.0", "-1", "", ".", "inf", "NaN", "1e3", "one"] {
            assert_eq!(MilliCpu::parse(bad), Err(QuantityError::Malformed), "{bad}");
        }
        assert!(matches!(
            MilliCpu::parse("1025"),
            Err(QuantityError::OutOfRange { .. })
        ));
        assert_eq!(c("1024").millis(), 1_024_000);
    }
}

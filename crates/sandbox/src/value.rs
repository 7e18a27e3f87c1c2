//! What a checked candidate returned or raised, decoded on the host.
//!
//! The reactor (`python-wasm/reactor.c`) encodes a result from exact built-in
//! types only, reading them through CPython's C API; see `encode` there for
//! the format. This module decodes it. Nothing here interprets a value: how
//! two values compare is the scoring crate's business.

use std::fmt;

use num_bigint::BigInt;

/// A Python value of an exact built-in type.
///
/// `PartialEq` is structural (a NaN equals nothing); Python's own equality,
/// with its tolerances, is the scoring crate's.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Python's `None`.
    None,
    /// A `bool`, kept apart from `int`.
    Bool(bool),
    /// An `int`, of any size.
    Int(BigInt),
    /// A `float`, as its IEEE 754 double.
    Float(f64),
    /// A `str`.
    Str(String),
    /// A `bytes`.
    Bytes(Vec<u8>),
    /// A `list`'s items, in order.
    List(Vec<Value>),
    /// A `tuple`'s items, in order.
    Tuple(Vec<Value>),
    /// A `set`'s items, in the guest's iteration order (fixed by its hash
    /// seed).
    Set(Vec<Value>),
    /// A `frozenset`'s items, in the guest's iteration order (fixed by its hash
    /// seed).
    FrozenSet(Vec<Value>),
    /// Pairs in the dict's own order.
    Dict(Vec<(Value, Value)>),
    /// Not of an exact built-in type, or past a bound: why, usually the
    /// type's name. The candidate's object was never asked to describe
    /// itself.
    Unrepresentable(String),
}

impl Value {
    /// The first part of this value that is not representable, if any.
    pub fn unrepresentable(&self) -> Option<&str> {
        match self {
            Value::Unrepresentable(why) => Some(why),
            Value::List(items)
            | Value::Tuple(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => items.iter().find_map(Value::unrepresentable),
            Value::Dict(pairs) => pairs
                .iter()
                .find_map(|(key, value)| key.unrepresentable().or_else(|| value.unrepresentable())),
            _ => None,
        }
    }

    /// Python's name for the value's type.
    pub fn type_name(&self) -> &str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Dict(_) => "dict",
            Value::Unrepresentable(why) => why,
        }
    }
}

/// An exception the candidate's code raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    /// The built-in exception classes among its type's real bases, found by
    /// identity with CPython's own classes, never by name.
    pub builtin_classes: Vec<String>,
    /// Its type's `__name__`, for a human; a candidate's class may call
    /// itself anything.
    pub type_name: String,
    /// Its `args`, a tuple.
    pub args: Value,
}

impl Raised {
    /// Whether it is an instance of the built-in exception class `name`.
    pub fn is_a(&self, name: &str) -> bool {
        self.builtin_classes.iter().any(|class| class == name)
    }

    /// `TypeName: message`, as a traceback's last line reads, built from the
    /// decoded `args` alone.
    pub fn describe(&self) -> String {
        let message = match &self.args {
            // str(SyntaxError): "invalid syntax (solution.py, line 3)".
            Value::Tuple(args) if self.is_a("SyntaxError") && args.len() == 2 => {
                match (&args[0], &args[1]) {
                    (Value::Str(message), Value::Tuple(location)) => match location.as_slice() {
                        [Value::Str(file), Value::Int(line), ..] => format!(
                            "{} ({}, line {})",
                            clipped(message, DESCRIBE_CHARS),
                            clipped(file, DESCRIBE_CHARS),
                            clipped(&Value::Int(line.clone()), DESCRIBE_CHARS)
                        ),
                        _ => clipped(message, DESCRIBE_CHARS),
                    },
                    _ => clipped(&self.args, DESCRIBE_CHARS),
                }
            }
            Value::Tuple(args) if args.is_empty() => String::new(),
            Value::Tuple(args) if args.len() == 1 => match &args[0] {
                // KeyError shows its key as a repr, like Python does.
                Value::Str(text) if !self.is_a("KeyError") => clipped(text, DESCRIBE_CHARS),
                other => clipped(other, DESCRIBE_CHARS),
            },
            other => clipped(other, DESCRIBE_CHARS),
        };
        if message.is_empty() {
            self.type_name.clone()
        } else {
            format!("{}: {message}", self.type_name)
        }
    }
}

/// Python refuses to turn an int of more digits than this into text
/// (`sys.int_info.default_max_str_digits`), and so do we: the conversion
/// costs time that grows with the square of the digits, on the host.
const MAX_INT_DIGITS: u64 = 4300;

/// The most of an exception's arguments [`Raised::describe`] renders.
const DESCRIBE_CHARS: usize = 2000;

/// An int as Python shows it, or, past [`MAX_INT_DIGITS`], its size.
fn int_repr(f: &mut fmt::Formatter<'_>, int: &BigInt) -> fmt::Result {
    // Digits from bits, which may overcount by one; at the limit itself,
    // the int is measured against 10^4300.
    let mut digits = (int.bits() as f64 * std::f64::consts::LOG10_2).floor() as u64 + 1;
    if digits == MAX_INT_DIGITS + 1 {
        static LIMIT: std::sync::OnceLock<BigInt> = std::sync::OnceLock::new();
        let limit = LIMIT.get_or_init(|| BigInt::from(10u8).pow(MAX_INT_DIGITS as u32));
        if int.magnitude() < limit.magnitude() {
            digits = MAX_INT_DIGITS;
        }
    }
    if digits > MAX_INT_DIGITS {
        let sign = if int.sign() == num_bigint::Sign::Minus {
            "-"
        } else {
            ""
        };
        return write!(f, "<{sign}int of about {digits} digits>");
    }
    write!(f, "{int}")
}

/// `value` as text, at most `max_chars` characters of it and `...` when
/// cut; rendering stops there, so a value of millions of items costs no
/// more than its first `max_chars`.
pub fn clipped(value: &dyn fmt::Display, max_chars: usize) -> String {
    struct Bounded {
        text: String,
        chars: usize,
        max_chars: usize,
        cut: bool,
    }
    impl fmt::Write for Bounded {
        fn write_str(&mut self, piece: &str) -> fmt::Result {
            for character in piece.chars() {
                if self.chars == self.max_chars {
                    self.cut = true;
                    return Err(fmt::Error);
                }
                self.text.push(character);
                self.chars += 1;
            }
            Ok(())
        }
    }
    let mut bounded = Bounded {
        text: String::new(),
        chars: 0,
        max_chars,
        cut: false,
    };
    let _ = fmt::write(&mut bounded, format_args!("{value}"));
    if bounded.cut {
        bounded.text.push_str("...");
    }
    bounded.text
}

/// A result, as the reactor's `fuelbench_result` encodes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Returned(Value),
    Raised(Raised),
    /// A batch's outcomes, one per input, each `Returned` or `Raised`.
    Batch(Vec<Outcome>),
}

/// Why an encoding could not be read: a fault of the host or of the
/// reactor, since no candidate code can write one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(pub(crate) String);

/// Deeper than the reactor ever encodes (it stops at 100).
const MAX_DEPTH: usize = 128;

pub(crate) fn decode_outcome(bytes: &[u8]) -> Result<Outcome, DecodeError> {
    let mut reader = Reader {
        bytes,
        at: 0,
        values_left: MAX_DECODED_VALUES,
    };
    let outcome = match reader.u8()? {
        b'B' => {
            let count = reader.u32()?;
            // Each outcome takes at least two bytes: never trust the count
            // for an allocation.
            let mut outcomes = Vec::with_capacity(count.min(bytes.len() / 2));
            for _ in 0..count {
                let tag = reader.u8()?;
                outcomes.push(reader.single_outcome(tag)?);
            }
            Outcome::Batch(outcomes)
        }
        tag => reader.single_outcome(tag)?,
    };
    if reader.at != bytes.len() {
        return Err(reader.error("trailing bytes".into()));
    }
    Ok(outcome)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// How many more values the host will build from this encoding.
    values_left: usize,
}

/// The most values the host builds from one encoding. The reactor's 16 MiB
/// cap alone would let an answer of sixteen million `None`s cost the host
/// half a gigabyte; this keeps one decoding near 40 MiB, and the largest
/// answer or input in the problem set is a few tens of thousands of values.
pub(crate) const MAX_DECODED_VALUES: usize = 1_000_000;

impl<'a> Reader<'a> {
    /// The body of a returned (`R`) or raised (`E`) outcome.
    fn single_outcome(&mut self, tag: u8) -> Result<Outcome, DecodeError> {
        Ok(match tag {
            b'R' => Outcome::Returned(self.value(0)?),
            b'E' => {
                let count = self.u32()?;
                let mut builtin_classes = Vec::new();
                for _ in 0..count {
                    builtin_classes.push(self.text()?);
                }
                let type_name = self.text()?;
                let args = self.value(0)?;
                Outcome::Raised(Raised {
                    builtin_classes,
                    type_name,
                    args,
                })
            }
            tag => return Err(self.error(format!("unknown outcome tag {tag:#04x}"))),
        })
    }

    fn error(&self, what: String) -> DecodeError {
        DecodeError(format!(
            "{what} at byte {} of {}",
            self.at,
            self.bytes.len()
        ))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.error(format!("{n} bytes past the end")))?;
        let bytes = &self.bytes[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<usize, DecodeError> {
        let bytes = self.take(4)?;
        let value = u32::from_le_bytes(bytes.try_into().expect("took four bytes"));
        Ok(value as usize)
    }

    fn blob(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()?;
        self.take(n)
    }

    fn text(&mut self) -> Result<String, DecodeError> {
        let bytes = self.blob()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.error("text that is not UTF-8".into()))
    }

    /// A count of items, each at least one byte: bounded by what is left, so
    /// a corrupt count cannot make us reserve gigabytes.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let count = self.u32()?;
        if count > self.bytes.len() - self.at {
            return Err(self.error(format!("a count of {count} past the end")));
        }
        Ok(count)
    }

    fn values(&mut self, depth: usize) -> Result<Vec<Value>, DecodeError> {
        let count = self.count()?;
        (0..count).map(|_| self.value(depth + 1)).collect()
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(self.error("values nested too deep".into()));
        }
        self.values_left = self.values_left.checked_sub(1).ok_or_else(|| {
            DecodeError(format!(
                "more than {MAX_DECODED_VALUES} values, past what the host decodes"
            ))
        })?;
        Ok(match self.u8()? {
            b'N' => Value::None,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            b'i' => Value::Int(BigInt::from_signed_bytes_le(self.blob()?)),
            b'f' => {
                let bytes = self.take(8)?;
                Value::Float(f64::from_le_bytes(
                    bytes.try_into().expect("took eight bytes"),
                ))
            }
            b's' => Value::Str(self.text()?),
            b'b' => Value::Bytes(self.blob()?.to_vec()),
            b'l' => Value::List(self.values(depth)?),
            b't' => Value::Tuple(self.values(depth)?),
            b'S' => Value::Set(self.values(depth)?),
            b'z' => Value::FrozenSet(self.values(depth)?),
            b'd' => {
                let count = self.count()?;
                let mut pairs = Vec::with_capacity(count);
                for _ in 0..count {
                    let key = self.value(depth + 1)?;
                    let value = self.value(depth + 1)?;
                    pairs.push((key, value));
                }
                Value::Dict(pairs)
            }
            b'U' => Value::Unrepresentable(self.text()?),
            tag => return Err(self.error(format!("unknown value tag {tag:#04x}"))),
        })
    }
}

/// Python's `repr`, near enough for a report: `[(1, 6), (8, 10)]`, `'abc'`,
/// `1e+16`, `{'a': 1}`. Not representable parts show as `<TypeName>`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn items(f: &mut fmt::Formatter<'_>, items: &[Value]) -> fmt::Result {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        }
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(int) => int_repr(f, int),
            Value::Float(float) => f.write_str(&float_repr(*float)),
            Value::Str(text) => str_repr(f, text),
            Value::Bytes(bytes) => {
                f.write_str("b'")?;
                for &byte in bytes {
                    match byte {
                        b'\'' => f.write_str("\\'")?,
                        b'\\' => f.write_str("\\\\")?,
                        b'\n' => f.write_str("\\n")?,
                        b'\r' => f.write_str("\\r")?,
                        b'\t' => f.write_str("\\t")?,
                        0x20..=0x7e => write!(f, "{}", byte as char)?,
                        _ => write!(f, "\\x{byte:02x}")?,
                    }
                }
                f.write_str("'")
            }
            Value::List(values) => {
                f.write_str("[")?;
                items(f, values)?;
                f.write_str("]")
            }
            Value::Tuple(values) => {
                f.write_str("(")?;
                items(f, values)?;
                f.write_str(if values.len() == 1 { ",)" } else { ")" })
            }
            Value::Set(values) if values.is_empty() => f.write_str("set()"),
            Value::Set(values) => {
                f.write_str("{")?;
                items(f, values)?;
                f.write_str("}")
            }
            Value::FrozenSet(values) => {
                f.write_str("frozenset(")?;
                if !values.is_empty() {
                    f.write_str("{")?;
                    items(f, values)?;
                    f.write_str("}")?;
                }
                f.write_str(")")
            }
            Value::Dict(pairs) => {
                f.write_str("{")?;
                for (index, (key, value)) in pairs.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key}: {value}")?;
                }
                f.write_str("}")
            }
            Value::Unrepresentable(why) => write!(f, "<{why}>"),
        }
    }
}

/// `repr(float)`: the shortest digits that read back to the same float, in
/// positional notation from 1e-4 up to 1e16 and scientific outside.
fn float_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.into();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .into();
    }
    // `{:e}` gives the shortest round-trip digits: "1.5e16", "-2.5e-7".
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("{:e} always has an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} exponents are integers");
    if (-4..16).contains(&exponent) {
        let positional = format!("{value}");
        if positional.contains('.') {
            positional
        } else {
            format!("{positional}.0")
        }
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

/// `repr(str)`: single quotes unless the text has one and no double quote.
/// Python's `repr` of a str, written straight to `f`: a cut (see
/// [`clipped`]) stops it at once, however long the text.
fn str_repr(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    use fmt::Write as _;
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    f.write_char(quote)?;
    for ch in text.chars() {
        match ch {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c == quote => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char(quote)
}

#[cfg(test)]
mod tests;

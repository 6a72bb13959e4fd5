//! The Ion text tokenizer and parser behind `import::ion`: values into [`Ion`], with
//! whitespace and comments skipped, annotations kept for lists, escapes decoded, numbers
//! turned into DynamoDB number text. Bounded nesting; never panics.

use super::Bad;

/// Deeper than DynamoDB's 32 levels of nesting, with room for the `{Item:…}` wrapper.
const MAX_DEPTH: usize = 40;

/// The Ion values this reader keeps (list annotation: one `x::` before a list).
#[derive(Debug, PartialEq)]
pub enum Ion {
    Null,
    Bool(bool),
    /// As DynamoDB number text.
    Number(String),
    Str(String),
    Symbol(String),
    /// Base64.
    Blob(String),
    List(Vec<Ion>, Option<String>),
    Struct(Vec<(String, Ion)>),
}

pub struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn is_ident(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

impl<'a> Parser<'a> {
    pub fn new(s: &'a [u8]) -> Self {
        Parser { s, i: 0 }
    }

    /// Whether every byte was read.
    pub fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn starts(&self, t: &[u8]) -> bool {
        self.s.get(self.i..).is_some_and(|r| r.starts_with(t))
    }

    /// Whitespace and `//` / `/* */` comments.
    pub fn skip_space(&mut self) -> Result<(), Bad> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) => self.i += 1,
                Some(b'/') if self.starts(b"//") => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.i += 1;
                    }
                }
                Some(b'/') if self.starts(b"/*") => {
                    let rest = self.s.get(self.i + 2..).unwrap_or_default();
                    let end = rest
                        .windows(2)
                        .position(|w| w == b"*/")
                        .ok_or_else(|| Bad::from("Unterminated Ion comment"))?;
                    self.i += 2 + end + 2;
                }
                _ => return Ok(()),
            }
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), Bad> {
        self.skip_space()?;
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "Invalid Ion: expected '{}' at byte {}",
                b as char, self.i
            ))
        }
    }

    /// One value, with its annotations (`a::b::value`).
    pub fn value(&mut self, depth: usize) -> Result<Ion, Bad> {
        if depth > MAX_DEPTH {
            return Err("Ion values are nested too deeply".into());
        }
        self.skip_space()?;
        let mut annotation = None;
        loop {
            let save = self.i;
            let sym = match self.peek() {
                Some(b'\'') if !self.starts(b"'''") => Some(self.quoted(b'\'')?),
                Some(b) if is_ident_start(b) => Some(self.ident()),
                _ => None,
            };
            let Some(sym) = sym else { break };
            self.skip_space()?;
            if self.starts(b"::") {
                self.i += 2;
                self.skip_space()?;
                annotation.get_or_insert(sym);
                continue;
            }
            self.i = save;
            break;
        }
        let v = self.bare(depth)?;
        match (v, annotation) {
            (Ion::List(items, _), a) => Ok(Ion::List(items, a)),
            (v, None) => Ok(v),
            (_, Some(a)) => Err(format!("Unsupported Ion annotation {a}")),
        }
    }

    fn bare(&mut self, depth: usize) -> Result<Ion, Bad> {
        match self.peek() {
            None => Err("Invalid Ion: unexpected end of input".into()),
            Some(b'{') if self.starts(b"{{") => self.blob(),
            Some(b'{') => self.structure(depth),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.skip_space()?;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Ion::List(items, None));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_space()?;
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Ion::List(items, None));
                        }
                        _ => return Err(format!("Invalid Ion list at byte {}", self.i)),
                    }
                }
            }
            Some(b'(') => Err("Ion s-expressions are not supported".into()),
            Some(b'"') => Ok(Ion::Str(self.quoted(b'"')?)),
            Some(b'\'') if self.starts(b"'''") => Ok(Ion::Str(self.long_strings()?)),
            Some(b'\'') => Ok(Ion::Symbol(self.quoted(b'\'')?)),
            Some(b) if is_ident_start(b) => {
                let word = self.ident();
                match word.as_str() {
                    "true" => Ok(Ion::Bool(true)),
                    "false" => Ok(Ion::Bool(false)),
                    "null" => {
                        // `null.string` and the other typed nulls are null too.
                        if self.peek() == Some(b'.') {
                            self.i += 1;
                            self.ident();
                        }
                        Ok(Ion::Null)
                    }
                    "nan" => Err("Ion nan is not a DynamoDB number".into()),
                    _ => Ok(Ion::Symbol(word)),
                }
            }
            Some(b'-' | b'+' | b'0'..=b'9') => self.number(),
            Some(b) => Err(format!("Invalid Ion: unexpected '{}'", b as char)),
        }
    }

    fn structure(&mut self, depth: usize) -> Result<Ion, Bad> {
        self.i += 1;
        let mut fields = Vec::new();
        self.skip_space()?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Ion::Struct(fields));
        }
        loop {
            self.skip_space()?;
            let name = match self.peek() {
                Some(b'"') => self.quoted(b'"')?,
                Some(b'\'') if self.starts(b"'''") => self.long_strings()?,
                Some(b'\'') => self.quoted(b'\'')?,
                Some(b) if is_ident_start(b) => self.ident(),
                _ => return Err(format!("Invalid Ion field name at byte {}", self.i)),
            };
            self.expect(b':')?;
            fields.push((name, self.value(depth + 1)?));
            self.skip_space()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Ion::Struct(fields));
                }
                _ => return Err(format!("Invalid Ion struct at byte {}", self.i)),
            }
        }
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(is_ident) {
            self.i += 1;
        }
        String::from_utf8_lossy(self.s.get(start..self.i).unwrap_or_default()).into_owned()
    }

    /// A `"…"` string or `'…'` symbol, escapes decoded.
    fn quoted(&mut self, quote: u8) -> Result<String, Bad> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            match self.peek() {
                None => return Err("Unterminated Ion string".into()),
                Some(b) if b == quote => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    self.i += 1;
                    self.escape(&mut out)?;
                }
                Some(b'\n') if quote == b'"' => return Err("Newline in an Ion string".into()),
                Some(b) => {
                    out.push(b);
                    self.i += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| Bad::from("An Ion string is not valid UTF-8"))
    }

    /// `'''…''' '''…'''`: adjacent long strings are one string.
    fn long_strings(&mut self) -> Result<String, Bad> {
        let mut out: Vec<u8> = Vec::new();
        while self.starts(b"'''") {
            self.i += 3;
            loop {
                if self.starts(b"'''") {
                    self.i += 3;
                    break;
                }
                match self.peek() {
                    None => return Err("Unterminated Ion long string".into()),
                    Some(b'\\') => {
                        self.i += 1;
                        self.escape(&mut out)?;
                    }
                    Some(b) => {
                        out.push(b);
                        self.i += 1;
                    }
                }
            }
            self.skip_space()?;
        }
        String::from_utf8(out).map_err(|_| Bad::from("An Ion string is not valid UTF-8"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), Bad> {
        let b = self
            .peek()
            .ok_or_else(|| Bad::from("Unterminated Ion escape"))?;
        self.i += 1;
        let simple = match b {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'0' => Some(0),
            b'a' => Some(7),
            b'b' => Some(8),
            b'v' => Some(0x0b),
            b'f' => Some(0x0c),
            b'"' | b'\'' | b'\\' | b'/' | b'?' => Some(b),
            b'\n' => return Ok(()),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            return Ok(());
        }
        let digits = match b {
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            _ => return Err(format!("Invalid Ion escape \\{}", b as char)),
        };
        let hex = self
            .s
            .get(self.i..self.i + digits)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .ok_or_else(|| Bad::from("Invalid Ion escape"))?;
        self.i += digits;
        let mut buf = [0u8; 4];
        out.extend_from_slice(hex.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    /// `{{ base64 }}` (a clob `{{"…"}}` is refused).
    fn blob(&mut self) -> Result<Ion, Bad> {
        self.i += 2;
        let start = self.i;
        let end = self
            .s
            .get(start..)
            .and_then(|r| r.windows(2).position(|w| w == b"}}"))
            .ok_or_else(|| Bad::from("Unterminated Ion blob"))?;
        self.i = start + end + 2;
        let text: String = self
            .s
            .get(start..start + end)
            .unwrap_or_default()
            .iter()
            .filter(|b| !b.is_ascii_whitespace())
            .map(|&b| b as char)
            .collect();
        if text.starts_with('"') || text.starts_with('\'') {
            return Err("Ion clobs are not supported".into());
        }
        Ok(Ion::Blob(text))
    }

    /// An int (decimal, `0x`, `0b`, `_` separators), decimal (`.`, `d`) or float (`e`)
    /// as DynamoDB number text; `-inf`/`+inf` and timestamps are refused.
    fn number(&mut self) -> Result<Ion, Bad> {
        let start = self.i;
        while self.peek().is_some_and(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.' | b'_' | b':')
        }) {
            self.i += 1;
        }
        let raw = std::str::from_utf8(self.s.get(start..self.i).unwrap_or_default())
            .unwrap_or_default()
            .replace('_', "");
        if raw == "+inf" || raw == "-inf" {
            return Err("Ion infinities are not DynamoDB numbers".into());
        }
        let (sign, body) = match raw.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", raw.as_str()),
        };
        for (prefix, radix) in [("0x", 16), ("0X", 16), ("0b", 2), ("0B", 2)] {
            if let Some(digits) = body.strip_prefix(prefix) {
                let n = u128::from_str_radix(digits, radix)
                    .map_err(|_| format!("Invalid Ion int {raw}"))?;
                return Ok(Ion::Number(format!("{sign}{n}")));
            }
        }
        let valid = !body.is_empty()
            && body.starts_with(|c: char| c.is_ascii_digit())
            && body.bytes().all(|b| {
                b.is_ascii_digit() || matches!(b, b'.' | b'd' | b'D' | b'e' | b'E' | b'-' | b'+')
            });
        if !valid {
            return Err(format!("Invalid or unsupported Ion number {raw}"));
        }
        let text = body.replace(['d', 'D', 'e'], "E");
        let text = match text.split_once('E') {
            Some((m, e)) => format!("{}E{e}", m.strip_suffix('.').unwrap_or(m)),
            None => text.strip_suffix('.').unwrap_or(&text).to_string(),
        };
        Ok(Ion::Number(format!("{sign}{text}")))
    }
}

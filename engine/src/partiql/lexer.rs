//! The PartiQL lexer: statement text → tokens with byte offsets. Keywords are not told
//! apart here (an unquoted word is a `Word`; the parser compares it case-insensitively);
//! `--` and `/* */` comments are skipped. A `#`, an unterminated comment or string, or a
//! number whose exponent does not fit 32 bits fails with DynamoDB's empty-detail parse
//! error.

use super::{parse_error, PResult};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// An unquoted identifier or keyword.
    Word(String),
    /// A `"double-quoted"` identifier (never a keyword).
    Quoted(String),
    /// A `'single-quoted'` string literal (`''` is one quote).
    Str(String),
    /// A number literal's text, without sign.
    Num(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    LBag,
    RBag,
    Comma,
    Dot,
    Colon,
    Semi,
    Star,
    Question,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Slash,
    Other(char),
    Eof,
}

/// A token and where it starts (byte offset) and how long its text is (chars).
#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub at: usize,
    pub len: usize,
}

impl Token {
    /// Whether this is the unquoted keyword `kw` (any case).
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
}

/// `line:col` (1-based, in characters) of byte offset `at`.
pub fn line_col(src: &str, at: usize) -> (usize, usize) {
    let before = src.get(..at).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Tokenizes `src`; the last token is `Eof`.
pub fn lex(src: &str) -> PResult<Vec<Token>> {
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).map(|c| c.0).unwrap_or(src.len());
    let ch = |i: usize| chars.get(i).map(|c| c.1);
    while let Some(c) = ch(i) {
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '-' if ch(i + 1) == Some('-') => {
                while ch(i).is_some_and(|c| c != '\n') {
                    i += 1;
                }
                continue;
            }
            '/' if ch(i + 1) == Some('*') => {
                i += 2;
                loop {
                    match ch(i) {
                        None => return Err(parse_error("")),
                        Some('*') if ch(i + 1) == Some('/') => {
                            i += 2;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                continue;
            }
            '#' => return Err(parse_error("")),
            '\'' | '"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    match ch(i) {
                        None => return Err(parse_error("")),
                        Some(q) if q == c && ch(i + 1) == Some(c) => {
                            s.push(c);
                            i += 2;
                        }
                        Some(q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(o) => {
                            s.push(o);
                            i += 1;
                        }
                    }
                }
                if c == '\'' {
                    Tok::Str(s)
                } else {
                    Tok::Quoted(s)
                }
            }
            c if c.is_ascii_digit()
                || (c == '.' && ch(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut s = String::new();
                while let Some(d) = ch(i).filter(|d| d.is_ascii_digit() || *d == '.') {
                    s.push(d);
                    i += 1;
                }
                if let Some(e) = ch(i).filter(|e| *e == 'e' || *e == 'E') {
                    let mut j = i + 1;
                    let mut exp = String::new();
                    if let Some(sign) = ch(j).filter(|s| *s == '+' || *s == '-') {
                        exp.push(sign);
                        j += 1;
                    }
                    let digits_start = j;
                    while let Some(d) = ch(j).filter(char::is_ascii_digit) {
                        exp.push(d);
                        j += 1;
                    }
                    if j > digits_start {
                        if exp.parse::<i32>().is_err() {
                            return Err(parse_error(""));
                        }
                        s.push(e);
                        s.push_str(&exp);
                        i = j;
                    }
                }
                if s.matches('.').count() > 1 {
                    return Err(parse_error("Unexpected token after expression"));
                }
                Tok::Num(s)
            }
            c if word_char(c) => {
                let mut s = String::new();
                while let Some(w) = ch(i).filter(|w| word_char(*w)) {
                    s.push(w);
                    i += 1;
                }
                Tok::Word(s)
            }
            _ => {
                let two = (c, ch(i + 1));
                let (t, n) = match two {
                    ('<', Some('<')) => (Tok::LBag, 2),
                    ('>', Some('>')) => (Tok::RBag, 2),
                    ('<', Some('>')) | ('!', Some('=')) => (Tok::Ne, 2),
                    ('<', Some('=')) => (Tok::Le, 2),
                    ('>', Some('=')) => (Tok::Ge, 2),
                    ('<', _) => (Tok::Lt, 1),
                    ('>', _) => (Tok::Gt, 1),
                    ('=', _) => (Tok::Eq, 1),
                    ('(', _) => (Tok::LParen, 1),
                    (')', _) => (Tok::RParen, 1),
                    ('[', _) => (Tok::LBracket, 1),
                    (']', _) => (Tok::RBracket, 1),
                    ('{', _) => (Tok::LBrace, 1),
                    ('}', _) => (Tok::RBrace, 1),
                    (',', _) => (Tok::Comma, 1),
                    ('.', _) => (Tok::Dot, 1),
                    (':', _) => (Tok::Colon, 1),
                    (';', _) => (Tok::Semi, 1),
                    ('*', _) => (Tok::Star, 1),
                    ('?', _) => (Tok::Question, 1),
                    ('+', _) => (Tok::Plus, 1),
                    ('-', _) => (Tok::Minus, 1),
                    ('/', _) => (Tok::Slash, 1),
                    (o, _) => (Tok::Other(o), 1),
                };
                i += n;
                t
            }
        };
        out.push(Token {
            tok,
            at: at(start),
            len: i - start,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        at: src.len(),
        len: 0,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn comments_strings_numbers_and_bags() {
        assert_eq!(
            kinds("a /* x */ -- y\n 'it''s' \"q\"\"\" .73e1 <<1>> <> != <="),
            vec![
                Tok::Word("a".into()),
                Tok::Str("it's".into()),
                Tok::Quoted("q\"".into()),
                Tok::Num(".73e1".into()),
                Tok::LBag,
                Tok::Num("1".into()),
                Tok::RBag,
                Tok::Ne,
                Tok::Ne,
                Tok::Le,
                Tok::Eof
            ]
        );
        assert_eq!(kinds("7.31E+6")[0], Tok::Num("7.31E+6".into()));
        assert!(lex("a # b").is_err());
        assert!(lex("a /* b").is_err());
        assert!(lex("1e99999999999").is_err());
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}

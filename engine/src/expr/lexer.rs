//! The expression lexer: turns expression text into tokens with byte spans. It never
//! fails: a character that starts no token becomes a one-character `Unknown` token, so
//! the parser reports it as DynamoDB does (`Syntax error; token: "!", near: "!!"`).

use super::ast::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    /// `[A-Za-z_][A-Za-z0-9_]*` — attribute names, function names and keywords.
    Ident,
    /// `#name`
    Name,
    /// `:value`
    Value,
    /// `[0-9]+`
    Number,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    Comma,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Unknown,
    Eof,
}

#[derive(Clone, Copy, Debug)]
pub struct Token {
    pub kind: Tok,
    pub span: Span,
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Tokenizes `src`. The last token is always `Eof` with an empty span at the end.
pub fn lex(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' | b':' => {
                i += 1;
                while bytes.get(i).is_some_and(|&c| is_name_char(c)) {
                    i += 1;
                }
                match (b, i - start) {
                    (_, 1) => Tok::Unknown,
                    (b'#', _) => Tok::Name,
                    _ => Tok::Value,
                }
            }
            b'0'..=b'9' => {
                while bytes.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                Tok::Number
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while bytes.get(i).is_some_and(|&c| is_name_char(c)) {
                    i += 1;
                }
                Tok::Ident
            }
            b'<' => match bytes.get(i + 1) {
                Some(b'>') => {
                    i += 2;
                    Tok::Ne
                }
                Some(b'=') => {
                    i += 2;
                    Tok::Le
                }
                _ => {
                    i += 1;
                    Tok::Lt
                }
            },
            b'>' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::Ge
                } else {
                    i += 1;
                    Tok::Gt
                }
            }
            _ => {
                let kind = match b {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b'.' => Tok::Dot,
                    b',' => Tok::Comma,
                    b'=' => Tok::Eq,
                    b'+' => Tok::Plus,
                    b'-' => Tok::Minus,
                    _ => Tok::Unknown,
                };
                // One whole character, even when it is multi-byte UTF-8.
                i += src
                    .get(start..)
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                kind
            }
        };
        out.push(Token {
            kind,
            span: Span::new(start, i),
        });
    }
    out.push(Token {
        kind: Tok::Eof,
        span: Span::new(src.len(), src.len()),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens_and_spans() {
        use Tok::*;
        assert_eq!(
            kinds("a.#b[12] <> :v_1"),
            vec![Ident, Dot, Name, LBracket, Number, RBracket, Ne, Value, Eof]
        );
        assert_eq!(kinds("<=>=<>="), vec![Le, Ge, Ne, Eq, Eof]);
        assert_eq!(
            kinds("# : !é"),
            vec![Unknown, Unknown, Unknown, Unknown, Eof]
        );
        let t = lex("  ab  ");
        assert_eq!((t[0].span.start, t[0].span.end), (2, 4));
        assert_eq!((t[1].span.start, t[1].span.end), (6, 6));
        let t = lex("é");
        assert_eq!((t[0].span.start, t[0].span.end), (0, 2));
    }
}

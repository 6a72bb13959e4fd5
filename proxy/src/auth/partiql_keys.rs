//! The partition-key values a PartiQL statement's WHERE clause pins down, for
//! `dynamodb:LeadingKeys` and `dynamodb:FullTableScan` (a SELECT "must read the whole
//! table" when no top-level `pk = v` / `pk IN [..]` restricts it). Conservative: an `OR`
//! at the top level of the WHERE clause, or a value that is not a literal or a `?`
//! parameter, means nothing is pinned down (a full scan). An INSERT's partition-key
//! value is read from its `VALUE {...}` tuple instead ([`inserted`]).

use serde_json::Value;

/// One token of the WHERE clause.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A bare or "quoted" name, or a keyword (bare ones upper-cased in `upper`).
    Name {
        text: String,
        upper: String,
    },
    /// A 'string' literal or a number.
    Lit(String),
    /// A `?` parameter, by position among the statement's parameters.
    Param(usize),
    Punct(char),
}

fn tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut params = 0;
    while let Some((_, c)) = chars.next() {
        match c {
            '"' | '\'' => {
                let mut s = String::new();
                while let Some((_, d)) = chars.next() {
                    if d == c {
                        // A doubled quote is the quote itself.
                        if chars.peek().is_some_and(|(_, e)| *e == c) {
                            chars.next();
                            s.push(c);
                            continue;
                        }
                        break;
                    }
                    s.push(d);
                }
                out.push(if c == '"' {
                    Tok::Name {
                        upper: String::new(),
                        text: s,
                    }
                } else {
                    Tok::Lit(s)
                });
            }
            '?' => {
                out.push(Tok::Param(params));
                params += 1;
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' => {
                let mut s = c.to_string();
                while let Some((_, d)) = chars.peek().copied() {
                    if d.is_ascii_alphanumeric() || d == '_' || d == '.' || d == '-' {
                        s.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if s.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                    out.push(Tok::Lit(s));
                } else {
                    out.push(Tok::Name {
                        upper: s.to_ascii_uppercase(),
                        text: s,
                    });
                }
            }
            c if c.is_whitespace() => {}
            c => out.push(Tok::Punct(c)),
        }
    }
    out
}

fn value(t: &Tok, params: &[Value]) -> Option<String> {
    match t {
        Tok::Lit(s) => Some(s.clone()),
        Tok::Param(i) => params
            .get(*i)?
            .as_object()?
            .values()
            .next()?
            .as_str()
            .map(str::to_string),
        _ => None,
    }
}

/// The partition-key values the WHERE clause of `text` restricts `pk` to (None: it does
/// not). `params` is the statement's `Parameters`.
pub fn pinned(text: &str, pk: &str, params: &[Value]) -> Option<Vec<String>> {
    let toks = tokens(text);
    let is_kw = |t: &Tok, kw: &str| matches!(t, Tok::Name { upper, .. } if upper == kw);
    let is_pk = |t: &Tok| matches!(t, Tok::Name { text, .. } if text == pk);
    let start = toks.iter().position(|t| is_kw(t, "WHERE"))? + 1;
    let clause = &toks[start..];
    let mut depth = 0i32;
    let mut top = Vec::with_capacity(clause.len());
    for t in clause {
        if matches!(t, Tok::Punct(')' | ']')) {
            depth -= 1;
        }
        top.push(depth == 0);
        match t {
            Tok::Punct('(' | '[') => depth += 1,
            t if depth == 0 && is_kw(t, "OR") => return None,
            _ => {}
        }
    }
    for (i, t) in clause.iter().enumerate() {
        if !top[i] {
            continue;
        }
        let next = clause.get(i + 1);
        let after = clause.get(i + 2);
        if is_pk(t) && next == Some(&Tok::Punct('=')) {
            return after.and_then(|v| value(v, params)).map(|v| vec![v]);
        }
        if matches!(t, Tok::Lit(_) | Tok::Param(_))
            && next == Some(&Tok::Punct('='))
            && after.is_some_and(is_pk)
        {
            return value(t, params).map(|v| vec![v]);
        }
        if is_pk(t) && next.is_some_and(|n| is_kw(n, "IN")) {
            let mut values = Vec::new();
            for v in clause.get(i + 3..)? {
                match v {
                    Tok::Punct(')' | ']') => return Some(values),
                    Tok::Punct(',') => {}
                    v => values.push(value(v, params)?),
                }
            }
            return None;
        }
    }
    None
}

/// The partition-key value an `INSERT INTO "T" VALUE {'pk': v, ...}` writes (None when
/// the tuple has no top-level `pk` or its value is not a literal or a `?` parameter: the
/// engine refuses such an insert, as the key must be a scalar).
pub fn inserted(text: &str, pk: &str, params: &[Value]) -> Option<Vec<String>> {
    let toks = tokens(text);
    let value_at = toks
        .iter()
        .position(|t| matches!(t, Tok::Name { upper, .. } if upper == "VALUE"))?;
    let open = value_at + 1;
    if toks.get(open) != Some(&Tok::Punct('{')) {
        return None;
    }
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Punct('{' | '[' | '(') => depth += 1,
            Tok::Punct('}' | ']' | ')') => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
            }
            // A top-level attribute name is a string literal followed by `:`.
            Tok::Lit(name)
                if depth == 1
                    && name == pk
                    && toks.get(i + 1) == Some(&Tok::Punct(':'))
                    && matches!(toks.get(i - 1), Some(Tok::Punct('{' | ','))) =>
            {
                return toks
                    .get(i + 2)
                    .and_then(|v| value(v, params))
                    .map(|v| vec![v]);
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_and_in_pin_the_partition_key() {
        let p = |t: &str| pinned(t, "Artist", &[json!({"S": "P"})]);
        let one = |s: &str| Some(vec![s.to_string()]);
        assert_eq!(p(r#"SELECT * FROM "Music" WHERE Artist='A'"#), one("A"));
        assert_eq!(
            p(r#"SELECT * FROM Music WHERE "Artist" = 'It''s' AND x > 1"#),
            one("It's")
        );
        assert_eq!(p(r#"SELECT * FROM Music WHERE 'A' = Artist"#), one("A"));
        assert_eq!(p(r#"SELECT * FROM Music WHERE Artist = ?"#), one("P"));
        assert_eq!(
            p(r#"SELECT * FROM Music WHERE Artist IN ['A', 'B']"#),
            Some(vec!["A".into(), "B".into()])
        );
        assert_eq!(p(r#"SELECT * FROM "Music""#), None);
        assert_eq!(p(r#"SELECT * FROM Music WHERE Song = 'A'"#), None);
        assert_eq!(
            p(r#"SELECT * FROM Music WHERE Artist = 'A' OR Song = 'x'"#),
            None
        );
        assert_eq!(
            p(r#"SELECT * FROM Music WHERE (Artist = 'A' OR 1 = 1) AND Artist = 'B'"#),
            one("B")
        );
    }

    #[test]
    fn an_insert_names_its_partition_key_in_the_value_tuple() {
        let p = |t: &str| inserted(t, "pk", &[json!({"S": "x"}), json!({"S": "P"})]);
        let one = |s: &str| Some(vec![s.to_string()]);
        assert_eq!(
            p(r#"INSERT INTO "T" VALUE {'pk': 'alice', 'n': 1}"#),
            one("alice")
        );
        assert_eq!(p(r#"insert into T value {'a': ?, 'pk' : ?}"#), one("P"));
        assert_eq!(p(r#"INSERT INTO T VALUE {'pk': 7}"#), one("7"));
        // A nested `pk` or a value that is a pk name is not the key.
        assert_eq!(
            p(r#"INSERT INTO T VALUE {'m': {'pk': 'a'}, 'x': 'pk'}"#),
            None
        );
        assert_eq!(p(r#"INSERT INTO T VALUE {'pk': ['a']}"#), None);
        assert_eq!(p(r#"INSERT INTO T VALUE {'a': 1}"#), None);
        assert_eq!(p("INSERT INTO T"), None);
    }
}

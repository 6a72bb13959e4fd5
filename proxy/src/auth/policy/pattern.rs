//! Policy strings as patterns: literal characters, the `*` / `?` wildcards and the
//! policy variables `${key}` (with `${*}`, `${?}`, `${$}` escapes and `${key, 'default'}`),
//! resolved against a request's [`Context`] and matched as globs.

use std::borrow::Cow;

use super::context::Context;

/// One piece of a parsed policy string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `*`: any run of characters (also across `:` and `/`).
    Star,
    /// `?`: exactly one character.
    One,
    /// `${key}` (lower-case key) with its optional default.
    Var(String, Option<String>),
}

/// A resolved glob piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G {
    Ch(char),
    Star,
    One,
}

/// A parsed policy string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    toks: Vec<Tok>,
    /// The string as written (for messages).
    pub text: String,
    /// Without variables: the glob and the literal, resolved once at parse time (the
    /// request path then matches without allocating).
    fixed: Option<(Vec<G>, String)>,
    /// Without variables: the literal text before the first wildcard and after the last
    /// (the whole pattern when it has none), so most non-matching texts are refused by
    /// two comparisons before the glob runs.
    ends: Option<Ends>,
}

/// A fixed pattern's literal ends.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ends {
    prefix: String,
    suffix: String,
    /// No `*` or `?`: the pattern matches `prefix` only.
    exact: bool,
    /// The glob between the ends (from the first wildcard to the last).
    middle: Vec<G>,
}

impl Ends {
    fn of(glob: &[G]) -> Ends {
        let lit = |g: &[G]| -> String {
            g.iter()
                .map(|g| match g {
                    G::Ch(c) => *c,
                    _ => '*',
                })
                .collect()
        };
        let first = glob.iter().position(|g| !matches!(g, G::Ch(_)));
        match first {
            None => Ends {
                prefix: lit(glob),
                suffix: String::new(),
                exact: true,
                middle: Vec::new(),
            },
            Some(first) => {
                let last = glob
                    .iter()
                    .rposition(|g| !matches!(g, G::Ch(_)))
                    .unwrap_or(first);
                Ends {
                    prefix: lit(&glob[..first]),
                    suffix: lit(&glob[last + 1..]),
                    exact: false,
                    middle: glob[first..=last].to_vec(),
                }
            }
        }
    }

    /// Whether `text` matches (compared as is: for patterns without `fold`): the ends
    /// compared as strings, the glob run only on what lies between them.
    fn matches(&self, text: &str) -> bool {
        if self.exact {
            return text == self.prefix;
        }
        if self.middle.iter().all(|g| *g == G::Star) {
            return text.len() >= self.prefix.len() + self.suffix.len()
                && text.starts_with(&self.prefix)
                && text.ends_with(&self.suffix);
        }
        match text
            .strip_prefix(self.prefix.as_str())
            .and_then(|t| t.strip_suffix(self.suffix.as_str()))
        {
            Some(between) if text.len() >= self.prefix.len() + self.suffix.len() => {
                glob_match(&self.middle, between, false)
            }
            _ => false,
        }
    }
}

impl Pattern {
    /// Parses `s`: `vars` enables policy variables (Version 2012-10-17 only), `wild`
    /// makes `*` and `?` wildcards (otherwise literal), `fold` lower-cases literals
    /// (actions compare case-insensitively).
    pub fn parse(s: &str, vars: bool, wild: bool, fold: bool) -> Pattern {
        let chars: Vec<char> = s.chars().collect();
        let mut toks = Vec::with_capacity(chars.len());
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if vars && c == '$' && chars.get(i + 1) == Some(&'{') {
                if let Some(len) = chars[i + 2..].iter().position(|c| *c == '}') {
                    let inner: String = chars[i + 2..i + 2 + len].iter().collect();
                    i += 3 + len;
                    match inner.as_str() {
                        "*" | "?" | "$" => toks.extend(inner.chars().map(Tok::Lit)),
                        _ => {
                            let (key, default) = match inner.split_once(',') {
                                Some((k, d)) => {
                                    let d = d.trim();
                                    let d = d
                                        .strip_prefix('\'')
                                        .and_then(|d| d.strip_suffix('\''))
                                        .unwrap_or(d);
                                    (k.trim(), Some(d.to_string()))
                                }
                                None => (inner.trim(), None),
                            };
                            toks.push(Tok::Var(key.to_ascii_lowercase(), default));
                        }
                    }
                    continue;
                }
            }
            toks.push(match c {
                '*' if wild => Tok::Star,
                '?' if wild => Tok::One,
                c if fold => Tok::Lit(c.to_ascii_lowercase()),
                c => Tok::Lit(c),
            });
            i += 1;
        }
        let mut p = Pattern {
            toks,
            text: s.to_string(),
            fixed: None,
            ends: None,
        };
        if !p.has_vars() {
            let empty = Context::default();
            if let (Some(glob), Some(literal)) = (p.resolve(&empty), p.resolve_literal(&empty)) {
                let literal = literal.into_owned();
                p.ends = Some(Ends::of(&glob));
                p.fixed = Some((glob, literal));
            }
        }
        p
    }

    /// Whether the pattern uses a policy variable.
    pub fn has_vars(&self) -> bool {
        self.toks.iter().any(|t| matches!(t, Tok::Var(..)))
    }

    /// The glob with variables replaced by their (single) values; None when a variable
    /// has no value and no default (the pattern then matches nothing).
    pub fn resolve(&self, ctx: &Context) -> Option<Vec<G>> {
        let mut out = Vec::with_capacity(self.toks.len());
        for t in &self.toks {
            match t {
                Tok::Lit(c) => out.push(G::Ch(*c)),
                Tok::Star => out.push(G::Star),
                Tok::One => out.push(G::One),
                Tok::Var(key, default) => {
                    let value = ctx.single(key).or(default.as_deref())?;
                    out.extend(value.chars().map(G::Ch));
                }
            }
        }
        Some(out)
    }

    /// The resolved pattern as a plain string (wildcards as their characters).
    pub fn resolve_literal(&self, ctx: &Context) -> Option<Cow<'_, str>> {
        if let Some((_, literal)) = &self.fixed {
            return Some(Cow::Borrowed(literal));
        }
        let mut out = String::with_capacity(self.text.len());
        for t in &self.toks {
            match t {
                Tok::Lit(c) => out.push(*c),
                Tok::Star => out.push('*'),
                Tok::One => out.push('?'),
                Tok::Var(key, default) => out.push_str(ctx.single(key).or(default.as_deref())?),
            }
        }
        Some(Cow::Owned(out))
    }

    /// The condition keys (lower case) of the policy variables in the pattern.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.toks.iter().filter_map(|t| match t {
            Tok::Var(k, _) => Some(k.as_str()),
            _ => None,
        })
    }

    /// Whether `text` matches (variables resolved from `ctx`; `fold`: compare the text
    /// lower-cased, for patterns parsed with `fold`).
    pub fn matches(&self, text: &str, ctx: &Context, fold: bool) -> bool {
        match &self.fixed {
            Some((glob, _)) => match &self.ends {
                Some(ends) if !fold => ends.matches(text),
                _ => glob_match(glob, text, fold),
            },
            None => match self.resolve(ctx) {
                Some(glob) => glob_match(&glob, text, fold),
                None => false,
            },
        }
    }
}

/// Glob matching with `*` and `?` over `text`'s characters (lower-cased when `fold`),
/// iterative with one backtrack point: no allocation, no recursion.
pub fn glob_match(pat: &[G], text: &str, fold: bool) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(c) = text.get(t..).and_then(|r| r.chars().next()) {
        let c = if fold { c.to_ascii_lowercase() } else { c };
        match pat.get(p) {
            Some(G::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(G::One) => {
                p += 1;
                t += c.len_utf8();
            }
            Some(G::Ch(x)) if *x == c => {
                p += 1;
                t += c.len_utf8();
            }
            _ => match star {
                Some((sp, st)) => {
                    let next = st
                        + text
                            .get(st..)
                            .and_then(|r| r.chars().next())
                            .map_or(1, char::len_utf8);
                    p = sp + 1;
                    t = next;
                    star = Some((sp, next));
                }
                None => return false,
            },
        }
    }
    pat[p.min(pat.len())..].iter().all(|g| *g == G::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Pattern::parse(p, true, true, false).matches(t, &Context::default(), false)
    }

    #[test]
    fn wildcards_and_escapes() {
        assert!(m("*", ""));
        assert!(m("a*c", "abbbc"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m(
            "arn:aws:dynamodb:*:*:table/Music",
            "arn:aws:dynamodb:us-east-1:1:table/Music"
        ));
        assert!(!m("arn:*:table/Music", "arn:x:table/Music/index/I"));
        assert!(m("a${*}b", "a*b"));
        assert!(!m("a${*}b", "axb"));
        assert!(!m("${aws:username}", "alice"));
        assert!(m("${aws:username, 'x'}", "x"));
        let mut ctx = Context::default();
        ctx.set("aws:username", vec!["alice".into()]);
        assert!(
            Pattern::parse("u/${AWS:UserName}", true, true, false).matches("u/alice", &ctx, false)
        );
        assert!(!Pattern::parse("u/${aws:username}", false, true, false)
            .matches("u/alice", &ctx, false));
    }
}

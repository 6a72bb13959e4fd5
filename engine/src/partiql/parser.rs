//! Recursive-descent parser for DynamoDB's PartiQL subset (grammar in
//! `docs/spec/PARTIQL.md` §2), with precedence climbing for OR < AND < NOT <
//! comparisons < `+`/`-`. Nesting (parentheses and collection literals) is bounded by
//! [`MAX_DEPTH`], so no input can exhaust the stack. Errors carry DynamoDB's details
//! ("Unexpected term", "Unexpected keyword", ...).

use super::ast::{
    Expr, IsType, PPath, Parsed, Returning, Select, Source, Statement, Step, UpdateAction,
};
use super::lexer::{lex, line_col, Tok, Token};
use super::reserved::is_reserved;
use super::{parse_error, PResult};
use crate::expr::ast::{ArithOp, CmpOp};
use crate::wire::ApiError;

/// Deepest nesting of parentheses and literals accepted (deeper: a parse error).
pub const MAX_DEPTH: usize = 100;

/// Keywords that are infix operators ("Unexpected operator" where a term is expected).
const OPERATORS: &[&str] = &["AND", "OR", "IS", "IN", "LIKE", "BETWEEN"];

/// The functions a WHERE clause or SET value may call (lower case).
pub const FUNCTIONS: &[&str] = &[
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
    "list_append",
    "set_add",
    "set_delete",
    "exists",
    "if_not_exists",
];

/// Parses one statement (`allow_exists`: inside ExecuteTransaction).
pub fn parse(src: &str) -> PResult<Parsed> {
    let toks = lex(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        params: 0,
        depth: 0,
        longest_in: 0,
    };
    let stmt = p.statement()?;
    if p.peek().tok == Tok::Semi {
        p.pos += 1;
    }
    if p.peek().tok != Tok::Eof {
        return Err(parse_error("Unexpected token after expression"));
    }
    // Counted once the whole statement has parsed: a syntax error is reported first.
    if p.longest_in > MAX_IN_OPERANDS {
        return Err(ApiError::validation(format!(
            "The IN operator is provided with too many operands; number of operands: {}",
            p.longest_in
        )));
    }
    Ok(Parsed {
        stmt,
        params: p.params,
    })
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    params: usize,
    depth: usize,
    /// The longest IN list seen.
    longest_in: usize,
}

/// The most values one IN list may hold.
pub const MAX_IN_OPERANDS: usize = 100;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.pos + n).min(last)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek().is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect(&mut self, tok: &Tok) -> PResult<()> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// The detail for a token that cannot stand where it is.
    fn unexpected(&self) -> ApiError {
        let t = self.peek();
        match &t.tok {
            Tok::Eof => parse_error("Unexpected term"),
            Tok::Word(w) if OPERATORS.iter().any(|o| o.eq_ignore_ascii_case(w)) => {
                parse_error("Unexpected operator")
            }
            Tok::Word(w) if is_reserved(w) => parse_error("Unexpected keyword"),
            Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::Plus | Tok::Star => {
                parse_error("Unexpected operator")
            }
            _ => parse_error("Unexpected token after expression"),
        }
    }

    fn pos_text(&self, at: usize, len: usize) -> String {
        let (l, c) = line_col(self.src, at);
        format!("{l}:{c}:{len}")
    }

    fn statement(&mut self) -> PResult<Statement> {
        let t = self.peek().clone();
        if t.is_kw("SELECT") {
            self.pos += 1;
            return Ok(Statement::Select(self.select()?));
        }
        if t.is_kw("INSERT") {
            self.pos += 1;
            return self.insert();
        }
        if t.is_kw("UPDATE") {
            self.pos += 1;
            let table = self.source(false)?;
            let actions = self.actions()?;
            self.expect_kw("WHERE")?;
            let filter = self.expr()?;
            let returning = self.returning()?;
            return Ok(Statement::Update {
                table,
                actions,
                filter,
                returning,
            });
        }
        if t.is_kw("DELETE") {
            self.pos += 1;
            self.expect_kw("FROM")?;
            let from = self.source(false)?;
            self.expect_kw("WHERE")?;
            let filter = self.expr()?;
            let returning = self.returning()?;
            return Ok(Statement::Delete {
                from,
                filter,
                returning,
            });
        }
        if t.is_kw("FROM") {
            // The FROM-first UPDATE: FROM t WHERE cond SET ... [RETURNING ...].
            self.pos += 1;
            let table = self.source(false)?;
            self.expect_kw("WHERE")?;
            let filter = self.expr()?;
            let actions = self.actions()?;
            let returning = self.returning()?;
            return Ok(Statement::Update {
                table,
                actions,
                filter,
                returning,
            });
        }
        if t.is_kw("EXISTS") && self.peek_at(1).tok == Tok::LParen {
            self.pos += 2;
            self.expect_kw("SELECT")?;
            let s = self.select()?;
            self.expect(&Tok::RParen)?;
            return Ok(Statement::Exists(s));
        }
        match &t.tok {
            Tok::Word(w) if !is_reserved(w) || w.eq_ignore_ascii_case("EXISTS") => {
                // A bare expression: DynamoDB names the node it will not run.
                let e = self.expr()?;
                let node = match e {
                    Expr::Is { .. } => Some("IsType"),
                    Expr::Cmp(..) => Some("Eq"),
                    Expr::Call { .. } => Some("Call"),
                    _ => None,
                };
                match node {
                    Some(n) if self.peek().tok == Tok::Eof => {
                        Err(ApiError::validation(format!("Unsupported operation: {n}")))
                    }
                    _ => Err(parse_error("Expected data manipulation")),
                }
            }
            _ => Err(parse_error("Expected data manipulation")),
        }
    }

    /// `ident ['.' ident]`; `insert`: INSERT's target, which may not name an index.
    fn source(&mut self, insert: bool) -> PResult<Source> {
        let t = self.peek().clone();
        let table = match self.name_token() {
            Some(n) => n,
            None if t.tok == Tok::Eof => {
                return Err(parse_error("Expected identifier for simple path"))
            }
            None => return Err(self.unexpected()),
        };
        let mut index = None;
        let mut end = t.at + t.len;
        if self.peek().tok == Tok::Dot {
            self.pos += 1;
            let it = self.peek().clone();
            let Some(ix) = self.name_token() else {
                return Err(self.unexpected());
            };
            end = it.at + it.len;
            if self.peek().tok == Tok::Dot {
                return Err(ApiError::validation(
                    "A path may contain at most 2 components in the FROM clause",
                ));
            }
            if insert {
                let len = self
                    .src
                    .get(t.at..end)
                    .map(|s| s.chars().count())
                    .unwrap_or(0);
                return Err(ApiError::validation(format!(
                    "FROM clause may only contain a single table name in data manipulation statements at {}",
                    self.pos_text(t.at, len)
                )));
            }
            index = Some(ix);
        }
        if table.is_empty() || index.as_deref() == Some("") {
            return Err(ApiError::validation(
                "Path component cannot be an empty string",
            ));
        }
        let len = self
            .src
            .get(t.at..end)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        // An alias: `FROM "T" t` or `FROM "T" AS t`.
        let alias = match &self.peek().tok {
            Tok::Word(w) => w.eq_ignore_ascii_case("AS") || !is_reserved(w),
            Tok::Quoted(_) => true,
            _ => false,
        };
        if alias {
            if insert {
                return Err(parse_error("Unexpected token after expression"));
            }
            return Err(ApiError::validation("Aliasing is not supported"));
        }
        Ok(Source {
            table,
            index,
            at: t.at,
            len,
        })
    }

    /// An identifier token (bare non-reserved word or quoted), consumed.
    fn name_token(&mut self) -> Option<String> {
        match &self.peek().tok {
            Tok::Quoted(q) => {
                let q = q.clone();
                self.pos += 1;
                Some(q)
            }
            Tok::Word(w) if !is_reserved(w) => {
                let w = w.clone();
                self.pos += 1;
                Some(w)
            }
            _ => None,
        }
    }

    fn select(&mut self) -> PResult<Select> {
        let projection = if self.eat(&Tok::Star) {
            if self.peek().tok == Tok::Comma {
                return Err(ApiError::validation(
                    "Other attributes should not be present in the projection when '*' is used.",
                ));
            }
            None
        } else {
            let mut paths: Vec<PPath> = Vec::new();
            loop {
                let t = self.peek().clone();
                if t.is_kw("DISTINCT") {
                    return Err(ApiError::validation(
                        "Unsupported token in expression: DISTINCT",
                    ));
                }
                if t.tok == Tok::Star {
                    return Err(ApiError::validation(
                        "Other attributes should not be present in the projection when '*' is used.",
                    ));
                }
                let is_call = matches!(&t.tok, Tok::Word(_)) && self.peek_at(1).tok == Tok::LParen;
                if is_call {
                    return Err(ApiError::validation(format!(
                        "Unexpected path component at {}",
                        self.pos_text(t.at, t.len)
                    )));
                }
                let path = self.path()?;
                let key = path.output_key();
                if paths.iter().any(|p| p.output_key() == key) {
                    return Err(ApiError::validation(format!(
                        "Duplicate identifiers in select clause: {key}"
                    )));
                }
                paths.push(path);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            Some(paths)
        };
        self.expect_kw("FROM")?;
        let from = self.source(false)?;
        let filter = if self.eat_kw("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let p = self.path()?;
                let Some(name) = p.single().map(str::to_string) else {
                    return Err(parse_error("Unexpected token after expression"));
                };
                let desc = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                order.push((name, desc));
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        for clause in ["LIMIT", "GROUP", "HAVING", "OFFSET"] {
            let t = self.peek().clone();
            if t.is_kw(clause) {
                return Err(ApiError::validation(format!(
                    "Unsupported clause: {clause} at {}",
                    self.pos_text(t.at, 1)
                )));
            }
        }
        Ok(Select {
            projection,
            from,
            filter,
            order,
        })
    }

    fn insert(&mut self) -> PResult<Statement> {
        self.expect_kw("INTO")?;
        let into = self.source(true)?;
        if !self.eat_kw("VALUE") {
            if self.peek().is_kw("VALUES") {
                return Err(ApiError::validation(
                    "Unsupported operation: Inserting multiple items in a single statement is not supported, use \"INSERT INTO tableName VALUE item\" instead",
                ));
            }
            return Err(self.unexpected());
        }
        let item = self.expr()?;
        if let Expr::Bag(_) = item {
            return Err(ApiError::validation(
                "Unsupported operation: Inserting multiple items in a single statement is not supported, use \"INSERT INTO tableName VALUE item\" instead",
            ));
        }
        if self.peek().is_kw("RETURNING") {
            return Err(ApiError::validation("RETURNING is not supported in INSERT"));
        }
        Ok(Statement::Insert { into, item })
    }

    /// One or more `SET a = v, ...` / `REMOVE a, ...` groups, in any order.
    fn actions(&mut self) -> PResult<Vec<UpdateAction>> {
        let mut out = Vec::new();
        loop {
            if self.eat_kw("SET") {
                loop {
                    let path = self.path()?;
                    self.expect(&Tok::Eq)?;
                    let value = self.additive()?;
                    out.push(UpdateAction::Set(path, value));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
            } else if self.eat_kw("REMOVE") {
                loop {
                    out.push(UpdateAction::Remove(self.path()?));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
            } else {
                break;
            }
        }
        if out.is_empty() {
            return Err(self.unexpected());
        }
        Ok(out)
    }

    fn returning(&mut self) -> PResult<Option<Returning>> {
        if !self.eat_kw("RETURNING") {
            return Ok(None);
        }
        let all = if self.eat_kw("ALL") {
            true
        } else if self.eat_kw("MODIFIED") {
            false
        } else {
            return Err(self.unexpected());
        };
        let new = if self.eat_kw("NEW") {
            true
        } else if self.eat_kw("OLD") {
            false
        } else {
            return Err(self.unexpected());
        };
        self.expect(&Tok::Star)?;
        Ok(Some(Returning { all, new }))
    }

    /// `ident { '.' ident | '[' uint ']' }`.
    fn path(&mut self) -> PResult<PPath> {
        let at = self.peek().at;
        let Some(first) = self.name_token() else {
            if self.peek().tok == Tok::Eof {
                return Err(parse_error("Expected identifier for simple path"));
            }
            return Err(self.unexpected());
        };
        let mut steps = vec![Step::Attr(first)];
        loop {
            if self.eat(&Tok::Dot) {
                match self.name_token() {
                    Some(n) => steps.push(Step::Attr(n)),
                    None => return Err(parse_error("Invalid path dot component")),
                }
            } else if self.peek().tok == Tok::LBracket {
                self.pos += 1;
                let t = self.bump();
                let idx = match &t.tok {
                    Tok::Num(n) => n.parse::<u32>().ok(),
                    _ => None,
                };
                let Some(idx) = idx else {
                    return Err(parse_error("Unexpected token after expression"));
                };
                self.expect(&Tok::RBracket)?;
                steps.push(Step::Index(idx));
            } else {
                break;
            }
        }
        Ok(PPath { steps, at })
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(parse_error(""));
        }
        Ok(())
    }

    /// A full expression (OR level).
    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.or();
        self.depth -= 1;
        r
    }

    fn rhs_missing(&self) -> bool {
        self.peek().tok == Tok::Eof
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut lhs = self.and()?;
        while self.eat_kw("OR") {
            if self.rhs_missing() {
                return Err(parse_error(
                    "Missing right-hand side expression of infix operator",
                ));
            }
            let rhs = self.and()?;
            lhs = Expr::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut lhs = self.not()?;
        while self.eat_kw("AND") {
            if self.rhs_missing() {
                return Err(parse_error(
                    "Missing right-hand side expression of infix operator",
                ));
            }
            let rhs = self.not()?;
            lhs = Expr::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn not(&mut self) -> PResult<Expr> {
        if self.eat_kw("NOT") {
            self.enter()?;
            let inner = self.not();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let lhs = self.additive()?;
        let op = match self.peek().tok {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            if self.rhs_missing() {
                return Err(parse_error(
                    "Missing right-hand side expression of infix operator",
                ));
            }
            let rhs = self.additive()?;
            return Ok(Expr::Cmp(op, Box::new(lhs), Box::new(rhs)));
        }
        let not = self.peek().is_kw("NOT")
            && (self.peek_at(1).is_kw("BETWEEN") || self.peek_at(1).is_kw("IN"));
        if not {
            self.pos += 1;
        }
        if self.eat_kw("BETWEEN") {
            let low = self.additive()?;
            self.expect_kw("AND")?;
            let high = self.additive()?;
            return Ok(Expr::Between {
                subject: Box::new(lhs),
                low: Box::new(low),
                high: Box::new(high),
                not,
            });
        }
        if self.eat_kw("IN") {
            let close = match self.peek().tok {
                Tok::LBracket => Tok::RBracket,
                Tok::LParen => Tok::RParen,
                _ => return Err(self.unexpected()),
            };
            self.pos += 1;
            self.enter()?;
            let list = self.list_items(&close);
            self.depth -= 1;
            let list = list?;
            self.longest_in = self.longest_in.max(list.len());
            return Ok(Expr::In {
                subject: Box::new(lhs),
                list,
                not,
            });
        }
        if self.eat_kw("IS") {
            let not = self.eat_kw("NOT");
            let t = self.bump();
            let word = match &t.tok {
                Tok::Word(w) => w.to_ascii_uppercase(),
                _ => return Err(parse_error("Expected type name")),
            };
            let ty = match word.as_str() {
                "MISSING" => IsType::Missing,
                "NULL" => IsType::Null,
                "BOOL" | "BOOLEAN" => IsType::Type("BOOL"),
                "STRING" | "CHAR" | "VARCHAR" | "CHARACTER" => IsType::Type("S"),
                "INT" | "INTEGER" | "SMALLINT" | "DECIMAL" | "DEC" | "NUMERIC" | "FLOAT"
                | "REAL" | "DOUBLE" => IsType::Type("N"),
                "LIST" => IsType::Type("L"),
                "STRUCT" | "TUPLE" => IsType::Type("M"),
                "BLOB" => IsType::Type("B"),
                _ => return Err(parse_error("Expected type name")),
            };
            return Ok(Expr::Is {
                subject: Box::new(lhs),
                ty,
                not,
            });
        }
        if not {
            return Err(self.unexpected());
        }
        Ok(lhs)
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut lhs = self.primary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => ArithOp::Plus,
                Tok::Minus => ArithOp::Minus,
                _ => break,
            };
            self.pos += 1;
            if self.rhs_missing() {
                return Err(parse_error(
                    "Missing right-hand side expression of infix operator",
                ));
            }
            let rhs = self.primary()?;
            lhs = Expr::Arith(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    /// Items up to `close`, comma separated (the opening token is consumed).
    fn list_items(&mut self, close: &Tok) -> PResult<Vec<Expr>> {
        let mut out = Vec::new();
        if self.eat(close) {
            return Ok(out);
        }
        loop {
            out.push(self.expr()?);
            if self.eat(close) {
                return Ok(out);
            }
            self.expect(&Tok::Comma)?;
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Expr::Str(s.clone()))
            }
            Tok::Num(n) => {
                self.pos += 1;
                Ok(Expr::Num(n.clone()))
            }
            Tok::Minus if matches!(self.peek_at(1).tok, Tok::Num(_)) => {
                self.pos += 1;
                let Tok::Num(n) = self.bump().tok else {
                    return Err(self.unexpected());
                };
                Ok(Expr::Num(format!("-{n}")))
            }
            Tok::Question => {
                self.pos += 1;
                self.params += 1;
                Ok(Expr::Param(self.params - 1))
            }
            Tok::LParen => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Tok::LBracket => {
                self.pos += 1;
                self.enter()?;
                let items = self.list_items(&Tok::RBracket);
                self.depth -= 1;
                Ok(Expr::List(items?))
            }
            Tok::LBag => {
                self.pos += 1;
                self.enter()?;
                let items = self.list_items(&Tok::RBag);
                self.depth -= 1;
                let items = items?;
                if items.iter().any(|e| matches!(e, Expr::Param(_))) {
                    return Err(ApiError::validation("Unsupported data type in Bag"));
                }
                Ok(Expr::Bag(items))
            }
            Tok::LBrace => {
                self.pos += 1;
                self.enter()?;
                let r = self.map_items();
                self.depth -= 1;
                Ok(Expr::Map(r?))
            }
            Tok::Word(w) if self.peek_at(1).tok == Tok::LParen && !is_kw_value(w) => {
                let name = w.to_ascii_lowercase();
                if !FUNCTIONS.contains(&name.as_str()) || name == "exists" {
                    return Err(ApiError::validation(format!(
                        "Unrecognized function: {name} at {}",
                        self.pos_text(t.at, t.len)
                    )));
                }
                self.pos += 2;
                self.enter()?;
                let args = self.list_items(&Tok::RParen);
                self.depth -= 1;
                Ok(Expr::Call {
                    name,
                    args: args?,
                    at: t.at,
                    len: t.len,
                })
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("TRUE") => {
                self.pos += 1;
                Ok(Expr::Bool(true))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("FALSE") => {
                self.pos += 1;
                Ok(Expr::Bool(false))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("NULL") => {
                self.pos += 1;
                Ok(Expr::Null)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("MISSING") => {
                self.pos += 1;
                Ok(Expr::Missing)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("DATE") || w.eq_ignore_ascii_case("TIME") => {
                Err(ApiError::validation("Unsupported data type: UNKNOWN"))
            }
            Tok::Word(_) | Tok::Quoted(_) => Ok(Expr::Path(self.path()?)),
            _ => Err(self.unexpected()),
        }
    }

    /// `'key': value, ...}` (the `{` is consumed).
    fn map_items(&mut self) -> PResult<Vec<(String, Expr)>> {
        let mut out = Vec::new();
        if self.eat(&Tok::RBrace) {
            return Ok(out);
        }
        loop {
            let key = match self.bump().tok {
                Tok::Str(s) | Tok::Quoted(s) => s,
                _ => return Err(parse_error("Unexpected token after expression")),
            };
            self.expect(&Tok::Colon)?;
            let v = self.expr()?;
            out.push((key, v));
            if self.eat(&Tok::RBrace) {
                return Ok(out);
            }
            self.expect(&Tok::Comma)?;
        }
    }
}

/// Value keywords are never function names.
fn is_kw_value(w: &str) -> bool {
    ["TRUE", "FALSE", "NULL", "MISSING", "NOT"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(w))
}

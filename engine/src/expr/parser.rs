//! Recursive-descent parsers for the three grammars (condition, projection, update),
//! with precedence climbing for conditions: OR < AND < NOT < comparators/BETWEEN/IN.
//! Recursion is bounded by `MAX_DEPTH`, and operators are counted against DynamoDB's
//! limit of 300 while parsing. Errors are DynamoDB's message text without the
//! "Invalid XExpression: " prefix, which the caller adds.

use super::ast::*;
use super::lexer::{lex, Tok, Token};

/// DynamoDB's cap on operators in one expression.
pub const MAX_OPERATORS: usize = 300;
/// Nesting bound for parentheses and function arguments. Any expression DynamoDB accepts
/// nests less deeply: each meaningful level costs an operator, and there are at most 300.
/// (NOT chains need no separate bound: every NOT counts against `MAX_OPERATORS`.)
pub const MAX_DEPTH: usize = 400;

/// Parenthesis depth up to which parsing runs on the caller's stack. Deeper input (rare,
/// and at most `MAX_DEPTH` levels are ever parsed) runs on a helper thread whose stack is
/// sized for `MAX_DEPTH`, since an unoptimised build spends ~20 KB of stack per level.
const INLINE_DEPTH: usize = 24;
const DEEP_STACK_BYTES: usize = 64 << 20;

fn paren_depth(src: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in src.bytes() {
        match b {
            b'(' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Runs `f` on this stack, or on a helper thread with a large stack when `src` nests
/// deeply.
fn on_enough_stack<T: Send>(src: &str, f: impl FnOnce() -> PResult<T> + Send) -> PResult<T> {
    if paren_depth(src) <= INLINE_DEPTH {
        return f();
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("daxlite-expr-parse".into())
            .stack_size(DEEP_STACK_BYTES)
            .spawn_scoped(scope, f)
            .map_err(|e| format!("Expression could not be parsed: {e}"))?
            .join()
            .unwrap_or_else(|_| Err("Expression could not be parsed".to_string()))
    })
}

/// The parse result before validation: the tree plus facts only the parser sees.
pub struct Parsed<T> {
    pub tree: T,
    /// A `((x))` was seen somewhere.
    pub redundant_parens: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Grammar {
    Condition,
    Projection,
    Update,
}

/// A parsed sub-expression of the condition grammar, before we know whether it is used
/// as a condition or as an operand; `first`/`last` are token indexes.
struct Node {
    kind: NodeKind,
    last: usize,
    paren: bool,
}

enum NodeKind {
    Cond(Condition),
    Op(Operand),
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    ops: usize,
    redundant: bool,
    grammar: Grammar,
}

type PResult<T> = Result<T, String>;

pub fn parse_condition(src: &str) -> PResult<Parsed<Condition>> {
    on_enough_stack(src, || parse_condition_here(src))
}

fn parse_condition_here(src: &str) -> PResult<Parsed<Condition>> {
    let mut p = Parser::new(src, Grammar::Condition);
    let node = p.or()?;
    p.expect_eof()?;
    let tree = p.to_cond(node)?;
    Ok(Parsed {
        tree,
        redundant_parens: p.redundant,
    })
}

pub fn parse_projection(src: &str) -> PResult<Parsed<Projection>> {
    let mut p = Parser::new(src, Grammar::Projection);
    let mut paths = vec![p.path()?];
    while p.eat(Tok::Comma) {
        paths.push(p.path()?);
    }
    p.expect_eof()?;
    Ok(Parsed {
        tree: Projection { paths },
        redundant_parens: false,
    })
}

pub fn parse_update(src: &str) -> PResult<Parsed<Update>> {
    on_enough_stack(src, || parse_update_here(src))
}

fn parse_update_here(src: &str) -> PResult<Parsed<Update>> {
    let mut p = Parser::new(src, Grammar::Update);
    let mut clauses = Vec::new();
    loop {
        let keyword = p.ident_text().map(str::to_ascii_uppercase);
        let clause = match keyword.as_deref() {
            Some("SET") => {
                p.pos += 1;
                Clause::Set(p.list(Parser::set_action)?)
            }
            Some("REMOVE") => {
                p.pos += 1;
                Clause::Remove(p.list(Parser::path)?)
            }
            Some("ADD") => {
                p.pos += 1;
                Clause::Add(p.list(Parser::value_action)?)
            }
            Some("DELETE") => {
                p.pos += 1;
                Clause::Delete(p.list(Parser::value_action)?)
            }
            _ => return Err(p.syntax_error(p.pos)),
        };
        clauses.push(clause);
        if p.peek() == Tok::Eof {
            break;
        }
    }
    Ok(Parsed {
        tree: Update { clauses },
        redundant_parens: p.redundant,
    })
}

/// DynamoDB's syntax error: the offending token, and the source from the token before
/// it to the token after it.
pub fn syntax_error_at(src: &str, toks: &[Token], idx: usize) -> String {
    let Some(tok) = toks.get(idx) else {
        return "Syntax error; token: \"<EOF>\", near: \"\"".to_string();
    };
    let text = if tok.kind == Tok::Eof {
        "<EOF>"
    } else {
        src.get(tok.span.start..tok.span.end).unwrap_or("")
    };
    let start = idx
        .checked_sub(1)
        .and_then(|i| toks.get(i))
        .map_or(tok.span.start, |t| t.span.start);
    let end = toks.get(idx + 1).map_or(tok.span.end, |t| t.span.end);
    let near = src.get(start..end).unwrap_or("");
    format!("Syntax error; token: \"{text}\", near: \"{near}\"")
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, grammar: Grammar) -> Self {
        Parser {
            src,
            toks: lex(src),
            pos: 0,
            depth: 0,
            ops: 0,
            redundant: false,
            grammar,
        }
    }

    fn peek(&self) -> Tok {
        self.toks.get(self.pos).map_or(Tok::Eof, |t| t.kind)
    }

    fn peek_at(&self, idx: usize) -> Tok {
        self.toks.get(idx).map_or(Tok::Eof, |t| t.kind)
    }

    fn span_of(&self, idx: usize) -> Span {
        self.toks
            .get(idx)
            .map_or(Span::new(self.src.len(), self.src.len()), |t| t.span)
    }

    fn text(&self, idx: usize) -> &'s str {
        let span = self.span_of(idx);
        self.src.get(span.start..span.end).unwrap_or("")
    }

    /// The current token's text if it is an identifier.
    fn ident_text(&self) -> Option<&'s str> {
        (self.peek() == Tok::Ident).then(|| self.text(self.pos))
    }

    fn eat(&mut self, kind: Tok) -> bool {
        if self.peek() == kind {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: Tok) -> PResult<usize> {
        if self.peek() == kind {
            self.pos += 1;
            Ok(self.pos - 1)
        } else {
            Err(self.syntax_error(self.pos))
        }
    }

    fn expect_eof(&self) -> PResult<()> {
        if self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.syntax_error(self.pos))
        }
    }

    fn syntax_error(&self, idx: usize) -> String {
        syntax_error_at(self.src, &self.toks, idx)
    }

    /// Whether the current token is the (case-insensitive) keyword `kw`.
    fn at_keyword(&self, kw: &str) -> bool {
        self.ident_text()
            .is_some_and(|t| t.eq_ignore_ascii_case(kw))
    }

    /// Identifiers the grammar reserves for itself and so cannot name attributes.
    fn is_grammar_keyword(&self, text: &str) -> bool {
        let words: &[&str] = match self.grammar {
            Grammar::Condition => &["AND", "OR", "NOT", "BETWEEN", "IN"],
            Grammar::Update => &["SET", "REMOVE", "ADD", "DELETE"],
            Grammar::Projection => &[],
        };
        words.iter().any(|w| w.eq_ignore_ascii_case(text))
    }

    fn count_operator(&mut self) -> PResult<()> {
        self.ops += 1;
        if self.ops > MAX_OPERATORS {
            return Err(format!(
                "The expression contains too many operators; operator count: {}",
                self.ops
            ));
        }
        Ok(())
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.syntax_error(self.pos));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// `item (, item)*`
    fn list<T>(&mut self, item: fn(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        let mut out = vec![item(self)?];
        while self.eat(Tok::Comma) {
            out.push(item(self)?);
        }
        Ok(out)
    }

    // ---- document paths -------------------------------------------------------------

    fn path_name(&mut self) -> PResult<PathElem> {
        match self.peek() {
            Tok::Name => {
                self.pos += 1;
                Ok(PathElem::Name(self.text(self.pos - 1).to_string()))
            }
            Tok::Ident if !self.is_grammar_keyword(self.text(self.pos)) => {
                self.pos += 1;
                Ok(PathElem::Attr(self.text(self.pos - 1).to_string()))
            }
            _ => Err(self.syntax_error(self.pos)),
        }
    }

    fn path(&mut self) -> PResult<Path> {
        let first = self.pos;
        let mut elems = vec![self.path_name()?];
        loop {
            if self.eat(Tok::Dot) {
                elems.push(self.path_name()?);
            } else if self.eat(Tok::LBracket) {
                let idx = self.expect(Tok::Number)?;
                let n: u32 = self.text(idx).parse().map_err(|_| self.syntax_error(idx))?;
                self.expect(Tok::RBracket)?;
                elems.push(PathElem::Index(n));
            } else {
                break;
            }
        }
        Ok(Path {
            elems,
            span: self.span_of(first).to(self.span_of(self.pos - 1)),
        })
    }

    fn value_ref(&mut self) -> PResult<ValueRef> {
        let idx = self.expect(Tok::Value)?;
        Ok(ValueRef {
            name: self.text(idx).to_string(),
            span: self.span_of(idx),
        })
    }

    // ---- conditions -----------------------------------------------------------------

    fn node(&self, kind: NodeKind, _first: usize) -> Node {
        Node {
            kind,
            last: self.pos.saturating_sub(1),
            paren: false,
        }
    }

    fn to_cond(&self, node: Node) -> PResult<Condition> {
        match node.kind {
            NodeKind::Cond(c) => Ok(c),
            NodeKind::Op(Operand::Call(call)) => Ok(Condition::Call(call)),
            NodeKind::Op(_) => Err(self.syntax_error(node.last + 1)),
        }
    }

    fn to_operand(&self, node: Node) -> PResult<Operand> {
        match node.kind {
            NodeKind::Op(o) => Ok(o),
            NodeKind::Cond(_) => Err(self.syntax_error(node.last + 1)),
        }
    }

    fn or(&mut self) -> PResult<Node> {
        let first = self.pos;
        let mut left = self.and()?;
        while self.at_keyword("OR") {
            let lhs = self.to_cond(left)?;
            self.pos += 1;
            self.count_operator()?;
            let right = self.and()?;
            let rhs = self.to_cond(right)?;
            left = self.node(
                NodeKind::Cond(Condition::Or(Box::new(lhs), Box::new(rhs))),
                first,
            );
        }
        Ok(left)
    }

    fn and(&mut self) -> PResult<Node> {
        let first = self.pos;
        let mut left = self.not()?;
        while self.at_keyword("AND") {
            let lhs = self.to_cond(left)?;
            self.pos += 1;
            self.count_operator()?;
            let right = self.not()?;
            let rhs = self.to_cond(right)?;
            left = self.node(
                NodeKind::Cond(Condition::And(Box::new(lhs), Box::new(rhs))),
                first,
            );
        }
        Ok(left)
    }

    fn not(&mut self) -> PResult<Node> {
        if !self.at_keyword("NOT") {
            return self.comparison();
        }
        let first = self.pos;
        self.pos += 1;
        self.count_operator()?;
        let inner = self.not()?;
        let c = self.to_cond(inner)?;
        Ok(self.node(NodeKind::Cond(Condition::Not(Box::new(c))), first))
    }

    fn comparator(&self) -> Option<CmpOp> {
        Some(match self.peek() {
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            _ => return None,
        })
    }

    fn operand(&mut self) -> PResult<Operand> {
        let node = self.primary()?;
        self.to_operand(node)
    }

    fn comparison(&mut self) -> PResult<Node> {
        let first = self.pos;
        let left = self.primary()?;
        if let Some(op) = self.comparator() {
            let lhs = self.to_operand(left)?;
            self.pos += 1;
            self.count_operator()?;
            let rhs = self.operand()?;
            return Ok(self.node(NodeKind::Cond(Condition::Compare { op, lhs, rhs }), first));
        }
        if self.at_keyword("BETWEEN") {
            let subject = self.to_operand(left)?;
            self.pos += 1;
            self.count_operator()?;
            let low = self.operand()?;
            if !self.at_keyword("AND") {
                return Err(self.syntax_error(self.pos));
            }
            self.pos += 1;
            let high = self.operand()?;
            return Ok(self.node(
                NodeKind::Cond(Condition::Between { subject, low, high }),
                first,
            ));
        }
        if self.at_keyword("IN") {
            let subject = self.to_operand(left)?;
            self.pos += 1;
            self.count_operator()?;
            self.expect(Tok::LParen)?;
            let list = self.list(Parser::operand)?;
            self.expect(Tok::RParen)?;
            return Ok(self.node(NodeKind::Cond(Condition::In { subject, list }), first));
        }
        Ok(left)
    }

    fn primary(&mut self) -> PResult<Node> {
        let first = self.pos;
        match self.peek() {
            Tok::LParen => {
                self.pos += 1;
                self.enter()?;
                let inner = self.or()?;
                self.leave();
                self.expect(Tok::RParen)?;
                if inner.paren {
                    self.redundant = true;
                }
                Ok(Node {
                    kind: inner.kind,
                    last: self.pos - 1,
                    paren: true,
                })
            }
            Tok::Value => {
                let v = self.value_ref()?;
                Ok(self.node(NodeKind::Op(Operand::Value(v)), first))
            }
            Tok::Ident if self.peek_at(self.pos + 1) == Tok::LParen => {
                let call = self.call(Parser::operand)?;
                Ok(self.node(NodeKind::Op(Operand::Call(call)), first))
            }
            Tok::Ident | Tok::Name => {
                let p = self.path()?;
                Ok(self.node(NodeKind::Op(Operand::Path(p)), first))
            }
            _ => Err(self.syntax_error(self.pos)),
        }
    }

    /// `name ( arg (, arg)* )`, the current token being the name.
    fn call(&mut self, arg: fn(&mut Self) -> PResult<Operand>) -> PResult<Call> {
        let first = self.pos;
        let name = self.text(first).to_string();
        self.pos += 2;
        self.enter()?;
        let args = self.list(arg)?;
        self.leave();
        self.expect(Tok::RParen)?;
        Ok(Call {
            name,
            args,
            span: self.span_of(first).to(self.span_of(self.pos - 1)),
        })
    }

    // ---- update clauses -------------------------------------------------------------

    fn set_action(&mut self) -> PResult<SetAction> {
        let path = self.path()?;
        self.expect(Tok::Eq)?;
        let value = self.set_value()?;
        Ok(SetAction { path, value })
    }

    fn value_action(&mut self) -> PResult<ValueAction> {
        let path = self.path()?;
        let value = self.value_ref()?;
        Ok(ValueAction { path, value })
    }

    /// `term`, or `term + term` / `term - term`.
    fn set_value(&mut self) -> PResult<Operand> {
        let first = self.pos;
        let lhs = self.set_term()?;
        let op = match self.peek() {
            Tok::Plus => ArithOp::Plus,
            Tok::Minus => ArithOp::Minus,
            _ => return Ok(lhs),
        };
        let op_idx = self.pos;
        if matches!(lhs, Operand::Arith(_)) {
            return Err(self.syntax_error(op_idx));
        }
        self.pos += 1;
        self.count_operator()?;
        let rhs_first = self.pos;
        let rhs = self.set_term()?;
        if matches!(rhs, Operand::Arith(_)) {
            return Err(self.syntax_error(rhs_first));
        }
        let span = self.span_of(first).to(self.span_of(self.pos - 1));
        Ok(Operand::Arith(Box::new(Arith { op, lhs, rhs, span })))
    }

    fn set_term(&mut self) -> PResult<Operand> {
        match self.peek() {
            Tok::LParen => {
                self.pos += 1;
                self.enter()?;
                let inner = self.set_value()?;
                self.leave();
                self.expect(Tok::RParen)?;
                Ok(inner)
            }
            Tok::Value => Ok(Operand::Value(self.value_ref()?)),
            Tok::Ident if self.peek_at(self.pos + 1) == Tok::LParen => {
                self.count_operator()?;
                Ok(Operand::Call(self.call(Parser::set_term)?))
            }
            _ => Ok(Operand::Path(self.path()?)),
        }
    }
}

//! The one syntax tree behind all five expression languages: document paths, operands,
//! conditions (Condition/Filter/KeyCondition), projections and update clauses. Spans are
//! byte ranges into the source text and never take part in equality.

use std::fmt;

/// A byte range `start..end` in the expression text.
///
/// Two spans always compare equal, so `==` on trees means "same structure", which is
/// what the round-trip property `parse(print(ast)) == ast` needs.
#[derive(Clone, Copy, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// One step of a document path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathElem {
    /// A bare attribute name (`a`), or one a `#placeholder` resolved to.
    Attr(String),
    /// An unresolved `#placeholder`, including the `#`.
    Name(String),
    /// A list index `[n]`.
    Index(u32),
}

/// A document path such as `a.#b[3].c`. Never empty; the first element is a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub elems: Vec<PathElem>,
    pub span: Span,
}

impl Path {
    /// DynamoDB's rendering in path errors: `[a, b, [3]]`.
    pub fn display_list(&self) -> String {
        let parts: Vec<String> = self
            .elems
            .iter()
            .map(|e| match e {
                PathElem::Attr(s) | PathElem::Name(s) => s.clone(),
                PathElem::Index(i) => format!("[{i}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }

    /// The top-level attribute name (resolved paths only; `None` if it is still `#x`).
    pub fn top(&self) -> Option<&str> {
        match self.elems.first() {
            Some(PathElem::Attr(s)) => Some(s),
            _ => None,
        }
    }
}

/// A `:value` placeholder, including the `:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueRef {
    pub name: String,
    pub span: Span,
}

/// A function call `name(args...)`. Names are case-sensitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub name: String,
    pub args: Vec<Operand>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Plus,
    Minus,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Plus => "+",
            ArithOp::Minus => "-",
        }
    }
}

/// `lhs + rhs` / `lhs - rhs` (UpdateExpression SET values only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arith {
    pub op: ArithOp,
    pub lhs: Operand,
    pub rhs: Operand,
    pub span: Span,
}

/// A value-producing term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    Path(Path),
    Value(ValueRef),
    Call(Call),
    Arith(Box<Arith>),
}

impl Operand {
    pub fn span(&self) -> Span {
        match self {
            Operand::Path(p) => p.span,
            Operand::Value(v) => v.span,
            Operand::Call(c) => c.span,
            Operand::Arith(a) => a.span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A boolean condition (ConditionExpression, FilterExpression, KeyConditionExpression).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Or(Box<Condition>, Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare {
        op: CmpOp,
        lhs: Operand,
        rhs: Operand,
    },
    Between {
        subject: Operand,
        low: Operand,
        high: Operand,
    },
    In {
        subject: Operand,
        list: Vec<Operand>,
    },
    /// A function used as a condition: `attribute_exists(a)`, `begins_with(a, :p)`, ...
    Call(Call),
}

/// A ProjectionExpression: the paths in source order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Projection {
    pub paths: Vec<Path>,
}

/// `path = value` in a SET clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAction {
    pub path: Path,
    pub value: Operand,
}

/// `path :value` in an ADD or DELETE clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueAction {
    pub path: Path,
    pub value: ValueRef,
}

/// One clause of an UpdateExpression, actions in source order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clause {
    Set(Vec<SetAction>),
    Remove(Vec<Path>),
    Add(Vec<ValueAction>),
    Delete(Vec<ValueAction>),
}

impl Clause {
    /// The clause keyword as DynamoDB prints it in errors.
    pub fn keyword(&self) -> &'static str {
        match self {
            Clause::Set(_) => "SET",
            Clause::Remove(_) => "REMOVE",
            Clause::Add(_) => "ADD",
            Clause::Delete(_) => "DELETE",
        }
    }

    /// The document paths this clause writes, in source order.
    pub fn target_paths(&self) -> Vec<&Path> {
        match self {
            Clause::Set(a) => a.iter().map(|x| &x.path).collect(),
            Clause::Remove(p) => p.iter().collect(),
            Clause::Add(a) | Clause::Delete(a) => a.iter().map(|x| &x.path).collect(),
        }
    }
}

/// An UpdateExpression: clauses in source order (a repeated clause is a validation
/// error, reported by `validate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    pub clauses: Vec<Clause>,
}

impl Update {
    /// Whether the update only takes things away (REMOVE / DELETE clauses, at least one):
    /// on a missing item DynamoDB then creates nothing, while an empty update creates the
    /// bare key (Alternator's `test_update_item_non_existent`, verified on DynamoDB).
    pub fn only_removes(&self) -> bool {
        !self.clauses.is_empty()
            && self
                .clauses
                .iter()
                .all(|c| matches!(c, Clause::Remove(_) | Clause::Delete(_)))
    }
}

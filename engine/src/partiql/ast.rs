//! The PartiQL statements DynamoDB accepts, as parsed: SELECT, INSERT, UPDATE, DELETE
//! and EXISTS, over one expression tree (`Expr`) for WHERE clauses, SET values and
//! literals. Offsets are byte positions in the statement, for `line:col:len` errors.

use crate::expr::ast::{ArithOp, CmpOp};

/// One step of a document path.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Attr(String),
    Index(u32),
}

/// A document path `a.b[1]`, with its text for projection keys and errors.
#[derive(Clone, Debug, PartialEq)]
pub struct PPath {
    pub steps: Vec<Step>,
    pub at: usize,
}

impl PPath {
    /// The attribute name when the path is one top-level name.
    pub fn single(&self) -> Option<&str> {
        match self.steps.as_slice() {
            [Step::Attr(a)] => Some(a),
            _ => None,
        }
    }

    /// The key a projected path is answered under: its last name with any list indexes
    /// after it (`m.k[1]` → `k[1]`, `l[0]` → `l[0]`).
    pub fn output_key(&self) -> String {
        let start = self
            .steps
            .iter()
            .rposition(|s| matches!(s, Step::Attr(_)))
            .unwrap_or(0);
        let mut out = String::new();
        for s in self.steps.get(start..).unwrap_or(&[]) {
            match s {
                Step::Attr(a) => out.push_str(a),
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

/// The type names of `x IS [NOT] <type>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsType {
    Missing,
    Null,
    /// A DynamoDB type code ("S", "N", "BOOL", "L", "M", "B").
    Type(&'static str),
}

/// An expression: a WHERE condition, a SET value or a literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Path(PPath),
    Str(String),
    /// A number literal's text (with a leading `-` for negative literals).
    Num(String),
    Bool(bool),
    Null,
    Missing,
    /// The `n`th `?` of the statement (0-based).
    Param(usize),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Bag(Vec<Expr>),
    Call {
        name: String,
        args: Vec<Expr>,
        at: usize,
        len: usize,
    },
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Between {
        subject: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        not: bool,
    },
    In {
        subject: Box<Expr>,
        list: Vec<Expr>,
        not: bool,
    },
    Is {
        subject: Box<Expr>,
        ty: IsType,
        not: bool,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
}

/// `RETURNING (ALL|MODIFIED) (OLD|NEW) *`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Returning {
    pub all: bool,
    pub new: bool,
}

impl Returning {
    pub fn text(self) -> String {
        format!(
            "RETURNING {} {} *",
            if self.all { "ALL" } else { "MODIFIED" },
            if self.new { "NEW" } else { "OLD" }
        )
    }
}

/// The table (and index) a statement names.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub table: String,
    pub index: Option<String>,
    pub at: usize,
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    /// `None` for `*`.
    pub projection: Option<Vec<PPath>>,
    pub from: Source,
    pub filter: Option<Expr>,
    /// `(attribute, descending)`.
    pub order: Vec<(String, bool)>,
}

/// One SET or REMOVE action of an UPDATE.
#[derive(Clone, Debug, PartialEq)]
pub enum UpdateAction {
    Set(PPath, Expr),
    Remove(PPath),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Select(Select),
    Insert {
        into: Source,
        item: Expr,
    },
    Update {
        table: Source,
        actions: Vec<UpdateAction>,
        filter: Expr,
        returning: Option<Returning>,
    },
    Delete {
        from: Source,
        filter: Expr,
        returning: Option<Returning>,
    },
    /// `EXISTS(SELECT ...)`: a transaction's condition check.
    Exists(Select),
}

impl Statement {
    pub fn is_read(&self) -> bool {
        matches!(self, Statement::Select(_))
    }

    pub fn table(&self) -> &Source {
        match self {
            Statement::Select(s) | Statement::Exists(s) => &s.from,
            Statement::Insert { into, .. } => into,
            Statement::Update { table, .. } => table,
            Statement::Delete { from, .. } => from,
        }
    }
}

/// A parsed statement and how many `?` it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub stmt: Statement,
    pub params: usize,
}

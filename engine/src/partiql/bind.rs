//! Binding a parsed statement to values: PartiQL literals and `?` parameters become
//! `AttributeValue`s (with DynamoDB's number and set errors, "under root[1]"), and WHERE
//! clauses become the engine's condition AST (`expr::ast::Condition`) over a `Values`
//! map of generated `:pN` names — so the one evaluator in `expr::eval` runs them.

use crate::expr::ast::{Call, CmpOp, Condition, Operand, Path, PathElem, Span, ValueRef};
use crate::expr::eval::Values;
use crate::model::{AttributeValue, Number};
use crate::wire::{ApiError, ApiResult};

use super::ast::{Expr, IsType, PPath, Step};
use super::lexer::line_col;

/// The type names `attribute_type` accepts.
const TYPE_NAMES: [&str; 10] = ["S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"];

/// Turns expressions into values and conditions for one statement.
pub struct Binder<'a> {
    pub src: &'a str,
    params: &'a [AttributeValue],
    pub values: Values,
}

fn missing_error() -> ApiError {
    ApiError::validation("MISSING must be compared using IS operator")
}

fn operand_type(f: &str, v: &AttributeValue) -> ApiError {
    ApiError::validation(format!(
        "Incorrect operand type for operator or function; operator or function: {f}, operand type: {}",
        v.type_name()
    ))
}

fn orderable(v: &AttributeValue) -> bool {
    matches!(
        v,
        AttributeValue::S(_) | AttributeValue::N(_) | AttributeValue::B(_)
    )
}

/// The engine's path for a PartiQL path.
pub fn to_path(p: &PPath) -> Path {
    Path {
        elems: p
            .steps
            .iter()
            .map(|s| match s {
                Step::Attr(a) => PathElem::Attr(a.clone()),
                Step::Index(i) => PathElem::Index(*i),
            })
            .collect(),
        span: Span::default(),
    }
}

impl<'a> Binder<'a> {
    pub fn new(src: &'a str, params: &'a [AttributeValue]) -> Binder<'a> {
        Binder {
            src,
            params,
            values: Values::new(),
        }
    }

    fn pos(&self, at: usize, len: usize) -> String {
        let (l, c) = line_col(self.src, at);
        format!("{l}:{c}:{len}")
    }

    /// Whether `e` is a value (literal or parameter) rather than a path or call.
    pub fn is_value(e: &Expr) -> bool {
        matches!(
            e,
            Expr::Str(_)
                | Expr::Num(_)
                | Expr::Bool(_)
                | Expr::Null
                | Expr::Param(_)
                | Expr::List(_)
                | Expr::Map(_)
                | Expr::Bag(_)
        )
    }

    /// The value of a literal or parameter; `root` names it in errors.
    pub fn value(&self, e: &Expr, root: &str) -> ApiResult<AttributeValue> {
        Ok(match e {
            Expr::Str(s) => AttributeValue::S(s.clone()),
            Expr::Num(n) => AttributeValue::N(
                Number::parse(n)
                    .map_err(|e| ApiError::validation(format!("{} under {root}", e.message())))?,
            ),
            Expr::Bool(b) => AttributeValue::Bool(*b),
            Expr::Null => AttributeValue::Null,
            Expr::Param(i) => self.params.get(*i).cloned().ok_or_else(|| {
                ApiError::validation("Number of parameters in request and statement don't match.")
            })?,
            Expr::List(items) => AttributeValue::L(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| self.value(x, &format!("{root}[{i}]")))
                    .collect::<ApiResult<_>>()?,
            ),
            Expr::Map(entries) => AttributeValue::M(
                entries
                    .iter()
                    .map(|(k, x)| Ok((k.clone(), self.value(x, &format!("{root}.{k}"))?)))
                    .collect::<ApiResult<_>>()?,
            ),
            Expr::Bag(items) => self.bag(items, root)?,
            Expr::Missing => return Err(missing_error()),
            Expr::Call { name, at, len, .. } => {
                return Err(ApiError::validation(format!(
                    "Unsupported data type: {name} under key {root} at {}",
                    self.pos(*at, *len)
                )))
            }
            _ => {
                return Err(ApiError::validation(format!(
                    "Unsupported data type: UNKNOWN under key {root}"
                )))
            }
        })
    }

    /// `<<...>>`: a non-empty string or number set without duplicates.
    fn bag(&self, items: &[Expr], root: &str) -> ApiResult<AttributeValue> {
        if items.is_empty() {
            return Err(ApiError::validation("Empty bags are not supported"));
        }
        let vals = items
            .iter()
            .map(|x| self.value(x, root))
            .collect::<ApiResult<Vec<_>>>()?;
        let shown: Vec<String> = vals
            .iter()
            .map(|v| match v {
                AttributeValue::S(s) => s.clone(),
                AttributeValue::N(n) => n.to_string(),
                other => other.type_name().to_string(),
            })
            .collect();
        let dup = shown
            .iter()
            .enumerate()
            .any(|(i, a)| shown[..i].contains(a));
        if dup {
            return Err(ApiError::validation(format!(
                "One or more parameter values were invalid: Input collection [{}] contains duplicates.",
                shown.join(", ")
            )));
        }
        if vals.iter().all(|v| matches!(v, AttributeValue::S(_))) {
            return Ok(AttributeValue::Ss(
                vals.into_iter()
                    .filter_map(|v| match v {
                        AttributeValue::S(s) => Some(s),
                        _ => None,
                    })
                    .collect(),
            ));
        }
        if vals.iter().all(|v| matches!(v, AttributeValue::N(_))) {
            return Ok(AttributeValue::Ns(
                vals.into_iter()
                    .filter_map(|v| match v {
                        AttributeValue::N(n) => Some(n),
                        _ => None,
                    })
                    .collect(),
            ));
        }
        Err(ApiError::validation("Unsupported data type in Bag"))
    }

    /// Registers a value under a fresh `:pN` name.
    pub fn value_ref(&mut self, v: AttributeValue) -> Operand {
        let name = format!(":p{}", self.values.len());
        self.values.insert(name.clone(), v);
        Operand::Value(ValueRef {
            name,
            span: Span::default(),
        })
    }

    /// A comparison or function operand: a path, a value, or `size(path)`.
    pub fn operand(&mut self, e: &Expr) -> ApiResult<Operand> {
        match e {
            Expr::Path(p) => Ok(Operand::Path(to_path(p))),
            Expr::Missing => Err(missing_error()),
            Expr::Call {
                name,
                args,
                at,
                len,
            } if name == "size" => {
                let arg = self.path_arg(name, args, 1)?;
                let _ = (at, len);
                Ok(Operand::Call(Call {
                    name: "size".into(),
                    args: vec![arg],
                    span: Span::default(),
                }))
            }
            Expr::Call { name, at, len, .. } => Err(ApiError::validation(format!(
                "Unrecognized function: {name} at {}",
                self.pos(*at, *len)
            ))),
            e if Self::is_value(e) => {
                let v = self.value(e, "root")?;
                Ok(self.value_ref(v))
            }
            _ => Err(ApiError::validation(
                "Unsupported operation: nested conditions are not operands",
            )),
        }
    }

    /// The first argument of a function that needs a document path, with arity `n`.
    fn path_arg(&self, name: &str, args: &[Expr], n: usize) -> ApiResult<Operand> {
        if args.len() != n {
            return Err(ApiError::validation(format!(
                "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                args.len()
            )));
        }
        match args.first() {
            Some(Expr::Path(p)) => Ok(Operand::Path(to_path(p))),
            _ => Err(ApiError::validation(format!(
                "Operator or function requires a document path; operator or function: {name}"
            ))),
        }
    }

    fn call(&mut self, name: &str, args: Vec<Operand>) -> Condition {
        Condition::Call(Call {
            name: name.into(),
            args,
            span: Span::default(),
        })
    }

    /// A WHERE clause (or part of one) as a condition.
    pub fn condition(&mut self, e: &Expr) -> ApiResult<Condition> {
        match e {
            Expr::And(a, b) => Ok(Condition::And(
                Box::new(self.condition(a)?),
                Box::new(self.condition(b)?),
            )),
            Expr::Or(a, b) => Ok(Condition::Or(
                Box::new(self.condition(a)?),
                Box::new(self.condition(b)?),
            )),
            Expr::Not(a) => Ok(Condition::Not(Box::new(self.condition(a)?))),
            Expr::Cmp(op, a, b) => self.compare(*op, a, b),
            Expr::Between {
                subject,
                low,
                high,
                not,
            } => {
                let s = self.operand(subject)?;
                let (lo, hi) = (self.operand(low)?, self.operand(high)?);
                for o in [&lo, &hi] {
                    if let Some(v) = self.lookup(o) {
                        if !orderable(v) {
                            return Err(operand_type("BETWEEN", v));
                        }
                    }
                }
                let c = Condition::Between {
                    subject: s,
                    low: lo,
                    high: hi,
                };
                Ok(if *not { Condition::Not(Box::new(c)) } else { c })
            }
            Expr::In { subject, list, not } => {
                let s = self.operand(subject)?;
                let list = list
                    .iter()
                    .map(|x| self.operand(x))
                    .collect::<ApiResult<Vec<_>>>()?;
                let c = Condition::In { subject: s, list };
                Ok(if *not { Condition::Not(Box::new(c)) } else { c })
            }
            Expr::Is { subject, ty, not } => {
                let Expr::Path(p) = subject.as_ref() else {
                    return Err(ApiError::validation(
                        "Operator or function requires a document path; operator or function: IS",
                    ));
                };
                let path = Operand::Path(to_path(p));
                let (c, negate) = match ty {
                    IsType::Missing => (self.call("attribute_not_exists", vec![path]), *not),
                    IsType::Null => {
                        let t = self.value_ref(AttributeValue::S("NULL".into()));
                        (self.call("attribute_type", vec![path, t]), *not)
                    }
                    IsType::Type(code) => {
                        let t = self.value_ref(AttributeValue::S((*code).into()));
                        (self.call("attribute_type", vec![path, t]), *not)
                    }
                };
                Ok(if negate {
                    Condition::Not(Box::new(c))
                } else {
                    c
                })
            }
            Expr::Call {
                name,
                args,
                at,
                len,
            } => self.function(name, args, *at, *len),
            _ => Err(ApiError::validation(
                "Unsupported operation: a WHERE clause must be a condition",
            )),
        }
    }

    fn lookup(&self, o: &Operand) -> Option<&AttributeValue> {
        match o {
            Operand::Value(v) => self.values.get(&v.name),
            _ => None,
        }
    }

    fn compare(&mut self, op: CmpOp, a: &Expr, b: &Expr) -> ApiResult<Condition> {
        // `fn(...) = true` is the function itself; `= false` its negation.
        for (f, other) in [(a, b), (b, a)] {
            if let (
                Expr::Call {
                    name,
                    args,
                    at,
                    len,
                },
                Expr::Bool(t),
            ) = (f, other)
            {
                if name != "size" && matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    let c = self.function(name, args, *at, *len)?;
                    let positive = (op == CmpOp::Eq) == *t;
                    return Ok(if positive {
                        c
                    } else {
                        Condition::Not(Box::new(c))
                    });
                }
            }
        }
        let (l, r) = (self.operand(a)?, self.operand(b)?);
        if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            for o in [&l, &r] {
                if let Some(v) = self.lookup(o) {
                    if !orderable(v) {
                        return Err(operand_type(op.symbol(), v));
                    }
                }
            }
        }
        Ok(Condition::Compare { op, lhs: l, rhs: r })
    }

    fn function(
        &mut self,
        name: &str,
        args: &[Expr],
        at: usize,
        len: usize,
    ) -> ApiResult<Condition> {
        match name {
            "attribute_exists" | "attribute_not_exists" => {
                let p = self.path_arg(name, args, 1)?;
                Ok(self.call(name, vec![p]))
            }
            "attribute_type" | "begins_with" | "contains" => {
                let p = self.path_arg(name, args, 2)?;
                let v = match args.get(1) {
                    Some(x) => self.operand(x)?,
                    None => return Err(ApiError::internal("Internal server error")),
                };
                if let Some(val) = self.lookup(&v) {
                    match name {
                        "attribute_type" => match val {
                            AttributeValue::S(t) if TYPE_NAMES.contains(&t.as_str()) => {}
                            AttributeValue::S(t) => {
                                return Err(ApiError::validation(format!(
                                    "Invalid attribute type name found; type: {t}, valid types: {{N,BS,L,B,NULL,M,S,SS,NS,BOOL}}"
                                )))
                            }
                            other => return Err(operand_type(name, other)),
                        },
                        "begins_with"
                            if !matches!(val, AttributeValue::S(_) | AttributeValue::B(_)) =>
                        {
                            return Err(operand_type(name, val))
                        }
                        _ => {}
                    }
                }
                Ok(self.call(name, vec![p, v]))
            }
            _ => Err(ApiError::validation(format!(
                "Unrecognized function: {name} at {}",
                self.pos(at, len)
            ))),
        }
    }
}

/// The top-level AND terms of a condition, in order.
pub fn conjuncts(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        match x {
            Expr::And(a, b) => {
                stack.push(b);
                stack.push(a);
            }
            other => out.push(other),
        }
    }
    out
}

/// The top-level OR branches of a condition, in order.
pub fn disjuncts(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        match x {
            Expr::Or(a, b) => {
                stack.push(b);
                stack.push(a);
            }
            other => out.push(other),
        }
    }
    out
}

/// Rebuilds an AND of terms (`None` when there are none).
pub fn and_all(terms: Vec<Expr>) -> Option<Expr> {
    terms
        .into_iter()
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
}

/// `attr = value` (either way round): the attribute and the value expression.
pub fn key_equality(e: &Expr) -> Option<(&str, &Expr)> {
    let Expr::Cmp(CmpOp::Eq, a, b) = e else {
        return None;
    };
    match (a.as_ref(), b.as_ref()) {
        (Expr::Path(p), v) | (v, Expr::Path(p)) if Binder::is_value(v) => {
            p.single().map(|n| (n, v))
        }
        _ => None,
    }
}

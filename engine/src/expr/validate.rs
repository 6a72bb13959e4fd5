//! Semantic checks DynamoDB makes after parsing, per expression language, in DynamoDB's
//! order: redundant parentheses, function names and misuse, reserved words, IN operand
//! count, repeated update clauses (before resolution); operand counts, document-path
//! requirements, distinct operands and path overlap/conflict (after resolution).
//! Tree walks recurse at most as deep as the parser nested (bounded by `MAX_DEPTH`).

use super::ast::*;
use super::reserved::is_reserved;

/// DynamoDB's cap on the operands of one IN.
pub const MAX_IN_OPERANDS: usize = 100;

/// The deepest document path an expression may name: 32 levels (names and indexes),
/// the item nesting limit (DynamoDB Local answers 32 / 33 this way in every expression).
pub const MAX_PATH_DEPTH: usize = 32;

type VResult = Result<(), String>;

/// Functions usable in conditions, with their operand counts.
const CONDITION_FUNCTIONS: [(&str, usize); 6] = [
    ("attribute_exists", 1),
    ("attribute_not_exists", 1),
    ("attribute_type", 2),
    ("begins_with", 2),
    ("contains", 2),
    ("size", 1),
];

/// Functions usable in update SET values, with their operand counts.
const UPDATE_FUNCTIONS: [(&str, usize); 2] = [("if_not_exists", 2), ("list_append", 2)];

fn arity(table: &[(&str, usize)], name: &str) -> Option<usize> {
    table.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

// ---- walks ------------------------------------------------------------------------------

/// Every operand of a condition tree, outermost first, in source order.
fn cond_operands<'a>(c: &'a Condition, out: &mut Vec<&'a Operand>) {
    match c {
        Condition::Or(a, b) | Condition::And(a, b) => {
            cond_operands(a, out);
            cond_operands(b, out);
        }
        Condition::Not(a) => cond_operands(a, out),
        Condition::Compare { lhs, rhs, .. } => {
            out.push(lhs);
            out.push(rhs);
        }
        Condition::Between { subject, low, high } => out.extend([subject, low, high]),
        Condition::In { subject, list } => {
            out.push(subject);
            out.extend(list.iter());
        }
        Condition::Call(call) => out.extend(call.args.iter()),
    }
}

/// Calls in a condition in source order, each with whether it stands as a condition.
fn cond_calls<'a>(c: &'a Condition, out: &mut Vec<(&'a Call, bool)>) {
    match c {
        Condition::Or(a, b) | Condition::And(a, b) => {
            cond_calls(a, out);
            cond_calls(b, out);
        }
        Condition::Not(a) => cond_calls(a, out),
        Condition::Call(call) => {
            out.push((call, true));
            for arg in &call.args {
                operand_calls(arg, out);
            }
        }
        _ => {
            let mut ops = Vec::new();
            cond_operands(c, &mut ops);
            for o in ops {
                operand_calls(o, out);
            }
        }
    }
}

fn operand_calls<'a>(o: &'a Operand, out: &mut Vec<(&'a Call, bool)>) {
    match o {
        Operand::Call(call) => {
            out.push((call, false));
            for arg in &call.args {
                operand_calls(arg, out);
            }
        }
        Operand::Arith(a) => {
            operand_calls(&a.lhs, out);
            operand_calls(&a.rhs, out);
        }
        Operand::Path(_) | Operand::Value(_) => {}
    }
}

/// Every path inside an operand, in source order.
pub fn operand_paths<'a>(o: &'a Operand, out: &mut Vec<&'a Path>) {
    match o {
        Operand::Path(p) => out.push(p),
        Operand::Value(_) => {}
        Operand::Call(call) => call.args.iter().for_each(|a| operand_paths(a, out)),
        Operand::Arith(a) => {
            operand_paths(&a.lhs, out);
            operand_paths(&a.rhs, out);
        }
    }
}

/// Every path in a condition, in source order.
pub fn condition_paths(c: &Condition) -> Vec<&Path> {
    let mut ops = Vec::new();
    cond_operands(c, &mut ops);
    let mut out = Vec::new();
    ops.into_iter().for_each(|o| operand_paths(o, &mut out));
    out
}

/// Every path in an update (targets and values), in source order.
pub fn update_paths(u: &Update) -> Vec<&Path> {
    let mut out = Vec::new();
    for clause in &u.clauses {
        match clause {
            Clause::Set(actions) => {
                for a in actions {
                    out.push(&a.path);
                    operand_paths(&a.value, &mut out);
                }
            }
            other => out.extend(other.target_paths()),
        }
    }
    out
}

fn update_calls(u: &Update) -> Vec<&Call> {
    let mut out = Vec::new();
    for clause in &u.clauses {
        if let Clause::Set(actions) = clause {
            for a in actions {
                operand_calls(&a.value, &mut out);
            }
        }
    }
    out.into_iter().map(|(c, _)| c).collect()
}

fn check_reserved<'a>(paths: impl IntoIterator<Item = &'a Path>) -> VResult {
    for p in paths {
        for e in &p.elems {
            if let PathElem::Attr(name) = e {
                if is_reserved(name) {
                    return Err(format!(
                        "Attribute name is a reserved keyword; reserved keyword: {name}"
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_depth<'a>(paths: impl IntoIterator<Item = &'a Path>) -> VResult {
    for p in paths {
        if p.elems.len() > MAX_PATH_DEPTH {
            return Err(format!(
                "The document path has too many nesting levels; nesting levels: {}",
                p.elems.len()
            ));
        }
    }
    Ok(())
}

// ---- before resolution ----------------------------------------------------------------

pub fn condition_syntax(c: &Condition, redundant_parens: bool) -> VResult {
    if redundant_parens {
        return Err("The expression has redundant parentheses;".to_string());
    }
    let mut calls = Vec::new();
    cond_calls(c, &mut calls);
    for (call, _) in &calls {
        if arity(&CONDITION_FUNCTIONS, &call.name).is_none() {
            return Err(if arity(&UPDATE_FUNCTIONS, &call.name).is_some() {
                format!(
                    "The function is not allowed in a condition expression; function: {}",
                    call.name
                )
            } else {
                format!("Invalid function name; function: {}", call.name)
            });
        }
    }
    for (call, as_condition) in &calls {
        if *as_condition == (call.name == "size") {
            return Err(format!(
                "The function is not allowed to be used this way in an expression; function: {}",
                call.name
            ));
        }
    }
    check_reserved(condition_paths(c))?;
    check_depth(condition_paths(c))?;
    check_in_operands(c)
}

fn check_in_operands(c: &Condition) -> VResult {
    match c {
        Condition::Or(a, b) | Condition::And(a, b) => {
            check_in_operands(a)?;
            check_in_operands(b)
        }
        Condition::Not(a) => check_in_operands(a),
        Condition::In { list, .. } if list.len() > MAX_IN_OPERANDS => Err(format!(
            "The IN operator is provided with too many operands; number of operands: {}",
            list.len()
        )),
        _ => Ok(()),
    }
}

pub fn update_syntax(u: &Update) -> VResult {
    check_reserved(update_paths(u))?;
    check_depth(update_paths(u))?;
    for call in update_calls(u) {
        if arity(&UPDATE_FUNCTIONS, &call.name).is_none() {
            return Err(if arity(&CONDITION_FUNCTIONS, &call.name).is_some() {
                format!(
                    "The function is not allowed in an update expression; function: {}",
                    call.name
                )
            } else {
                format!("Invalid function name; function: {}", call.name)
            });
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for clause in &u.clauses {
        let kw = clause.keyword();
        if seen.contains(&kw) {
            return Err(format!(
                "The \"{kw}\" section can only be used once in an update expression;"
            ));
        }
        seen.push(kw);
    }
    Ok(())
}

pub fn projection_syntax(p: &Projection) -> VResult {
    check_reserved(&p.paths)?;
    check_depth(&p.paths)
}

// ---- after resolution -----------------------------------------------------------------

fn check_call(call: &Call, table: &[(&str, usize)]) -> VResult {
    let want = arity(table, &call.name).unwrap_or(call.args.len());
    if want != call.args.len() {
        return Err(format!(
            "Incorrect number of operands for operator or function; operator or function: {}, number of operands: {}",
            call.name,
            call.args.len()
        ));
    }
    let needs_path = matches!(
        call.name.as_str(),
        "attribute_exists" | "attribute_not_exists" | "if_not_exists"
    );
    if needs_path && !matches!(call.args.first(), Some(Operand::Path(_))) {
        return Err(format!(
            "Operator or function requires a document path; operator or function: {}",
            call.name
        ));
    }
    Ok(())
}

fn check_distinct(name: &str, a: &Operand, b: &Operand) -> VResult {
    if let (Operand::Path(p), Operand::Path(q)) = (a, b) {
        if p.elems == q.elems {
            return Err(format!(
                "The first operand must be distinct from the remaining operands for this operator or function; operator: {name}, first operand: {}",
                p.display_list()
            ));
        }
    }
    Ok(())
}

pub fn condition_resolved(c: &Condition) -> VResult {
    let mut calls = Vec::new();
    cond_calls(c, &mut calls);
    for (call, _) in &calls {
        check_call(call, &CONDITION_FUNCTIONS)?;
    }
    check_distinct_cond(c)
}

fn check_distinct_cond(c: &Condition) -> VResult {
    match c {
        Condition::Or(a, b) | Condition::And(a, b) => {
            check_distinct_cond(a)?;
            check_distinct_cond(b)
        }
        Condition::Not(a) => check_distinct_cond(a),
        Condition::Compare { op, lhs, rhs } => check_distinct(op.symbol(), lhs, rhs),
        Condition::Call(call) => match call.args.as_slice() {
            [a, b] => check_distinct(&call.name, a, b),
            _ => Ok(()),
        },
        Condition::Between { .. } | Condition::In { .. } => Ok(()),
    }
}

/// "overlap" (one path is a prefix of the other) wins over "conflict" (the paths agree
/// up to a step where one indexes a list and the other names a map member).
pub fn check_paths_disjoint(paths: &[&Path]) -> VResult {
    let mut conflict = None;
    for (j, two) in paths.iter().enumerate() {
        for one in paths.iter().take(j) {
            let mut related = true;
            for (x, y) in one.elems.iter().zip(&two.elems) {
                let same_kind = matches!(x, PathElem::Index(_)) == matches!(y, PathElem::Index(_));
                if !same_kind {
                    conflict.get_or_insert((*one, *two));
                    related = false;
                    break;
                }
                if x != y {
                    related = false;
                    break;
                }
            }
            if related {
                return Err(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    one.display_list(),
                    two.display_list()
                ));
            }
        }
    }
    match conflict {
        Some((one, two)) => Err(format!(
            "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
            one.display_list(),
            two.display_list()
        )),
        None => Ok(()),
    }
}

pub fn update_resolved(u: &Update) -> VResult {
    let targets: Vec<&Path> = u.clauses.iter().flat_map(Clause::target_paths).collect();
    check_paths_disjoint(&targets)?;
    for call in update_calls(u) {
        check_call(call, &UPDATE_FUNCTIONS)?;
    }
    Ok(())
}

pub fn projection_resolved(p: &Projection) -> VResult {
    let paths: Vec<&Path> = p.paths.iter().collect();
    check_paths_disjoint(&paths)
}

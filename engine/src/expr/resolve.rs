//! Resolution of `#name` and `:value` placeholders against one request's
//! ExpressionAttributeNames / ExpressionAttributeValues. `#n` path steps are replaced by
//! the names they stand for; `:v` references are checked to exist. The resolver records
//! what every expression of the request used, so `finish` can raise DynamoDB's
//! "unused in expressions" errors.

use std::collections::{HashMap, HashSet};

use super::ast::*;

/// The names and values of one request and which of them its expressions used.
#[derive(Debug, Default)]
pub struct Resolver {
    /// Name placeholders in request order, with what they stand for.
    names: Vec<(String, String)>,
    name_index: HashMap<String, usize>,
    /// Value placeholders in request order.
    values: Vec<String>,
    value_set: HashSet<String>,
    used_names: HashSet<String>,
    used_values: HashSet<String>,
}

impl Resolver {
    /// `names` and `values` in the order the request listed them (the unused-key errors
    /// list keys in that order).
    pub fn new<N, V>(names: N, values: V) -> Self
    where
        N: IntoIterator<Item = (String, String)>,
        V: IntoIterator<Item = String>,
    {
        let names: Vec<(String, String)> = names.into_iter().collect();
        let name_index = names
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect();
        let values: Vec<String> = values.into_iter().collect();
        let value_set = values.iter().cloned().collect();
        Resolver {
            names,
            name_index,
            values,
            value_set,
            ..Default::default()
        }
    }

    fn name(&mut self, placeholder: &str) -> Result<String, String> {
        let found = self
            .name_index
            .get(placeholder)
            .and_then(|&i| self.names.get(i));
        match found {
            Some((_, real)) => {
                let real = real.clone();
                self.used_names.insert(placeholder.to_string());
                Ok(real)
            }
            None => Err(format!(
                "An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
            )),
        }
    }

    fn value(&mut self, v: &ValueRef) -> Result<(), String> {
        if self.value_set.contains(&v.name) {
            self.used_values.insert(v.name.clone());
            Ok(())
        } else {
            Err(format!(
                "An expression attribute value used in expression is not defined; attribute value: {}",
                v.name
            ))
        }
    }

    pub(crate) fn path(&mut self, p: &mut Path) -> Result<(), String> {
        for e in &mut p.elems {
            if let PathElem::Name(n) = e {
                *e = PathElem::Attr(self.name(n)?);
            }
        }
        Ok(())
    }

    /// Resolves names, and with `values` also checks values, in source order.
    pub(crate) fn operand(&mut self, o: &mut Operand, values: bool) -> Result<(), String> {
        match o {
            Operand::Path(p) => self.path(p),
            Operand::Value(v) if values => self.value(v),
            Operand::Value(_) => Ok(()),
            Operand::Call(c) => c.args.iter_mut().try_for_each(|a| self.operand(a, values)),
            Operand::Arith(a) => {
                self.operand(&mut a.lhs, values)?;
                self.operand(&mut a.rhs, values)
            }
        }
    }

    /// Conditions report the first undefined name *or* value in source order.
    pub(crate) fn condition(&mut self, c: &mut Condition) -> Result<(), String> {
        match c {
            Condition::Or(a, b) | Condition::And(a, b) => {
                self.condition(a)?;
                self.condition(b)
            }
            Condition::Not(a) => self.condition(a),
            Condition::Compare { lhs, rhs, .. } => {
                self.operand(lhs, true)?;
                self.operand(rhs, true)
            }
            Condition::Between { subject, low, high } => [subject, low, high]
                .into_iter()
                .try_for_each(|o| self.operand(o, true)),
            Condition::In { subject, list } => {
                self.operand(subject, true)?;
                list.iter_mut().try_for_each(|o| self.operand(o, true))
            }
            Condition::Call(call) => call.args.iter_mut().try_for_each(|a| self.operand(a, true)),
        }
    }

    /// Updates report undefined names before undefined values.
    pub(crate) fn update(&mut self, u: &mut Update) -> Result<(), String> {
        for values in [false, true] {
            for clause in &mut u.clauses {
                match clause {
                    Clause::Set(actions) => {
                        for a in actions {
                            self.path(&mut a.path)?;
                            self.operand(&mut a.value, values)?;
                        }
                    }
                    Clause::Remove(paths) => paths.iter_mut().try_for_each(|p| self.path(p))?,
                    Clause::Add(actions) | Clause::Delete(actions) => {
                        for a in actions {
                            self.path(&mut a.path)?;
                            if values {
                                self.value(&a.value)?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn projection(&mut self, p: &mut Projection) -> Result<(), String> {
        p.paths.iter_mut().try_for_each(|p| self.path(p))
    }

    /// After every expression of the request went through this resolver: the names,
    /// then the values, that none of them used.
    pub fn finish(&self) -> Result<(), crate::wire::ApiError> {
        let unused: Vec<&str> = self
            .names
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !self.used_names.contains(*k))
            .collect();
        if !unused.is_empty() {
            return Err(crate::wire::ApiError::validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
        let unused: Vec<&str> = self
            .values
            .iter()
            .map(String::as_str)
            .filter(|k| !self.used_values.contains(*k))
            .collect();
        if !unused.is_empty() {
            return Err(crate::wire::ApiError::validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
        Ok(())
    }
}

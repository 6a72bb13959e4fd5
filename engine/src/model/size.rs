//! Item and attribute-value sizes exactly as DynamoDB counts them for the 400 KB item
//! limit and capacity units (AWS developer guide, "Item sizes and formats"; dynalite
//! `db/index.js` `valSize` for the exact number formula).

use super::number::Number;
use super::value::{AttributeValue, Item};

/// DynamoDB's maximum item size: 400 KB of 1024 bytes.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// Size of a number: `1 + ceil(digits / 2)`, plus 1 when the digit count and the leading
/// digit's exponent are both even (the digits then straddle one more base-100 pair), plus
/// 1 for a negative sign; zero is 1. `digits` counts significant digits with leading and
/// trailing zeros trimmed (Big.js `c.length`), the exponent is Big.js `e`.
pub fn number_size(n: &Number) -> usize {
    if n.is_zero() {
        return 1;
    }
    let digits = n.digits().len();
    let e = n.scientific_exponent();
    let aligned_extra = usize::from(digits & 1 == 0 && e & 1 == 0);
    1 + digits.div_ceil(2) + aligned_extra + usize::from(n.is_negative())
}

/// Size of one attribute value (without its name).
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null => 1,
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::Ss(s) => s.iter().map(String::len).sum(),
        AttributeValue::Ns(s) => s.iter().map(number_size).sum(),
        AttributeValue::Bs(s) => s.iter().map(Vec::len).sum(),
    }
}

/// Size of an item: UTF-8 length of each attribute name plus the size of its value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }
    fn s(x: &str) -> AttributeValue {
        AttributeValue::S(x.to_string())
    }

    #[test]
    fn aws_worked_example() {
        // AWS service quotas page: {"shirt-color":"R","shirt-size":"M"} is 23 bytes.
        let item: Item = [
            ("shirt-color".to_string(), s("R")),
            ("shirt-size".to_string(), s("M")),
        ]
        .into();
        assert_eq!(item_size(&item), 23);
    }

    #[test]
    fn numbers() {
        assert_eq!(value_size(&n("0")), 1);
        // Big.js: 1 → c=[1], e=0 → 1 + 1 + 0 = 2.
        assert_eq!(value_size(&n("1")), 2);
        // 12 → c=[1,2], e=1 (odd) → 1 + 1 + 0 = 2; 1.2 → e=0 (even) → 3.
        assert_eq!(value_size(&n("12")), 2);
        assert_eq!(value_size(&n("1.2")), 3);
        assert_eq!(value_size(&n("-12")), 3);
        assert_eq!(value_size(&n("1000")), 2);
        assert_eq!(value_size(&n("123")), 3);
        assert_eq!(value_size(&n("0.01")), 2);
        // 38 digits, e = 37 → 1 + 19 = 20; e = 36 → 21.
        assert_eq!(value_size(&n("12345678901234567890123456789012345678")), 20);
        assert_eq!(
            value_size(&n("1234567890123456789012345678901234567.8")),
            21
        );
    }

    #[test]
    fn scalars_and_documents() {
        assert_eq!(value_size(&s("héllo")), 6);
        assert_eq!(value_size(&AttributeValue::B(vec![1, 2, 3])), 3);
        assert_eq!(value_size(&AttributeValue::Bool(false)), 1);
        assert_eq!(value_size(&AttributeValue::Null), 1);
        assert_eq!(value_size(&AttributeValue::L(vec![])), 3);
        assert_eq!(value_size(&AttributeValue::M(Item::new())), 3);
        assert_eq!(
            value_size(&AttributeValue::L(vec![s("ab"), AttributeValue::Null])),
            3 + 3 + 2
        );
        let m: Item = [("ab".to_string(), s("xyz"))].into();
        assert_eq!(value_size(&AttributeValue::M(m)), 3 + 1 + 2 + 3);
        assert_eq!(
            value_size(&AttributeValue::Ss(vec!["a".into(), "bc".into()])),
            3
        );
        assert_eq!(
            value_size(&AttributeValue::Ns(vec![
                Number::parse("1").unwrap(),
                Number::parse("-12").unwrap()
            ])),
            5
        );
        assert_eq!(value_size(&AttributeValue::Bs(vec![vec![1], vec![]])), 1);
    }
}

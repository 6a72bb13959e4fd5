//! Exact-message tests for every expression error, and the parse/print round trip.

use super::*;

fn msg(r: Result<impl std::fmt::Debug, ApiError>) -> String {
    match r {
        Ok(v) => format!("unexpectedly ok: {v:?}"),
        Err(e) => e.message().unwrap_or_default().to_string(),
    }
}

fn resolver() -> Resolver {
    Resolver::new(
        [("#a", "a"), ("#b", "b"), ("#d", "[3]")].map(|(k, v)| (k.to_string(), v.to_string())),
        [":a", ":b", ":c"].map(String::from),
    )
}

fn cond(src: &str) -> String {
    msg(resolver().condition_expr(src, ExprKind::Condition))
}

fn upd(src: &str) -> String {
    msg(resolver().update_expr(src))
}

fn proj(src: &str) -> String {
    msg(resolver().projection_expr(src))
}

const C: &str = "Invalid ConditionExpression: ";
const U: &str = "Invalid UpdateExpression: ";
const P: &str = "Invalid ProjectionExpression: ";

#[test]
fn syntax_errors_name_the_token_and_its_neighbours() {
    // Real DynamoDB answers, quoted in public issue reports (see the module report).
    assert_eq!(
        proj("!!!"),
        format!("{P}Syntax error; token: \"!\", near: \"!!\"")
    );
    assert_eq!(
        cond("a-b"),
        format!("{C}Syntax error; token: \"-\", near: \"a-b\"")
    );
    assert_eq!(
        msg(parse_condition("a-b", ExprKind::Filter)),
        "Invalid FilterExpression: Syntax error; token: \"-\", near: \"a-b\""
    );
    assert_eq!(
        msg(parse_condition("attribute_type()", ExprKind::KeyCondition)),
        "Invalid KeyConditionExpression: Syntax error; token: \")\", near: \"()\""
    );
    assert_eq!(
        upd("INVALID SYNTAX HERE"),
        format!("{U}Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\"")
    );
    assert_eq!(
        upd("ADD hits : incr"),
        format!("{U}Syntax error; token: \":\", near: \"hits : incr\"")
    );
    assert_eq!(
        proj("a,"),
        format!("{P}Syntax error; token: \"<EOF>\", near: \",\"")
    );
    assert_eq!(
        proj("a b"),
        format!("{P}Syntax error; token: \"b\", near: \"a b\"")
    );
    assert_eq!(
        cond("a"),
        format!("{C}Syntax error; token: \"<EOF>\", near: \"a\"")
    );
    assert_eq!(
        cond("a = :a = :b"),
        format!("{C}Syntax error; token: \"=\", near: \":a = :b\"")
    );
    assert_eq!(
        cond("a AND b = :a"),
        format!("{C}Syntax error; token: \"AND\", near: \"a AND b\"")
    );
    assert_eq!(
        cond("a[-1] = :a"),
        format!("{C}Syntax error; token: \"-\", near: \"[-1\"")
    );
    assert_eq!(
        upd("SET"),
        format!("{U}Syntax error; token: \"<EOF>\", near: \"SET\"")
    );
    assert_eq!(
        upd("SET a = :a + :b + :c"),
        format!("{U}Syntax error; token: \"+\", near: \":b + :c\"")
    );
}

#[test]
fn empty_and_oversized_expressions() {
    assert_eq!(cond(""), format!("{C}The expression can not be empty;"));
    assert_eq!(upd(""), format!("{U}The expression can not be empty;"));
    assert_eq!(proj(""), format!("{P}The expression can not be empty;"));
    // 4096 bytes are fine (a path of one long name), 4097 are not.
    let ok = "a".repeat(4096);
    assert!(resolver().projection_expr(&ok).is_ok());
    let long = "a".repeat(4097);
    assert_eq!(
        proj(&long),
        format!("{P}Expression size has exceeded the maximum allowed size; expression size: 4097")
    );
    // The length check comes before parsing: no stack overflow, no syntax error.
    let deep = "(".repeat(100_000);
    assert_eq!(
        cond(&deep),
        format!(
            "{C}Expression size has exceeded the maximum allowed size; expression size: 100000"
        )
    );
    // Deep but short enough: bounded recursion, a ValidationException.
    let deep = "(".repeat(4000);
    assert!(cond(&deep).starts_with(&format!("{C}Syntax error; token: ")));
    let deep = format!("{}a = :a{}", "NOT (".repeat(500), ")".repeat(500));
    assert!(cond(&deep).starts_with(C));
}

#[test]
fn operator_count_limit() {
    // a<b or (a<b or (...)): 299 operators pass, 301 fail (parentheses are not counted).
    let build = |depth: usize| format!("a < b {}{}", "OR (a < b ".repeat(depth), ")".repeat(depth));
    assert!(resolver()
        .condition_expr(&build(149), ExprKind::Condition)
        .is_ok());
    assert_eq!(
        cond(&build(150)),
        format!("{C}The expression contains too many operators; operator count: 301")
    );
    // DynamoDB reports 301 however many there are.
    assert_eq!(
        cond(&build(300)),
        format!("{C}The expression contains too many operators; operator count: 301")
    );
}

#[test]
fn function_errors() {
    assert_eq!(
        cond("foo(a)"),
        format!("{C}Invalid function name; function: foo")
    );
    assert_eq!(
        cond("size(a)"),
        format!(
            "{C}The function is not allowed to be used this way in an expression; function: size"
        )
    );
    assert_eq!(
        cond("attribute_exists(a) = :a"),
        format!("{C}The function is not allowed to be used this way in an expression; function: attribute_exists")
    );
    assert_eq!(
        cond("begins_with(a, :a, :b)"),
        format!("{C}Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 3")
    );
    assert_eq!(
        cond("size(a, b) > :a"),
        format!("{C}Incorrect number of operands for operator or function; operator or function: size, number of operands: 2")
    );
    assert_eq!(
        cond("attribute_exists(:a)"),
        format!("{C}Operator or function requires a document path; operator or function: attribute_exists")
    );
    assert_eq!(
        cond("contains(a, a)"),
        format!("{C}The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [a]")
    );
    assert_eq!(
        cond("#a.b = a.b"),
        format!("{C}The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a, b]")
    );
    assert_eq!(
        cond("if_not_exists(a, :a) = :b"),
        format!(
            "{C}The function is not allowed in a condition expression; function: if_not_exists"
        )
    );
    assert_eq!(
        upd("SET a = size(b)"),
        format!("{U}The function is not allowed in an update expression; function: size")
    );
    assert_eq!(
        upd("SET a = foo(b)"),
        format!("{U}Invalid function name; function: foo")
    );
    assert_eq!(
        upd("SET a = list_append(b)"),
        format!("{U}Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1")
    );
    assert_eq!(
        upd("SET a = if_not_exists(:a, b)"),
        format!(
            "{U}Operator or function requires a document path; operator or function: if_not_exists"
        )
    );
    assert!(resolver()
        .condition_expr(
            "size(a) > :a AND attribute_type(b, :b) AND contains(#a, :c)",
            ExprKind::Condition
        )
        .is_ok());
    let ok = resolver().update_expr("SET a = if_not_exists(b, :a) + :b, c = list_append(:c, c)");
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn redundant_parentheses() {
    assert_eq!(
        cond("((a = :a))"),
        format!("{C}The expression has redundant parentheses;")
    );
    assert_eq!(
        cond("((a)) = :a"),
        format!("{C}The expression has redundant parentheses;")
    );
    assert!(resolver()
        .condition_expr("(a = :a) AND ((b = :b) OR (c = :c))", ExprKind::Condition)
        .is_ok());
    assert!(resolver()
        .condition_expr("(a) = (:a)", ExprKind::Condition)
        .is_ok());
}

#[test]
fn reserved_words() {
    assert_eq!(
        cond("status = :a"),
        format!("{C}Attribute name is a reserved keyword; reserved keyword: status")
    );
    assert_eq!(
        proj("a.Date"),
        format!("{P}Attribute name is a reserved keyword; reserved keyword: Date")
    );
    assert_eq!(
        upd("SET a = :a REMOVE name"),
        format!("{U}Attribute name is a reserved keyword; reserved keyword: name")
    );
    // Placeholders are never checked.
    let mut r = Resolver::new([("#s".to_string(), "status".to_string())], []);
    assert!(r.projection_expr("#s").is_ok());
}

#[test]
fn in_operand_limit() {
    let values: Vec<String> = (0..101).map(|i| format!(":v{i}")).collect();
    let mut r = Resolver::new([], values.clone());
    let src = format!("a IN ({})", values.join(", "));
    assert_eq!(
        msg(r.condition_expr(&src, ExprKind::Condition)),
        format!("{C}The IN operator is provided with too many operands; number of operands: 101")
    );
    let src = format!(
        "a IN ({})",
        values.get(..100).unwrap_or_default().join(", ")
    );
    assert!(r.condition_expr(&src, ExprKind::Condition).is_ok());
}

#[test]
fn undefined_and_unused_placeholders() {
    assert_eq!(cond("#x = :a"), format!("{C}An expression attribute name used in the document path is not defined; attribute name: #x"));
    assert_eq!(cond("a = :x"), format!("{C}An expression attribute value used in expression is not defined; attribute value: :x"));
    // Updates report names before values.
    assert_eq!(upd("SET a = :x, #y = :a"), format!("{U}An expression attribute name used in the document path is not defined; attribute name: #y"));
    let mut r = resolver();
    assert!(r.condition_expr("#a = :a", ExprKind::Condition).is_ok());
    assert_eq!(
        msg(r.finish()),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #d}"
    );
    assert!(r.projection_expr("#b, #d").is_ok());
    assert_eq!(
        msg(r.finish()),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b, :c}"
    );
    assert!(r.update_expr("ADD x :b DELETE y :c").is_ok());
    assert!(r.finish().is_ok());
}

#[test]
fn update_clause_and_path_errors() {
    assert_eq!(
        upd("SET a = :a SET b = :b"),
        format!("{U}The \"SET\" section can only be used once in an update expression;")
    );
    assert_eq!(
        upd("ADD x :a SET a = :a ADD y :b"),
        format!("{U}The \"ADD\" section can only be used once in an update expression;")
    );
    assert_eq!(
        upd("SET a.b = :a REMOVE a"),
        format!("{U}Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]")
    );
    assert_eq!(
        upd("SET a = :a, #a = :b"),
        format!("{U}Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]")
    );
    assert_eq!(
        upd("REMOVE a.#b SET a[1] = :a"),
        format!("{U}Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]")
    );
    // `#d` names an attribute called "[3]", which is not the index [3].
    assert_eq!(
        upd("SET c.#d = :a, c[3] = :b"),
        format!("{U}Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [c, [3]], path two: [c, [3]]")
    );
    assert!(resolver()
        .update_expr("SET a.b = :a, a.c = :b REMOVE d[1], d[2]")
        .is_ok());
    assert_eq!(
        upd("ADD a b"),
        format!("{U}Syntax error; token: \"b\", near: \"a b\"")
    );
}

#[test]
fn projection_path_errors() {
    assert_eq!(
        proj("a, a.b"),
        format!("{P}Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]")
    );
    assert_eq!(
        proj("a.b, a[1]"),
        format!("{P}Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]")
    );
    assert!(resolver().projection_expr("a.b, a.c[2], #a.d").is_ok());
}

#[test]
fn precedence_and_keywords() {
    let c = parse_condition("NOT a = :a AND b = :b OR c = :c", ExprKind::Condition);
    let c = c.map(|c| printer::condition(&c));
    assert_eq!(c.ok().as_deref(), Some("NOT a = :a AND b = :b OR c = :c"));
    let c = parse_condition(
        "a = :a and (b between :b AND :c or c in (:a, :b))",
        ExprKind::Condition,
    );
    assert_eq!(
        c.map(|c| printer::condition(&c)).ok().as_deref(),
        Some("a = :a AND (b BETWEEN :b AND :c OR c IN (:a, :b))")
    );
    let u = parse_update("set a[1].b = :a remove c add d :b delete e :c");
    assert_eq!(
        u.map(|u| printer::update(&u)).ok().as_deref(),
        Some("SET a[1].b = :a REMOVE c ADD d :b DELETE e :c")
    );
}

mod roundtrip {
    use super::super::ast::*;
    use super::super::{parser, printer};
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        // Never a grammar keyword or a reserved word: the round trip is about structure.
        "[a-z]{1,3}x[a-z0-9_]{0,3}"
    }

    fn path() -> impl Strategy<Value = Path> {
        let first = prop_oneof![
            name().prop_map(PathElem::Attr),
            name().prop_map(|n| PathElem::Name(format!("#{n}"))),
        ];
        let rest = prop_oneof![
            name().prop_map(PathElem::Attr),
            name().prop_map(|n| PathElem::Name(format!("#{n}"))),
            (0u32..1000).prop_map(PathElem::Index),
        ];
        (first, prop::collection::vec(rest, 0..3)).prop_map(|(f, mut r)| {
            r.insert(0, f);
            Path {
                elems: r,
                span: Span::default(),
            }
        })
    }

    fn value() -> impl Strategy<Value = ValueRef> {
        "[a-z0-9_]{1,4}".prop_map(|n| ValueRef {
            name: format!(":{n}"),
            span: Span::default(),
        })
    }

    fn simple_operand() -> impl Strategy<Value = Operand> {
        prop_oneof![
            path().prop_map(Operand::Path),
            value().prop_map(Operand::Value)
        ]
    }

    fn cond_operand() -> impl Strategy<Value = Operand> {
        prop_oneof![
            3 => simple_operand(),
            1 => path().prop_map(|p| Operand::Call(Call { name: "size".into(), args: vec![Operand::Path(p)], span: Span::default() })),
        ]
    }

    fn cmp() -> impl Strategy<Value = CmpOp> {
        prop_oneof![
            Just(CmpOp::Eq),
            Just(CmpOp::Ne),
            Just(CmpOp::Lt),
            Just(CmpOp::Le),
            Just(CmpOp::Gt),
            Just(CmpOp::Ge)
        ]
    }

    fn leaf() -> impl Strategy<Value = Condition> {
        prop_oneof![
            (cmp(), cond_operand(), cond_operand()).prop_map(|(op, lhs, rhs)| Condition::Compare {
                op,
                lhs,
                rhs
            }),
            (cond_operand(), cond_operand(), cond_operand())
                .prop_map(|(subject, low, high)| Condition::Between { subject, low, high }),
            (cond_operand(), prop::collection::vec(cond_operand(), 1..4))
                .prop_map(|(subject, list)| Condition::In { subject, list }),
            (
                prop_oneof![
                    Just("attribute_exists"),
                    Just("begins_with"),
                    Just("contains")
                ],
                prop::collection::vec(simple_operand(), 1..3)
            )
                .prop_map(|(n, args)| Condition::Call(Call {
                    name: n.into(),
                    args,
                    span: Span::default()
                })),
        ]
    }

    fn condition() -> impl Strategy<Value = Condition> {
        leaf().prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Condition::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Condition::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Condition::Not(Box::new(a))),
            ]
        })
    }

    fn set_value() -> impl Strategy<Value = Operand> {
        let term = prop_oneof![
            3 => simple_operand(),
            1 => (prop_oneof![Just("if_not_exists"), Just("list_append")], simple_operand(), simple_operand())
                .prop_map(|(n, a, b)| Operand::Call(Call { name: n.into(), args: vec![a, b], span: Span::default() })),
        ];
        let arith = prop_oneof![Just(ArithOp::Plus), Just(ArithOp::Minus)];
        prop_oneof![
            term.clone(),
            (arith, term.clone(), term).prop_map(|(op, lhs, rhs)| Operand::Arith(Box::new(
                Arith {
                    op,
                    lhs,
                    rhs,
                    span: Span::default()
                }
            ))),
        ]
    }

    fn clause() -> impl Strategy<Value = Clause> {
        let va = || (path(), value()).prop_map(|(path, value)| ValueAction { path, value });
        prop_oneof![
            prop::collection::vec(
                (path(), set_value()).prop_map(|(path, value)| SetAction { path, value }),
                1..3
            )
            .prop_map(Clause::Set),
            prop::collection::vec(path(), 1..3).prop_map(Clause::Remove),
            prop::collection::vec(va(), 1..3).prop_map(Clause::Add),
            prop::collection::vec(va(), 1..3).prop_map(Clause::Delete),
        ]
    }

    proptest! {
        #[test]
        fn condition_roundtrip(c in condition()) {
            let text = printer::condition(&c);
            let parsed = parser::parse_condition(&text).map(|p| p.tree);
            prop_assert_eq!(parsed, Ok(c), "{}", text);
        }

        #[test]
        fn update_roundtrip(clauses in prop::collection::vec(clause(), 1..4)) {
            let u = Update { clauses };
            let text = printer::update(&u);
            let parsed = parser::parse_update(&text).map(|p| p.tree);
            prop_assert_eq!(parsed, Ok(u), "{}", text);
        }

        #[test]
        fn projection_roundtrip(paths in prop::collection::vec(path(), 1..5)) {
            let p = Projection { paths };
            let text = printer::projection(&p);
            let parsed = parser::parse_projection(&text).map(|p| p.tree);
            prop_assert_eq!(parsed, Ok(p), "{}", text);
        }

        #[test]
        fn parser_never_panics(s in "[a-z#:()\\[\\]., =<>+\\-0-9]{0,60}") {
            let _ = parser::parse_condition(&s);
            let _ = parser::parse_update(&s);
            let _ = parser::parse_projection(&s);
        }
    }
}

#[test]
fn deepest_acceptable_nesting_parses() {
    // 299 NOTs + one "=" is the most operators allowed, each NOT adding a paren level.
    let src = format!("{}a = :a{}", "NOT (".repeat(299), ")".repeat(299));
    assert!(parser::parse_condition(&src).is_ok());
    let src = format!("{}a = :a{}", "NOT (".repeat(300), ")".repeat(300));
    assert!(parser::parse_condition(&src).is_err());
    // 400 levels of function nesting: rejected by the depth bound, not the stack.
    let src = format!("{}a{}", "size(".repeat(401), ")".repeat(401));
    assert!(parser::parse_condition(&src).is_err());
}

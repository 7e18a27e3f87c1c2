use super::*;

fn int(value: i64) -> Value {
    Value::Int(BigInt::from(value))
}

#[test]
fn floats_print_as_python_prints_them() {
    for (value, want) in [
        (1.0, "1.0"),
        (0.1, "0.1"),
        (1e16, "1e+16"),
        (1.5e16, "1.5e+16"),
        (123456789012345.6, "123456789012345.6"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5e-7, "-2.5e-07"),
        (1e300, "1e+300"),
        (-0.0, "-0.0"),
        (f64::NAN, "nan"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        assert_eq!(float_repr(value), want, "{value}");
    }
}

#[test]
fn containers_print_as_python_prints_them() {
    let value = Value::List(vec![
        Value::Tuple(vec![int(1)]),
        Value::Str("it's".into()),
        Value::Dict(vec![(Value::Str("a".into()), Value::None)]),
        Value::Set(vec![]),
        Value::FrozenSet(vec![Value::Bool(true)]),
        Value::Bytes(b"a'\x00".to_vec()),
        Value::Unrepresentable("MyInt".into()),
    ]);
    assert_eq!(
        value.to_string(),
        r#"[(1,), "it's", {'a': None}, set(), frozenset({True}), b'a\'\x00', <MyInt>]"#
    );
    assert_eq!(value.unrepresentable(), Some("MyInt"));
}

#[test]
fn an_outcome_round_trips_from_the_reactor_format() {
    // R, list of [int 300, float 0.5, str "é", U "Foo"]
    let mut bytes = vec![b'R', b'l', 4, 0, 0, 0];
    bytes.extend([b'i', 2, 0, 0, 0, 0x2c, 0x01]);
    bytes.push(b'f');
    bytes.extend(0.5f64.to_le_bytes());
    bytes.extend([b's', 2, 0, 0, 0, 0xc3, 0xa9]);
    bytes.extend([b'U', 3, 0, 0, 0, b'F', b'o', b'o']);
    assert_eq!(
        decode_outcome(&bytes),
        Ok(Outcome::Returned(Value::List(vec![
            int(300),
            Value::Float(0.5),
            Value::Str("é".into()),
            Value::Unrepresentable("Foo".into()),
        ])))
    );
}

#[test]
fn a_raised_exception_names_its_builtin_classes() {
    let mut bytes = vec![b'E', 2, 0, 0, 0];
    bytes.extend([5, 0, 0, 0]);
    bytes.extend(b"Error");
    bytes.extend([10, 0, 0, 0]);
    bytes.extend(b"ValueError");
    bytes.extend([7, 0, 0, 0]);
    bytes.extend(b"Invalid");
    bytes.extend([b't', 1, 0, 0, 0, b's', 3, 0, 0, 0]);
    bytes.extend(b"bad");
    let Ok(Outcome::Raised(raised)) = decode_outcome(&bytes) else {
        panic!("not a raised outcome");
    };
    assert!(raised.is_a("ValueError"));
    assert!(!raised.is_a("Invalid"));
    assert_eq!(raised.describe(), "Invalid: bad");
}

/// A huge answer costs the host no more than what it shows: an int
/// past Python's own limit shows its size, and a value of millions of
/// items is rendered only as far as the cut.
#[test]
fn an_answer_of_too_many_values_is_refused_not_built() {
    let nones = |count: usize| {
        let mut bytes = vec![b'R', b'l'];
        bytes.extend(u32::try_from(count).expect("fits").to_le_bytes());
        bytes.resize(bytes.len() + count, b'N');
        bytes
    };
    // The list itself is one value.
    let within = decode_outcome(&nones(MAX_DECODED_VALUES - 1)).expect("decodes");
    assert!(
        matches!(within, Outcome::Returned(Value::List(items)) if items.len() == MAX_DECODED_VALUES - 1)
    );
    let past = decode_outcome(&nones(MAX_DECODED_VALUES)).expect_err("refused");
    assert!(past.0.contains("past what the host decodes"), "{past:?}");
}

#[test]
fn huge_values_render_cheaply() {
    let huge = Value::Int(BigInt::from(7u8).pow(3_000_000));
    assert_eq!(huge.to_string(), "<int of about 2535295 digits>");
    let negative = Value::Int(-BigInt::from(10u8).pow(5000));
    assert_eq!(negative.to_string(), "<-int of about 5001 digits>");
    assert_eq!(int(-42).to_string(), "-42");
    let within = Value::Int(BigInt::from(10u8).pow(4000));
    assert_eq!(within.to_string().len(), 4001);
    // Python's limit exactly: 4,300 digits print, 4,301 do not.
    let largest = Value::Int(BigInt::from(10u8).pow(4300) - 1);
    assert_eq!(largest.to_string().len(), 4300);
    let past = Value::Int(BigInt::from(10u8).pow(4300));
    assert_eq!(past.to_string(), "<int of about 4301 digits>");
    let text = Value::Str("\u{1}".repeat(50_000_000));
    assert_eq!(clipped(&text, 300).chars().count(), 303);
    let syntax = Raised {
        builtin_classes: vec!["SyntaxError".into()],
        type_name: "SyntaxError".into(),
        args: Value::Tuple(vec![
            Value::Str("m".repeat(10_000)),
            Value::Tuple(vec![
                Value::Str("f".into()),
                Value::Int(BigInt::from(7u8).pow(3_000_000)),
            ]),
        ]),
    };
    let described = syntax.describe();
    assert!(described.len() < 2200, "{}", described.len());
    assert!(
        described.ends_with("line <int of about 2535295 digits>)"),
        "{described}"
    );

    let many = Value::List(vec![Value::None; 4_000_000]);
    let shown = clipped(&many, 300);
    assert_eq!(shown.chars().count(), 303);
    assert!(shown.starts_with("[None, None") && shown.ends_with("..."));
    assert_eq!(clipped(&int(5), 300), "5");
    let raised = Raised {
        builtin_classes: vec!["ValueError".into()],
        type_name: "ValueError".into(),
        args: Value::Tuple(vec![many]),
    };
    assert!(raised.describe().len() < 2100);
}

#[test]
fn corrupt_encodings_are_errors_not_panics() {
    for bytes in [
        &b""[..],
        b"R",
        b"Rl\xff\xff\xff\xff",
        b"Ri\x09\x00\x00\x00\x01",
        b"RNx",
        b"Q",
        b"Rs\x02\x00\x00\x00\xff\xfe",
    ] {
        assert!(decode_outcome(bytes).is_err(), "{bytes:?}");
    }
    let mut deep = vec![b'R'];
    for _ in 0..200 {
        deep.extend([b'l', 1, 0, 0, 0]);
    }
    deep.push(b'N');
    assert!(decode_outcome(&deep).is_err());
}
/// The encoding the reactor writes, for the property tests below.
fn encode(value: &Value, out: &mut Vec<u8>) {
    fn blob(bytes: &[u8], out: &mut Vec<u8>) {
        out.extend((bytes.len() as u32).to_le_bytes());
        out.extend(bytes);
    }
    fn items(tag: u8, items: &[Value], out: &mut Vec<u8>) {
        out.push(tag);
        out.extend((items.len() as u32).to_le_bytes());
        for item in items {
            encode(item, out);
        }
    }
    match value {
        Value::None => out.push(b'N'),
        Value::Bool(true) => out.push(b'T'),
        Value::Bool(false) => out.push(b'F'),
        Value::Int(int) => {
            out.push(b'i');
            blob(&int.to_signed_bytes_le(), out);
        }
        Value::Float(float) => {
            out.push(b'f');
            out.extend(float.to_le_bytes());
        }
        Value::Str(text) => {
            out.push(b's');
            blob(text.as_bytes(), out);
        }
        Value::Bytes(bytes) => {
            out.push(b'b');
            blob(bytes, out);
        }
        Value::List(values) => items(b'l', values, out),
        Value::Tuple(values) => items(b't', values, out),
        Value::Set(values) => items(b'S', values, out),
        Value::FrozenSet(values) => items(b'z', values, out),
        Value::Dict(pairs) => {
            out.push(b'd');
            out.extend((pairs.len() as u32).to_le_bytes());
            for (key, value) in pairs {
                encode(key, out);
                encode(value, out);
            }
        }
        Value::Unrepresentable(name) => {
            out.push(b'U');
            blob(name.as_bytes(), out);
        }
    }
}

fn values() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(int),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|bytes| Value::Int(BigInt::from_signed_bytes_le(&bytes))),
        any::<f64>().prop_map(Value::Float),
        any::<String>().prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
        "\\PC{0,8}".prop_map(Value::Unrepresentable),
    ];
    leaf.prop_recursive(6, 64, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::List),
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Tuple),
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Set),
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::FrozenSet),
            proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Value::Dict),
        ]
    })
}

/// Cases per property: `FUELBENCH_FUZZ_CASES`, or a number that runs
/// in a few seconds.
fn fuzz_config() -> proptest::test_runner::Config {
    let cases = std::env::var("FUELBENCH_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(20_000);
    proptest::test_runner::Config::with_cases(cases)
}

proptest::proptest! {
    #![proptest_config(fuzz_config())]

    /// Whatever the reactor encodes decodes to itself, and prints.
    #[test]
    fn every_encoding_decodes_to_its_value(value in values()) {
        let mut bytes = vec![b'R'];
        encode(&value, &mut bytes);
        let Ok(Outcome::Returned(decoded)) = decode_outcome(&bytes) else {
            panic!("{value:?} did not decode");
        };
        let _ = decoded.to_string();
        proptest::prop_assert_eq!(
            format!("{decoded:?}"),
            format!("{value:?}"),
            "a value decodes to itself"
        );
    }

    /// The same encoding cut, grown or with a byte changed, and raw
    /// bytes: a value or an error, never a panic.
    #[test]
    fn any_bytes_decode_or_fail_cleanly(
        value in values(),
        raised in proptest::prelude::any::<bool>(),
        edits in proptest::collection::vec(
            (proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>(), 0..3u8),
            0..4,
        ),
        raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
    ) {
        let mut bytes = Vec::new();
        if raised {
            bytes.push(b'E');
            bytes.extend(1u32.to_le_bytes());
            bytes.extend(9u32.to_le_bytes());
            bytes.extend(b"Exception");
            bytes.extend(5u32.to_le_bytes());
            bytes.extend(b"Error");
        } else {
            bytes.push(b'R');
        }
        encode(&value, &mut bytes);
        for (at, byte, kind) in edits {
            let at = at % (bytes.len() + 1);
            match kind {
                0 => bytes.truncate(at),
                1 => bytes.insert(at, byte),
                _ => if let Some(slot) = bytes.get_mut(at) { *slot = byte },
            }
        }
        for bytes in [&bytes, &raw] {
            match decode_outcome(bytes) {
                Ok(Outcome::Returned(value)) => { let _ = value.to_string(); }
                Ok(Outcome::Raised(raised)) => { let _ = raised.describe(); }
                Ok(Outcome::Batch(outcomes)) => { let _ = format!("{outcomes:?}"); }
                Err(error) => proptest::prop_assert!(!error.0.is_empty()),
            }
        }
    }
}

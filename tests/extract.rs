//! Token extraction from Authorization schemes, cookies and headers (RFC 6750 §2).

use std::collections::BTreeMap;

use jwt_edge::{extract_token, Error, TokenSource};

const T: &str = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln";

fn run(sources: &[TokenSource], headers: &[(&str, &str)]) -> Result<String, Error> {
    let map: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    extract_token(sources, 16384, |name| {
        map.get(&name.to_ascii_lowercase()).cloned()
    })
}

fn bearer() -> Vec<TokenSource> {
    vec![TokenSource::default()]
}

#[test]
fn authorization_schemes() {
    assert_eq!(
        run(&bearer(), &[("Authorization", &format!("Bearer {T}"))]).unwrap(),
        T
    );
    assert_eq!(
        run(&bearer(), &[("Authorization", &format!("bearer   {T}"))]).unwrap(),
        T
    );
    assert_eq!(run(&bearer(), &[]).unwrap_err(), Error::TokenMissing);
    // Another scheme is not ours: the request simply has no token for us.
    assert_eq!(
        run(&bearer(), &[("Authorization", "Basic dXNlcjpwYXNz")]).unwrap_err(),
        Error::TokenMissing
    );
    for bad in [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer a\"b",
        "Bearer a,b",
    ] {
        assert_eq!(
            run(&bearer(), &[("Authorization", bad)])
                .unwrap_err()
                .code(),
            "request_malformed",
            "{bad:?}"
        );
    }
    let custom = vec![TokenSource::Authorization {
        schemes: vec!["Custom-Jwt".into(), "Bearer".into()],
    }];
    assert_eq!(
        run(&custom, &[("Authorization", &format!("Custom-Jwt {T}"))]).unwrap(),
        T
    );
    assert_eq!(
        run(&custom, &[("Authorization", &format!("custom-jwt {T}"))]).unwrap(),
        T
    );
    let too_big = format!("Bearer {}", "a".repeat(16385));
    assert_eq!(
        run(&bearer(), &[("Authorization", &too_big)])
            .unwrap_err()
            .code(),
        "token_too_large"
    );
}

#[test]
fn cookies_and_headers() {
    let cookie = vec![TokenSource::Cookie {
        name: "session".into(),
    }];
    assert_eq!(
        run(&cookie, &[("Cookie", &format!("a=1; session={T}; b=2"))]).unwrap(),
        T
    );
    assert_eq!(
        run(&cookie, &[("Cookie", "a=1; sessionx=2")]).unwrap_err(),
        Error::TokenMissing
    );
    assert_eq!(
        run(&cookie, &[("Cookie", &format!("session={T}; session={T}"))])
            .unwrap_err()
            .code(),
        "request_malformed"
    );
    let header = vec![TokenSource::Header {
        name: "X-Api-Token".into(),
        prefix: None,
    }];
    assert_eq!(
        run(&header, &[("x-api-token", &format!(" {T} "))]).unwrap(),
        T
    );
    assert_eq!(
        run(&header, &[("x-api-token", "")]).unwrap_err(),
        Error::TokenMissing
    );
}

#[test]
fn one_place_only() {
    let both = vec![
        TokenSource::default(),
        TokenSource::Cookie {
            name: "session".into(),
        },
    ];
    assert_eq!(
        run(&both, &[("Cookie", &format!("session={T}"))]).unwrap(),
        T
    );
    let two = [
        ("Authorization", format!("Bearer {T}")),
        ("Cookie", format!("session={T}")),
    ];
    let two: Vec<(&str, &str)> = two.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        run(&both, &two).unwrap_err(),
        Error::RequestMalformed("token offered in more than one place")
    );
    let parsed: Vec<TokenSource> = serde_json::from_str(
        r#"[{"type":"authorization","schemes":["Custom-Jwt"]},{"type":"cookie","name":"jwt"},{"type":"header","name":"x-jwt"},{"type":"authorization"}]"#,
    )
    .unwrap();
    assert_eq!(parsed[3], TokenSource::default());
    assert!(
        serde_json::from_str::<TokenSource>(r#"{"type":"cookie","name":"a","extra":1}"#).is_err()
    );
}

#[test]
fn query_parameters_and_header_prefixes() {
    use jwt_edge::{extract_token_from, strip_query_parameter};
    let query = vec![TokenSource::Query {
        name: "access_token".into(),
    }];
    let from = |q: Option<&str>, headers: &[(&str, &str)]| {
        let map: BTreeMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        let mut sources = query.clone();
        sources.push(TokenSource::default());
        extract_token_from(&sources, 16384, |n| map.get(n).cloned(), q)
    };
    assert_eq!(
        from(Some(&format!("a=1&access_token={T}")), &[]).unwrap(),
        T
    );
    // Names are compared as URLSearchParams decodes them.
    assert_eq!(from(Some(&format!("access%5ftoken={T}")), &[]).unwrap(), T);
    assert_eq!(
        from(Some("access_tokens=x&b=access_token"), &[]),
        Err(Error::TokenMissing)
    );
    assert_eq!(from(None, &[]), Err(Error::TokenMissing));
    assert_eq!(
        from(Some(&format!("access_token={T}&access_token={T}")), &[]),
        Err(Error::RequestMalformed("token parameter sent twice"))
    );
    assert_eq!(
        from(
            Some(&format!("access_token={T}")),
            &[("authorization", &format!("Bearer {T}"))]
        ),
        Err(Error::RequestMalformed(
            "token offered in more than one place"
        ))
    );
    // A value that decodes to bytes a JWT cannot hold is malformed, never passed on.
    assert_eq!(
        from(Some("access_token=a.b.c%0d%0aX"), &[])
            .unwrap_err()
            .code(),
        "request_malformed"
    );
    assert_eq!(
        strip_query_parameter("a=1&access_token=x&access%5Ftoken=y&b=%2F", "access_token")
            .as_deref(),
        Some("a=1&b=%2F")
    );
    assert_eq!(
        strip_query_parameter("access_token=x", "access_token"),
        None
    );

    let prefixed = vec![TokenSource::Header {
        name: "X-Auth".into(),
        prefix: Some("Token ".into()),
    }];
    for value in [
        format!("Token {T}"),
        format!("TOKEN {T}"),
        format!("  token   {T} "),
    ] {
        assert_eq!(run(&prefixed, &[("x-auth", &value)]).unwrap(), T, "{value}");
    }
    for value in [
        T.to_owned(),
        format!("Bearer {T}"),
        "Token".to_owned(),
        "Token ".to_owned(),
    ] {
        assert_eq!(
            run(&prefixed, &[("x-auth", &value)]),
            Err(Error::TokenMissing),
            "{value}"
        );
    }
}

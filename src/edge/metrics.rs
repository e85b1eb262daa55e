//! One Workers Analytics Engine data point per decision, laid out here so that the
//! README's SQL and the worker agree on which column holds what. The worker writes it
//! when the dataset binding [`METRICS_BINDING`] exists (`analytics_engine_datasets` in
//! `wrangler.toml`); without the binding nothing is written. Logs are unchanged.
//!
//! | column   | value                                                              |
//! |----------|--------------------------------------------------------------------|
//! | `index1` | issuer (the configured one the token was routed to; `""` if none)  |
//! | `blob1`  | outcome: `accept`, `refuse`, `public`, `anonymous`, …              |
//! | `blob2`  | code: `ok` or the refusal's stable code (`token_expired`, …)       |
//! | `blob3`  | issuer (as `index1`)                                               |
//! | `blob4`  | route name (`""` without routes)                                   |
//! | `blob5`  | JWKS tier: `memory`, `kv`, `issuer`, `stale`, `secret` (or `""`)   |
//! | `blob6`  | `kid` of the token, bounded and printable (or `""`)                |
//! | `blob7`  | discovery tier, for an issuer whose keys are discovered (or `""`)  |
//! | `blob8`  | `enforced` or `shadow` (a shadowed refusal is `refuse` in `blob1`) |
//! | `double1`| duration of the request in the worker, in milliseconds             |

/// The dataset binding the worker writes to, when it exists.
pub const METRICS_BINDING: &str = "JWT_EDGE_METRICS";

/// Analytics Engine accepts one index of at most 96 bytes.
pub const MAX_INDEX_BYTES: usize = 96;

/// What a decision reports (the same facts as its log line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecisionMetrics<'a> {
    /// `accept`, `refuse`, or the route's other outcome.
    pub outcome: &'a str,
    /// `ok` or the error code.
    pub code: Option<&'a str>,
    /// The configured issuer the token was routed to.
    pub issuer: Option<&'a str>,
    /// The route's name, when routes are configured.
    pub route: Option<&'a str>,
    /// Whether the route enforces (false: shadow).
    pub enforced: bool,
    /// Where the keys came from.
    pub jwks_tier: Option<&'a str>,
    /// The token's `kid`, already made log-safe.
    pub kid: Option<&'a str>,
    /// Where the discovery document came from.
    pub discovery_tier: Option<&'a str>,
    /// Milliseconds spent.
    pub duration_ms: f64,
}

/// One data point: its blobs, doubles and index, in the column order above.
#[derive(Debug, Clone, PartialEq)]
pub struct DataPoint {
    /// `blob1` … `blob8`.
    pub blobs: Vec<String>,
    /// `double1`.
    pub doubles: Vec<f64>,
    /// `index1`.
    pub index: String,
}

impl DecisionMetrics<'_> {
    /// The data point for this decision.
    pub fn data_point(&self) -> DataPoint {
        let text = |value: Option<&str>| value.unwrap_or("").to_owned();
        let issuer = text(self.issuer);
        DataPoint {
            index: truncate(&issuer, MAX_INDEX_BYTES).to_owned(),
            blobs: vec![
                self.outcome.to_owned(),
                text(self.code),
                issuer,
                text(self.route),
                text(self.jwks_tier),
                text(self.kid),
                text(self.discovery_tier),
                if self.enforced { "enforced" } else { "shadow" }.to_owned(),
            ],
            doubles: vec![self.duration_ms],
        }
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    text.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_in_the_documented_order() {
        let point = DecisionMetrics {
            outcome: "refuse",
            code: Some("token_expired"),
            issuer: Some("https://issuer.example/"),
            route: Some("admin"),
            enforced: true,
            jwks_tier: Some("kv"),
            kid: Some("k1"),
            discovery_tier: Some("memory"),
            duration_ms: 1.5,
        }
        .data_point();
        assert_eq!(
            point.blobs,
            [
                "refuse",
                "token_expired",
                "https://issuer.example/",
                "admin",
                "kv",
                "k1",
                "memory",
                "enforced"
            ]
        );
        assert_eq!(point.doubles, [1.5]);
        assert_eq!(point.index, "https://issuer.example/");
        let empty = DecisionMetrics::default().data_point();
        assert_eq!(empty.blobs.len(), 8);
        assert_eq!(empty.blobs[7], "shadow");
    }

    #[test]
    fn the_index_fits_analytics_engine() {
        let long = format!("https://{}.example/", "é".repeat(100));
        let point = DecisionMetrics {
            issuer: Some(&long),
            ..Default::default()
        }
        .data_point();
        assert!(point.index.len() <= MAX_INDEX_BYTES);
        assert!(long.starts_with(&point.index));
        assert_eq!(point.blobs[2], long);
    }
}

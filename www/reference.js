// Generated from the core (src/reference.rs) by `JWT_EDGE_BLESS=1 cargo test --test generated`.
// Do not edit: tests/generated.rs fails when this file differs from what the core says.

/** Every error code: its HTTP status, RFC 6750 `error` attribute (or null) and family. */
export const ERROR_CODES = Object.freeze([
  Object.freeze({ code: 'token_missing', status: 401, error: null, family: 'request' }),
  Object.freeze({ code: 'request_malformed', status: 400, error: 'invalid_request', family: 'request' }),
  Object.freeze({ code: 'token_too_large', status: 401, error: 'invalid_token', family: 'token' }),
  Object.freeze({ code: 'token_malformed', status: 401, error: 'invalid_token', family: 'token' }),
  Object.freeze({ code: 'crit_unsupported', status: 401, error: 'invalid_token', family: 'token' }),
  Object.freeze({ code: 'b64_unsupported', status: 401, error: 'invalid_token', family: 'token' }),
  Object.freeze({ code: 'alg_not_allowed', status: 401, error: 'invalid_token', family: 'key' }),
  Object.freeze({ code: 'no_matching_key', status: 401, error: 'invalid_token', family: 'key' }),
  Object.freeze({ code: 'key_mismatch', status: 401, error: 'invalid_token', family: 'key' }),
  Object.freeze({ code: 'signature_invalid', status: 401, error: 'invalid_token', family: 'signature' }),
  Object.freeze({ code: 'token_expired', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'token_not_yet_valid', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'iat_in_future', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'lifetime_too_long', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'claim_missing', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'claim_invalid', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'issuer_mismatch', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'audience_mismatch', status: 403, error: 'insufficient_scope', family: 'claims' }),
  Object.freeze({ code: 'subject_mismatch', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'typ_mismatch', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'assertion_mismatch', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'token_replayed', status: 401, error: 'invalid_token', family: 'replay' }),
  Object.freeze({ code: 'replay_unavailable', status: 503, error: null, family: 'replay' }),
  Object.freeze({ code: 'jwks_unavailable', status: 503, error: null, family: 'jwks' }),
  Object.freeze({ code: 'jwks_invalid', status: 503, error: null, family: 'jwks' }),
  Object.freeze({ code: 'config_invalid', status: 500, error: null, family: 'config' }),
]);

/** Every algorithm name the core verifies. */
export const ALL_ALGORITHMS = Object.freeze(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA', 'Ed25519']);

/** The default allow-list: every asymmetric algorithm. */
export const DEFAULT_ALGORITHMS = Object.freeze(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA', 'Ed25519']);

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
  Object.freeze({ code: 'insufficient_scope', status: 403, error: 'insufficient_scope', family: 'claims' }),
  Object.freeze({ code: 'claim_mismatch', status: 403, error: 'insufficient_scope', family: 'claims' }),
  Object.freeze({ code: 'assertion_mismatch', status: 401, error: 'invalid_token', family: 'claims' }),
  Object.freeze({ code: 'token_replayed', status: 401, error: 'invalid_token', family: 'replay' }),
  Object.freeze({ code: 'replay_unavailable', status: 503, error: null, family: 'replay' }),
  Object.freeze({ code: 'jwks_unavailable', status: 503, error: null, family: 'jwks' }),
  Object.freeze({ code: 'jwks_invalid', status: 503, error: null, family: 'jwks' }),
  Object.freeze({ code: 'config_invalid', status: 500, error: null, family: 'config' }),
  Object.freeze({ code: 'response_failed', status: 500, error: null, family: 'runtime' }),
  Object.freeze({ code: 'randomness_unavailable', status: 500, error: null, family: 'runtime' }),
]);

/** Every algorithm name the core verifies. */
export const ALL_ALGORITHMS = Object.freeze(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA', 'Ed25519']);

/** The default allow-list: every asymmetric algorithm. */
export const DEFAULT_ALGORITHMS = Object.freeze(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA', 'Ed25519']);

/** Every policy option as each front end names it. */
export const OPTIONS = Object.freeze([
  Object.freeze({ core: 'jwks', edge: 'issuers.jwks_uri', npm: 'jwks', cli: '--jwks' }),
  Object.freeze({ core: 'secret', edge: 'issuers.hmac_secret', npm: 'secret', cli: '--secret' }),
  Object.freeze({ core: 'secrets', edge: 'issuers.hmac_secrets', npm: 'secrets', cli: '--secret-kid' }),
  Object.freeze({ core: 'algorithms', edge: 'issuers.algorithms', npm: 'algorithms', cli: '--alg' }),
  Object.freeze({ core: 'issuers', edge: 'issuers.issuer', npm: 'issuer', cli: '--iss' }),
  Object.freeze({ core: 'audiences', edge: 'issuers.audiences', npm: 'audience', cli: '--aud' }),
  Object.freeze({ core: 'subject', edge: 'issuers.subject', npm: 'subject', cli: '--sub' }),
  Object.freeze({ core: 'typ', edge: 'issuers.typ', npm: 'typ', cli: '--typ' }),
  Object.freeze({ core: 'required_claims', edge: 'issuers.required_claims', npm: 'requiredClaims', cli: '--require-claim' }),
  Object.freeze({ core: 'clock_skew', edge: 'issuers.clock_skew', npm: 'clockSkewSeconds', cli: '--skew' }),
  Object.freeze({ core: 'max_lifetime', edge: 'issuers.max_lifetime', npm: 'maxLifetimeSeconds', cli: '--max-lifetime' }),
  Object.freeze({ core: 'require_exp', edge: 'issuers.require_exp', npm: 'requireExp', cli: '--require-exp' }),
  Object.freeze({ core: 'require_jti', edge: 'issuers.require_jti', npm: 'requireJti', cli: '--require-jti' }),
  Object.freeze({ core: 'max_token_bytes', edge: 'max_token_bytes', npm: 'maxTokenBytes', cli: '--max-token-bytes' }),
  Object.freeze({ core: 'token_cache_entries', edge: 'token_cache_entries', npm: 'tokenCacheEntries', cli: '' }),
]);

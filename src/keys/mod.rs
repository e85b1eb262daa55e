//! Keys: JWK import and its checks, JWKS parsing and hygiene, selection of the one
//! key for a token, RFC 7638 thumbprints, configured shared secrets, key-set URIs.

pub(crate) mod jwk;
pub(crate) mod jwks;
pub(crate) mod secret;
pub(crate) mod select;
pub(crate) mod thumbprint;
pub(crate) mod uri;

/**
 * The families of the codes the JavaScript layer refuses with itself, before the core is
 * asked (every other refusal carries the core's verdict, family included).
 */
const OWN_FAMILIES = { config_invalid: 'config', token_malformed: 'token', jwks_unavailable: 'jwks' };

/**
 * The error every refusal throws: `code` is jwt-edge's stable error code, `family` its
 * family, and `verdict` the refused verdict `{ valid: false, code, family, message }`,
 * the same object the worker and the CLI answer.
 */
export class JwtEdgeError extends Error {
  constructor(code, message, verdict) {
    super(message);
    this.name = 'JwtEdgeError';
    this.code = code;
    this.family = verdict?.family ?? OWN_FAMILIES[code];
    this.verdict = verdict ?? { valid: false, code, family: this.family, message };
  }
}

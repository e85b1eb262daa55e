/** The error every refusal throws; `code` is jwt-edge's stable error code. */
export class JwtEdgeError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'JwtEdgeError';
    this.code = code;
  }
}

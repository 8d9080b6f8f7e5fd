/**
 * Error classes shared by every boundary. Each carries enough context in its message to act on it:
 * what was expected, what came, and where (a path into the input, or a file).
 */

/** Bad files, flags or data given by a user (exit code 1 at run time, 2 for usage). */
export class InputError extends Error {
  override readonly name: string = 'InputError';
}

/** Bad command-line usage: unknown flag, missing value, out-of-range number (exit code 2). */
export class UsageError extends InputError {
  override readonly name: string = 'UsageError';
}

/** A data asset (facekit, a model file) that is missing, truncated or not what its manifest says. */
export class AssetError extends Error {
  override readonly name: string = 'AssetError';
}

/** An object used after it was closed, or in the wrong order. */
export class InvalidStateError extends Error {
  override readonly name: string = 'InvalidStateError';
}

/** A model file that does not fit the model contract; the message lists every mismatch at once. */
export class ModelContractError extends Error {
  override readonly name: string = 'ModelContractError';
}

/** Bytes or messages from the network (signaling, data channels, RTP) that break the protocol. */
export class ProtocolError extends Error {
  override readonly name: string = 'ProtocolError';
}

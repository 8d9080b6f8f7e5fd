/**
 * An onnxruntime session for a small helper network (the face detector, the bench's reference networks): read the
 * file, open it on one thread, check the tensors it must have, with errors that name the network and the file.
 * The face model itself has a contract of its own (faceModel.ts).
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { InputError, ModelContractError } from '../../../shared/errors.js';

export async function openOnnxSession(path: string, what: string, tensors: { inputs: readonly string[]; outputs: readonly string[] }): Promise<ort.InferenceSession> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`${what} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let session: ort.InferenceSession;
  try {
    // one thread: these networks are small, and a second thread would be taken from the face model
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  } catch (e) {
    throw new ModelContractError(`${what} ${path}: not a loadable ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
  const missing = [...tensors.inputs.filter((n) => !session.inputNames.includes(n)), ...tensors.outputs.filter((n) => !session.outputNames.includes(n))];
  if (missing.length) {
    await session.release();
    throw new ModelContractError(`${what} ${path}: expected tensors ${[...tensors.inputs, ...tensors.outputs].join(', ')}; missing ${missing.join(', ')} (it has ${session.inputNames.join(', ')} -> ${session.outputNames.join(', ')})`);
  }
  return session;
}

/** The part of the Khronos glTF validator's API that the tests use (the package ships no types). */
declare module 'gltf-validator' {
  export interface ValidationReport {
    issues: { numErrors: number; numWarnings: number; messages: { code: string; message: string; pointer?: string }[] };
    info?: { animationCount: number; hasMorphTargets: boolean; totalVertexCount: number };
  }
  export function validateBytes(data: Uint8Array, options?: Record<string, unknown>): Promise<ValidationReport>;
}

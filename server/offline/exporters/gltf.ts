/**
 * The whole tracked sequence as one binary glTF (.glb): the person's neutral mesh with facekit's expression
 * shapes as morph targets, animated per frame by the fitted blendshape weights and the head pose. Any glTF
 * viewer plays it back; a frame without a face hides the mesh (scale 0).
 *
 * glTF is y-up with the camera looking down -z; our camera frame is y-down, z-forward. The scene root turns one
 * into the other, so the animated head sits where the camera saw it: the viewer's default camera at the origin
 * looking down -z sees the recording's view.
 */
import { Document, NodeIO, type Accessor } from '@gltf-transform/core';
import { mat3, quat } from 'gl-matrix';
import type { RigidPose } from '../../engine/track/headPose.js';
import type { TrackedMesh } from '../../engine/trackedMesh.js';

export interface MeshFrame {
  readonly timeS: number;
  /** null: no face (or no pose) in this frame */
  readonly pose: RigidPose | null;
  readonly blendshapes: Float32Array | null;
}

export async function encodeTrackedGlb(mesh: TrackedMesh, identity: ArrayLike<number> | null, frames: readonly MeshFrame[]): Promise<Uint8Array> {
  const doc = new Document();
  doc.getRoot().getAsset().generator = 'facelive reconstruct';
  const buffer = doc.createBuffer();
  const acc = (type: 'SCALAR' | 'VEC2' | 'VEC3' | 'VEC4', array: Float32Array | Uint32Array): Accessor =>
    doc.createAccessor().setType(type).setArray(array).setBuffer(buffer);

  // glTF vertices carry one uv each: split mesh vertices on uv seams
  const key = new Map<number, number>();
  const source: number[] = [], uvOf: number[] = [];
  const indices = new Uint32Array(mesh.triangles.length);
  const U = mesh.uv.length / 2;
  for (let c = 0; c < mesh.triangles.length; c++) {
    const k = mesh.triangles[c] * U + mesh.triangleUvs[c];
    let v = key.get(k);
    if (v === undefined) {
      v = source.length;
      key.set(k, v);
      source.push(mesh.triangles[c]);
      uvOf.push(mesh.triangleUvs[c]);
    }
    indices[c] = v;
  }
  const spread = (perMesh: Float32Array) => {
    const out = new Float32Array(source.length * 3);
    source.forEach((s, i) => out.set(perMesh.subarray(s * 3, s * 3 + 3), i * 3));
    return out;
  };
  const uv = new Float32Array(source.length * 2);
  uvOf.forEach((u, i) => {
    uv[i * 2] = mesh.uv[u * 2];
    uv[i * 2 + 1] = 1 - mesh.uv[u * 2 + 1]; // glTF's v runs down the image
  });

  const prim = doc.createPrimitive()
    .setAttribute('POSITION', acc('VEC3', spread(mesh.identityBase(identity))))
    .setAttribute('TEXCOORD_0', acc('VEC2', uv))
    .setIndices(acc('SCALAR', indices));
  const E = mesh.expressionNames.length;
  for (let e = 0; e < E; e++) prim.addTarget(doc.createPrimitiveTarget(mesh.expressionNames[e]).setAttribute('POSITION', acc('VEC3', spread(mesh.expressionDelta(e)))));
  const gmesh = doc.createMesh('tracked_face').addPrimitive(prim).setWeights(new Array(E).fill(0));
  gmesh.setExtras({ targetNames: [...mesh.expressionNames] });

  const head = doc.createNode('head').setMesh(gmesh);
  // camera frame (x right, y down, z forward) → glTF (x right, y up, z backward): a half turn about x
  const root = doc.createNode('camera_frame').setRotation([1, 0, 0, 0]).addChild(head);
  doc.getRoot().setDefaultScene(doc.createScene('recording').addChild(root));

  const T = frames.length;
  const times = Float32Array.from(frames, (f) => f.timeS);
  const weights = new Float32Array(T * E), rotation = new Float32Array(T * 4), translation = new Float32Array(T * 3), scale = new Float32Array(T * 3);
  const q = quat.create(), m = mat3.create();
  frames.forEach((f, i) => {
    if (!f.pose) {
      rotation[i * 4 + 3] = 1;
      return;
    }
    const R = f.pose.rotation;
    // gl-matrix matrices are column-major; ours are row-major
    mat3.set(m, R[0], R[3], R[6], R[1], R[4], R[7], R[2], R[5], R[8]);
    quat.fromMat3(q, m);
    quat.normalize(q, q);
    rotation.set(q, i * 4);
    translation.set(f.pose.translationM, i * 3);
    scale.fill(1, i * 3, i * 3 + 3);
    if (f.blendshapes) weights.set(f.blendshapes, i * E);
  });
  if (T > 0) {
    const anim = doc.createAnimation('tracking');
    const input = acc('SCALAR', times);
    const channel = (path: 'weights' | 'rotation' | 'translation' | 'scale', type: 'SCALAR' | 'VEC3' | 'VEC4', out: Float32Array, interpolation: 'LINEAR' | 'STEP') => {
      const sampler = doc.createAnimationSampler().setInput(input).setOutput(acc(type, out)).setInterpolation(interpolation);
      anim.addSampler(sampler).addChannel(doc.createAnimationChannel().setTargetNode(head).setTargetPath(path).setSampler(sampler));
    };
    channel('weights', 'SCALAR', weights, 'LINEAR');
    channel('rotation', 'VEC4', rotation, 'LINEAR');
    channel('translation', 'VEC3', translation, 'LINEAR');
    channel('scale', 'VEC3', scale, 'STEP');
  }
  return new NodeIO().writeBinary(doc);
}

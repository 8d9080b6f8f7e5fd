/** Binary little-endian PLY point clouds with normals and colours (readable by MeshLab, Open3D, Blender). */

import type { PointCloud } from '../../engine/pointCloud.js';

export type { PointCloud };

export function encodePly(cloud: PointCloud): Buffer {
  const n = cloud.positions.length / 3;
  const header =
    'ply\nformat binary_little_endian 1.0\ncomment facelive point cloud: metres, camera frame (x right, y down, z forward)\n' +
    `element vertex ${n}\nproperty float x\nproperty float y\nproperty float z\n` +
    'property float nx\nproperty float ny\nproperty float nz\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n';
  const head = Buffer.from(header, 'ascii');
  const body = Buffer.alloc(n * 27);
  for (let i = 0; i < n; i++) {
    const o = i * 27;
    for (let k = 0; k < 3; k++) body.writeFloatLE(cloud.positions[i * 3 + k], o + k * 4);
    for (let k = 0; k < 3; k++) body.writeFloatLE(cloud.normals[i * 3 + k], o + 12 + k * 4);
    for (let k = 0; k < 3; k++) body[o + 24 + k] = cloud.colors[i * 3 + k];
  }
  return Buffer.concat([head, body]);
}

import { describe, expect, it } from 'vitest';
import type { LineageGraph } from '../../contracts/assets.js';
import { renderTree } from './lineage.js';

const g: LineageGraph = {
  root: 'model:bot@2.0.0',
  nodes: [
    { id: 'model:bot@2.0.0', kind: 'model', name: 'bot', version: '2.0.0', state: 'ready', depth: 0 },
    { id: 'model:bot@1.0.0', kind: 'model', name: 'bot', version: '1.0.0', state: 'deprecated', depth: -1 },
    { id: 'dataset:chats@1.0.0', kind: 'dataset', name: 'chats', version: '1.0.0', state: 'ready', depth: -1 },
    { id: 'external:meta-llama/Llama-3', kind: null, name: 'meta-llama/Llama-3', version: null, state: null, depth: -2 },
  ],
  edges: [
    { from: 'model:bot@2.0.0', to: 'model:bot@1.0.0', relation: 'parent' },
    { from: 'model:bot@2.0.0', to: 'dataset:chats@1.0.0', relation: 'dataset' },
    { from: 'model:bot@1.0.0', to: 'external:meta-llama/Llama-3', relation: 'base_model' },
    { from: 'model:bot@1.0.0', to: 'dataset:chats@1.0.0', relation: 'dataset' },
  ],
  truncated: false,
};

describe('renderTree', () => {
  it('draws upstream lineage as a tree and marks a node reached twice', () => {
    expect(renderTree(g, 'upstream')).toEqual([
      '  ├─ dataset: dataset:chats@1.0.0 (ready)',
      '  └─ parent: model:bot@1.0.0 (deprecated)',
      '     ├─ dataset: dataset:chats@1.0.0 (ready) (see above)',
      '     └─ base_model: external:meta-llama/Llama-3',
    ]);
  });
  it('draws downstream from the other end of the same edges', () => {
    const down = { ...g, root: 'dataset:chats@1.0.0' };
    expect(renderTree(down, 'downstream')).toEqual([
      '  ├─ dataset: model:bot@1.0.0 (deprecated)',
      '  │  └─ parent: model:bot@2.0.0 (ready)',
      '  └─ dataset: model:bot@2.0.0 (ready) (see above)',
    ]);
  });
});

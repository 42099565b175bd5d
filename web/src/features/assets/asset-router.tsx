/** Pages under /models, /datasets and /prompts after the name: the asset, one version, a comparison. */
import { useParams } from 'react-router';
import type { AssetKind } from '../../../../src/contracts/asset-names.js';
import { parseAssetPath } from '../../app/paths.js';
import { Empty } from '../../ui/states.js';
import { AssetPage } from './asset-page.js';
import { ComparePage } from './compare-page.js';
import { VersionPage } from './version-page.js';

export default function AssetRouter({ kind }: { kind: AssetKind }) {
  const route = parseAssetPath(useParams()['*'] ?? '');
  if (!route) return <Empty title="No such page">Check the address.</Empty>;
  if (route.page === 'asset') return <AssetPage kind={kind} name={route.name} />;
  if (route.page === 'version') return <VersionPage kind={kind} name={route.name} version={route.version} />;
  return <ComparePage kind={kind} name={route.name} />;
}
